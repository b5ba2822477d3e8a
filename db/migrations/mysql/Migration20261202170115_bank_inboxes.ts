import { Migration } from '@mikro-orm/migrations';

export class Migration20261202170115_bank_inboxes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`bank_inbox_cursors\` (\`rail\` varchar(16) not null, \`cursor\` varchar(40) null, \`lease_owner\` varchar(64) null, \`lease_until\` datetime(3) null, \`updated_at\` datetime(3) not null, primary key (\`rail\`)) default character set utf8mb4 engine = InnoDB;`);

    this.addSql(`create table \`bank_message_facts\` (\`id\` varchar(48) not null, \`message_id\` varchar(40) not null, \`rail\` varchar(16) not null, \`kind\` varchar(24) not null, \`rail_reference\` varchar(64) not null, \`code\` varchar(16) null, \`amount_minor\` bigint null, \`currency\` varchar(3) null, \`booked_at\` datetime(3) null, \`attempt_id\` varchar(40) null, \`transfer_id\` varchar(40) null, \`status\` varchar(16) not null, \`signal_attempts\` int not null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`bank_message_facts\` add index \`bank_message_facts_rail_status_index\`(\`rail\`, \`status\`);`);
    this.addSql(`alter table \`bank_message_facts\` add index \`bank_message_facts_attempt_id_kind_index\`(\`attempt_id\`, \`kind\`);`);
    this.addSql(`alter table \`bank_message_facts\` add index \`bank_message_facts_message_id_index\`(\`message_id\`);`);

    this.addSql(`create table \`bank_messages\` (\`id\` varchar(40) not null, \`rail\` varchar(16) not null, \`bank_message_id\` varchar(64) not null, \`type\` varchar(24) not null, \`status\` varchar(12) not null, \`sent_at\` datetime(3) not null, \`received_at\` datetime(3) not null, \`raw\` mediumtext not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`bank_messages\` add index \`bank_messages_rail_status_index\`(\`rail\`, \`status\`);`);
    this.addSql(`alter table \`bank_messages\` add unique \`bank_messages_rail_bank_message_id_unique\`(\`rail\`, \`bank_message_id\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`bank_inbox_cursors\`;`);

    this.addSql(`drop table if exists \`bank_message_facts\`;`);

    this.addSql(`drop table if exists \`bank_messages\`;`);
  }

}
