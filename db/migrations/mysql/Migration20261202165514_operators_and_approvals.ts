import { Migration } from '@mikro-orm/migrations';

export class Migration20261202165514_operators_and_approvals extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`approvals\` (\`id\` varchar(40) not null, \`kind\` varchar(24) not null, \`subject_id\` varchar(40) not null, \`transfer_id\` varchar(40) null, \`requested_by\` varchar(100) not null, \`request_reason\` varchar(500) not null, \`status\` varchar(16) not null, \`decided_by\` varchar(100) null, \`decision_reason\` varchar(500) null, \`action\` text not null, \`created_at\` datetime(3) not null, \`decided_at\` datetime(3) null, \`executed_at\` datetime(3) null, \`outcome\` varchar(500) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`approvals\` add index \`approvals_status_id_index\`(\`status\`, \`id\`);`);
    this.addSql(`alter table \`approvals\` add index \`approvals_subject_id_index\`(\`subject_id\`);`);

    this.addSql(`create table \`operators\` (\`id\` varchar(40) not null, \`name\` varchar(100) not null, \`role\` varchar(16) not null, \`key_hash\` varchar(64) not null, \`last4\` varchar(4) not null, \`created_by\` varchar(100) not null, \`created_at\` datetime(3) not null, \`revoked_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`operators\` add unique \`operators_name_unique\`(\`name\`);`);
    this.addSql(`alter table \`operators\` add unique \`operators_key_hash_unique\`(\`key_hash\`);`);

    this.addSql(`alter table \`clients\` add \`approval_threshold_minor\` text null;`);

    this.addSql(`alter table \`operator_actions\` add \`approval_id\` varchar(40) null;`);
    this.addSql(`alter table \`operator_actions\` modify \`transfer_id\` varchar(40) null, modify \`action\` varchar(24) not null;`);
    this.addSql(`alter table \`operator_actions\` add index \`operator_actions_approval_id_index\`(\`approval_id\`);`);

    this.addSql(`alter table \`reconciliation_breaks\` add \`resolved_by\` varchar(100) null;`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`approvals\`;`);

    this.addSql(`drop table if exists \`operators\`;`);

    this.addSql(`alter table \`reconciliation_breaks\` drop column \`resolved_by\`;`);

    this.addSql(`alter table \`clients\` drop column \`approval_threshold_minor\`;`);

    this.addSql(`alter table \`operator_actions\` drop index \`operator_actions_approval_id_index\`;`);
    this.addSql(`alter table \`operator_actions\` drop column \`approval_id\`;`);

    this.addSql(`alter table \`operator_actions\` modify \`transfer_id\` varchar(40) not null, modify \`action\` varchar(16) not null;`);

  }

}
