import { Migration } from '@mikro-orm/migrations';

export class Migration20261202170115_bank_inboxes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`bank_inbox_cursors\` (\`rail\` text not null, \`cursor\` text null, \`lease_owner\` text null, \`lease_until\` datetime null, \`updated_at\` datetime not null, primary key (\`rail\`));`);

    this.addSql(`create table \`bank_message_facts\` (\`id\` text not null, \`message_id\` text not null, \`rail\` text not null, \`kind\` text not null, \`rail_reference\` text not null, \`code\` text null, \`amount_minor\` bigint null, \`currency\` text null, \`booked_at\` datetime null, \`attempt_id\` text null, \`transfer_id\` text null, \`status\` text not null, \`signal_attempts\` integer not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`bank_message_facts_rail_status_index\` on \`bank_message_facts\` (\`rail\`, \`status\`);`);
    this.addSql(`create index \`bank_message_facts_attempt_id_kind_index\` on \`bank_message_facts\` (\`attempt_id\`, \`kind\`);`);
    this.addSql(`create index \`bank_message_facts_message_id_index\` on \`bank_message_facts\` (\`message_id\`);`);

    this.addSql(`create table \`bank_messages\` (\`id\` text not null, \`rail\` text not null, \`bank_message_id\` text not null, \`type\` text not null, \`status\` text not null, \`sent_at\` datetime not null, \`received_at\` datetime not null, \`raw\` mediumtext not null, primary key (\`id\`));`);
    this.addSql(`create index \`bank_messages_rail_status_index\` on \`bank_messages\` (\`rail\`, \`status\`);`);
    this.addSql(`create unique index \`bank_messages_rail_bank_message_id_unique\` on \`bank_messages\` (\`rail\`, \`bank_message_id\`);`);
  }

}
