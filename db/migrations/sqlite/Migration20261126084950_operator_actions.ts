import { Migration } from '@mikro-orm/migrations';

export class Migration20261126084950_operator_actions extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`operator_actions\` (\`id\` text not null, \`transfer_id\` text not null, \`action\` text not null, \`operator\` text not null, \`reason\` text not null, \`channel\` text not null, \`via\` text not null, \`outcome\` text not null, \`detail\` text not null, \`status_before\` text not null, \`at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`operator_actions_transfer_id_at_index\` on \`operator_actions\` (\`transfer_id\`, \`at\`);`);
  }

}
