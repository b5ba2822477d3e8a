import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085049_reconciliation extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`reconciliation_breaks\` (\`id\` text not null, \`dedupe_key\` text not null, \`kind\` text not null, \`status\` text not null, \`rail\` text null, \`currency\` text not null, \`statement_date\` text null, \`rail_reference\` text null, \`transfer_id\` text null, \`expected_minor\` bigint null, \`actual_minor\` bigint null, \`detail\` text not null, \`created_at\` datetime not null, \`resolved_at\` datetime null, \`resolution\` text null, primary key (\`id\`));`);
    this.addSql(`create unique index \`reconciliation_breaks_dedupe_key_unique\` on \`reconciliation_breaks\` (\`dedupe_key\`);`);
    this.addSql(`create index \`reconciliation_breaks_status_id_index\` on \`reconciliation_breaks\` (\`status\`, \`id\`);`);
    this.addSql(`create index \`reconciliation_breaks_transfer_id_index\` on \`reconciliation_breaks\` (\`transfer_id\`);`);

    this.addSql(`create table \`reconciliation_matches\` (\`attempt_id\` text not null, \`transfer_id\` text not null, \`rail_reference\` text not null, \`statement_id\` text not null, \`statement_date\` text not null, \`account_servicer_ref\` text not null, \`amount_minor\` bigint not null, \`charges_minor\` bigint not null default 0, \`beneficiary_received_minor\` bigint not null, \`matched_at\` datetime not null, primary key (\`attempt_id\`));`);
    this.addSql(`create unique index \`reconciliation_matches_transfer_id_unique\` on \`reconciliation_matches\` (\`transfer_id\`);`);
    this.addSql(`create unique index \`reconciliation_matches_rail_reference_unique\` on \`reconciliation_matches\` (\`rail_reference\`);`);
  }

}
