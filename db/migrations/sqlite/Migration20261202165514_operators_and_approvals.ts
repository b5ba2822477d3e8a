import { Migration } from '@mikro-orm/migrations';

export class Migration20261202165514_operators_and_approvals extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`approvals\` (\`id\` text not null, \`kind\` text not null, \`subject_id\` text not null, \`transfer_id\` text null, \`requested_by\` text not null, \`request_reason\` text not null, \`status\` text not null, \`decided_by\` text null, \`decision_reason\` text null, \`action\` text not null, \`created_at\` datetime not null, \`decided_at\` datetime null, \`executed_at\` datetime null, \`outcome\` text null, primary key (\`id\`));`);
    this.addSql(`create index \`approvals_status_id_index\` on \`approvals\` (\`status\`, \`id\`);`);
    this.addSql(`create index \`approvals_subject_id_index\` on \`approvals\` (\`subject_id\`);`);

    this.addSql(`create table \`operators\` (\`id\` text not null, \`name\` text not null, \`role\` text not null, \`key_hash\` text not null, \`last4\` text not null, \`created_by\` text not null, \`created_at\` datetime not null, \`revoked_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create unique index \`operators_name_unique\` on \`operators\` (\`name\`);`);
    this.addSql(`create unique index \`operators_key_hash_unique\` on \`operators\` (\`key_hash\`);`);

    this.addSql(`alter table \`clients\` add column \`approval_threshold_minor\` text null;`);

    // SQLite cannot make a column nullable in place: the table is rebuilt with transfer_id nullable
    // (an action on a break with no transfer) and the new approval_id.
    this.addSql(`create table \`operator_actions_new\` (\`id\` text not null, \`transfer_id\` text null, \`action\` text not null, \`operator\` text not null, \`reason\` text not null, \`channel\` text not null, \`via\` text not null, \`outcome\` text not null, \`detail\` text not null, \`status_before\` text not null, \`at\` datetime not null, \`approval_id\` text null, primary key (\`id\`));`);
    this.addSql(`insert into \`operator_actions_new\` (\`id\`, \`transfer_id\`, \`action\`, \`operator\`, \`reason\`, \`channel\`, \`via\`, \`outcome\`, \`detail\`, \`status_before\`, \`at\`) select \`id\`, \`transfer_id\`, \`action\`, \`operator\`, \`reason\`, \`channel\`, \`via\`, \`outcome\`, \`detail\`, \`status_before\`, \`at\` from \`operator_actions\`;`);
    this.addSql(`drop table \`operator_actions\`;`);
    this.addSql(`alter table \`operator_actions_new\` rename to \`operator_actions\`;`);
    this.addSql(`create index \`operator_actions_transfer_id_at_index\` on \`operator_actions\` (\`transfer_id\`, \`at\`);`);
    this.addSql(`create index \`operator_actions_approval_id_index\` on \`operator_actions\` (\`approval_id\`);`);

    this.addSql(`alter table \`reconciliation_breaks\` add column \`resolved_by\` text null;`);
  }

}
