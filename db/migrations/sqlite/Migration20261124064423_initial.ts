import { Migration } from '@mikro-orm/migrations';

export class Migration20261124064423_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`accounts\` (\`id\` text not null, \`account_key\` text not null, \`client_id\` text null, \`currency\` text not null, \`kind\` text not null, \`must_not_overdraw\` integer not null, \`debits_pending_minor\` bigint not null default 0, \`debits_posted_minor\` bigint not null default 0, \`credits_pending_minor\` bigint not null default 0, \`credits_posted_minor\` bigint not null default 0, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`accounts_account_key_unique\` on \`accounts\` (\`account_key\`);`);
    this.addSql(`create index \`accounts_client_id_index\` on \`accounts\` (\`client_id\`);`);

    this.addSql(`create table \`attempts\` (\`id\` text not null, \`transfer_id\` text not null, \`attempt_no\` integer not null, \`rail\` text not null, \`rail_reference\` text not null, \`status\` text not null, \`failure_code\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`attempts_rail_reference_unique\` on \`attempts\` (\`rail_reference\`);`);
    this.addSql(`create unique index \`attempts_transfer_id_attempt_no_unique\` on \`attempts\` (\`transfer_id\`, \`attempt_no\`);`);

    this.addSql(`create table \`clients\` (\`id\` text not null, \`name\` text not null, \`api_key_hash\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`clients_api_key_hash_unique\` on \`clients\` (\`api_key_hash\`);`);

    this.addSql(`create table \`deposits\` (\`id\` text not null, \`client_id\` text not null, \`currency\` text not null, \`amount_minor\` bigint not null, \`reference\` text not null, \`posting_id\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`deposits_client_id_reference_unique\` on \`deposits\` (\`client_id\`, \`reference\`);`);

    this.addSql(`create table \`idempotency_keys\` (\`id\` text not null, \`scope\` text not null, \`idem_key\` text not null, \`fingerprint\` text not null, \`state\` text not null, \`response_status\` integer null, \`response_body\` text null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`idempotency_keys_created_at_index\` on \`idempotency_keys\` (\`created_at\`);`);

    this.addSql(`create table \`postings\` (\`id\` text not null, \`external_id\` text not null, \`kind\` text not null, \`pending_id\` text null, \`debit_account_id\` text not null, \`credit_account_id\` text not null, \`currency\` text not null, \`amount_minor\` bigint not null, \`code\` text not null, \`transfer_id\` text null, \`expires_at\` datetime null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create unique index \`postings_external_id_unique\` on \`postings\` (\`external_id\`);`);
    this.addSql(`create unique index \`postings_pending_id_unique\` on \`postings\` (\`pending_id\`);`);
    this.addSql(`create index \`postings_transfer_id_index\` on \`postings\` (\`transfer_id\`);`);
    this.addSql(`create index \`postings_debit_account_id_index\` on \`postings\` (\`debit_account_id\`);`);
    this.addSql(`create index \`postings_credit_account_id_index\` on \`postings\` (\`credit_account_id\`);`);

    this.addSql(`create table \`rail_counters\` (\`name\` text not null, \`value\` bigint not null, primary key (\`name\`));`);

    this.addSql(`create table \`transfers\` (\`id\` text not null, \`client_id\` text not null, \`status\` text not null, \`amount_minor\` bigint not null, \`currency\` text not null, \`target_currency\` text not null, \`target_amount_minor\` bigint not null, \`fx_rate\` text null, \`quote_id\` text null, \`fee_minor\` bigint not null default 0, \`rail\` text not null, \`beneficiary\` text not null, \`reference\` text null, \`metadata\` text null, \`failure_code\` text null, \`failure_message\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, \`version\` integer not null default 1, primary key (\`id\`));`);
    this.addSql(`create index \`transfers_client_id_created_at_index\` on \`transfers\` (\`client_id\`, \`created_at\`);`);
    this.addSql(`create index \`transfers_status_index\` on \`transfers\` (\`status\`);`);

    this.addSql(`create table \`transfer_events\` (\`id\` text not null, \`transfer_id\` text not null, \`status\` text not null, \`reason\` text null, \`at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`transfer_events_transfer_id_at_index\` on \`transfer_events\` (\`transfer_id\`, \`at\`);`);
  }

}
