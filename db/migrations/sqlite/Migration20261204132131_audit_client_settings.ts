import { Migration } from '@mikro-orm/migrations';

export class Migration20261204132131_audit_client_settings extends Migration {

  override async up(): Promise<void> {
    // SQLite cannot make a column nullable in place: the table is rebuilt with status_before
    // nullable (an admin's change to a client's settings is on no transfer) and the new client_id.
    this.addSql(`create table \`operator_actions_new\` (\`id\` text not null, \`transfer_id\` text null, \`action\` text not null, \`operator\` text not null, \`reason\` text not null, \`channel\` text not null, \`via\` text not null, \`outcome\` text not null, \`detail\` text not null, \`status_before\` text null, \`at\` datetime not null, \`approval_id\` text null, \`client_id\` text null, primary key (\`id\`));`);
    this.addSql(`insert into \`operator_actions_new\` (\`id\`, \`transfer_id\`, \`action\`, \`operator\`, \`reason\`, \`channel\`, \`via\`, \`outcome\`, \`detail\`, \`status_before\`, \`at\`, \`approval_id\`) select \`id\`, \`transfer_id\`, \`action\`, \`operator\`, \`reason\`, \`channel\`, \`via\`, \`outcome\`, \`detail\`, \`status_before\`, \`at\`, \`approval_id\` from \`operator_actions\`;`);
    this.addSql(`drop table \`operator_actions\`;`);
    this.addSql(`alter table \`operator_actions_new\` rename to \`operator_actions\`;`);
    this.addSql(`create index \`operator_actions_transfer_id_at_index\` on \`operator_actions\` (\`transfer_id\`, \`at\`);`);
    this.addSql(`create index \`operator_actions_approval_id_index\` on \`operator_actions\` (\`approval_id\`);`);
    this.addSql(`create index \`operator_actions_client_id_index\` on \`operator_actions\` (\`client_id\`);`);
  }

}
