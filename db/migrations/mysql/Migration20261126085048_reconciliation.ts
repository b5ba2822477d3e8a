import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085048_reconciliation extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`reconciliation_breaks\` (\`id\` varchar(40) not null, \`dedupe_key\` varchar(200) not null, \`kind\` varchar(32) not null, \`status\` varchar(16) not null, \`rail\` varchar(16) null, \`currency\` varchar(3) not null, \`statement_date\` varchar(10) null, \`rail_reference\` varchar(64) null, \`transfer_id\` varchar(40) null, \`expected_minor\` bigint null, \`actual_minor\` bigint null, \`detail\` varchar(500) not null, \`created_at\` datetime(3) not null, \`resolved_at\` datetime(3) null, \`resolution\` varchar(500) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`reconciliation_breaks\` add unique \`reconciliation_breaks_dedupe_key_unique\`(\`dedupe_key\`);`);
    this.addSql(`alter table \`reconciliation_breaks\` add index \`reconciliation_breaks_status_id_index\`(\`status\`, \`id\`);`);
    this.addSql(`alter table \`reconciliation_breaks\` add index \`reconciliation_breaks_transfer_id_index\`(\`transfer_id\`);`);

    this.addSql(`create table \`reconciliation_matches\` (\`attempt_id\` varchar(40) not null, \`transfer_id\` varchar(40) not null, \`rail_reference\` varchar(64) not null, \`statement_id\` varchar(64) not null, \`statement_date\` varchar(10) not null, \`account_servicer_ref\` varchar(64) not null, \`amount_minor\` bigint not null, \`charges_minor\` bigint not null default 0, \`beneficiary_received_minor\` bigint not null, \`matched_at\` datetime(3) not null, primary key (\`attempt_id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`reconciliation_matches\` add unique \`reconciliation_matches_transfer_id_unique\`(\`transfer_id\`);`);
    this.addSql(`alter table \`reconciliation_matches\` add unique \`reconciliation_matches_rail_reference_unique\`(\`rail_reference\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`reconciliation_breaks\`;`);
    this.addSql(`drop table if exists \`reconciliation_matches\`;`);
  }

}
