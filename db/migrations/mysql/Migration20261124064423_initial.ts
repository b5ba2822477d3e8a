import { Migration } from '@mikro-orm/migrations';

export class Migration20261124064423_initial extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`accounts\` (\`id\` varchar(40) not null, \`account_key\` varchar(120) not null, \`client_id\` varchar(40) null, \`currency\` varchar(3) not null, \`kind\` varchar(16) not null, \`must_not_overdraw\` tinyint(1) not null, \`debits_pending_minor\` bigint not null default 0, \`debits_posted_minor\` bigint not null default 0, \`credits_pending_minor\` bigint not null default 0, \`credits_posted_minor\` bigint not null default 0, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`accounts\` add unique \`accounts_account_key_unique\`(\`account_key\`);`);
    this.addSql(`alter table \`accounts\` add index \`accounts_client_id_index\`(\`client_id\`);`);

    this.addSql(`create table \`attempts\` (\`id\` varchar(40) not null, \`transfer_id\` varchar(40) not null, \`attempt_no\` int not null, \`rail\` varchar(16) not null, \`rail_reference\` varchar(64) not null, \`status\` varchar(16) not null, \`failure_code\` varchar(40) null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`attempts\` add unique \`attempts_rail_reference_unique\`(\`rail_reference\`);`);
    this.addSql(`alter table \`attempts\` add unique \`attempts_transfer_id_attempt_no_unique\`(\`transfer_id\`, \`attempt_no\`);`);

    this.addSql(`create table \`clients\` (\`id\` varchar(40) not null, \`name\` varchar(200) not null, \`api_key_hash\` varchar(64) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`clients\` add unique \`clients_api_key_hash_unique\`(\`api_key_hash\`);`);

    this.addSql(`create table \`deposits\` (\`id\` varchar(40) not null, \`client_id\` varchar(40) not null, \`currency\` varchar(3) not null, \`amount_minor\` bigint not null, \`reference\` varchar(140) not null, \`posting_id\` varchar(40) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`deposits\` add unique \`deposits_client_id_reference_unique\`(\`client_id\`, \`reference\`);`);

    this.addSql(`create table \`idempotency_keys\` (\`id\` varchar(64) not null, \`scope\` varchar(40) not null, \`idem_key\` varchar(255) not null, \`fingerprint\` varchar(64) not null, \`state\` varchar(16) not null, \`response_status\` int null, \`response_body\` text null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`idempotency_keys\` add index \`idempotency_keys_created_at_index\`(\`created_at\`);`);

    this.addSql(`create table \`postings\` (\`id\` varchar(40) not null, \`external_id\` varchar(160) not null, \`kind\` varchar(16) not null, \`pending_id\` varchar(40) null, \`debit_account_id\` varchar(40) not null, \`credit_account_id\` varchar(40) not null, \`currency\` varchar(3) not null, \`amount_minor\` bigint not null, \`code\` varchar(40) not null, \`transfer_id\` varchar(40) null, \`expires_at\` datetime(3) null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`postings\` add unique \`postings_external_id_unique\`(\`external_id\`);`);
    this.addSql(`alter table \`postings\` add unique \`postings_pending_id_unique\`(\`pending_id\`);`);
    this.addSql(`alter table \`postings\` add index \`postings_transfer_id_index\`(\`transfer_id\`);`);
    this.addSql(`alter table \`postings\` add index \`postings_debit_account_id_index\`(\`debit_account_id\`);`);
    this.addSql(`alter table \`postings\` add index \`postings_credit_account_id_index\`(\`credit_account_id\`);`);

    this.addSql(`create table \`rail_counters\` (\`name\` varchar(40) not null, \`value\` bigint not null, primary key (\`name\`)) default character set utf8mb4 engine = InnoDB;`);

    this.addSql(`create table \`transfers\` (\`id\` varchar(40) not null, \`client_id\` varchar(40) not null, \`status\` varchar(24) not null, \`amount_minor\` bigint not null, \`currency\` varchar(3) not null, \`target_currency\` varchar(3) not null, \`target_amount_minor\` bigint not null, \`fx_rate\` varchar(40) null, \`quote_id\` varchar(40) null, \`fee_minor\` bigint not null default 0, \`rail\` varchar(16) not null, \`beneficiary\` text not null, \`reference\` varchar(140) null, \`metadata\` text null, \`failure_code\` varchar(40) null, \`failure_message\` varchar(500) null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, \`version\` int not null default 1, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`transfers\` add index \`transfers_client_id_created_at_index\`(\`client_id\`, \`created_at\`);`);
    this.addSql(`alter table \`transfers\` add index \`transfers_status_index\`(\`status\`);`);

    this.addSql(`create table \`transfer_events\` (\`id\` varchar(40) not null, \`transfer_id\` varchar(40) not null, \`status\` varchar(24) not null, \`reason\` varchar(500) null, \`at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`transfer_events\` add index \`transfer_events_transfer_id_at_index\`(\`transfer_id\`, \`at\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`accounts\`;`);

    this.addSql(`drop table if exists \`attempts\`;`);

    this.addSql(`drop table if exists \`clients\`;`);

    this.addSql(`drop table if exists \`deposits\`;`);

    this.addSql(`drop table if exists \`idempotency_keys\`;`);

    this.addSql(`drop table if exists \`postings\`;`);

    this.addSql(`drop table if exists \`rail_counters\`;`);

    this.addSql(`drop table if exists \`transfers\`;`);

    this.addSql(`drop table if exists \`transfer_events\`;`);
  }

}
