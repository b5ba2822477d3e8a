import { Migration } from '@mikro-orm/migrations';

export class Migration20261126084950_operator_actions extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`operator_actions\` (\`id\` varchar(100) not null, \`transfer_id\` varchar(40) not null, \`action\` varchar(16) not null, \`operator\` varchar(100) not null, \`reason\` varchar(500) not null, \`channel\` varchar(16) not null, \`via\` varchar(16) not null, \`outcome\` varchar(16) not null, \`detail\` varchar(500) not null, \`status_before\` varchar(24) not null, \`at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`operator_actions\` add index \`operator_actions_transfer_id_at_index\`(\`transfer_id\`, \`at\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`operator_actions\`;`);
  }

}
