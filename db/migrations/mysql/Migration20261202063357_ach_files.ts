import { Migration } from '@mikro-orm/migrations';

export class Migration20261202063357_ach_files extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`ach_files\` (\`id\` varchar(40) not null, \`window_id\` varchar(40) not null, \`seq\` int not null, \`creation_date\` varchar(6) not null, \`creation_time\` varchar(4) not null, \`id_modifier\` varchar(1) not null, \`status\` varchar(12) not null, \`refusal\` varchar(500) null, \`entry_count\` int not null, \`total_minor\` bigint not null, \`content\` mediumtext not null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`ach_files\` add index \`ach_files_window_id_index\`(\`window_id\`);`);
    this.addSql(`alter table \`ach_files\` add unique \`ach_files_creation_date_creation_time_id_modifier_unique\`(\`creation_date\`, \`creation_time\`, \`id_modifier\`);`);

    this.addSql(`alter table \`ach_entries\` add \`file_id\` varchar(40) null, add \`refusal\` varchar(200) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`ach_files\`;`);

    this.addSql(`alter table \`ach_entries\` drop column \`file_id\`, drop column \`refusal\`;`);
  }

}
