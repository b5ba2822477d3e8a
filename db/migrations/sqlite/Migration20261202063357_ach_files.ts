import { Migration } from '@mikro-orm/migrations';

export class Migration20261202063357_ach_files extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`ach_files\` (\`id\` text not null, \`window_id\` text not null, \`seq\` integer not null, \`creation_date\` text not null, \`creation_time\` text not null, \`id_modifier\` text not null, \`status\` text not null, \`refusal\` text null, \`entry_count\` integer not null, \`total_minor\` bigint not null, \`content\` mediumtext not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`ach_files_window_id_index\` on \`ach_files\` (\`window_id\`);`);
    this.addSql(`create unique index \`ach_files_creation_date_creation_time_id_modifier_unique\` on \`ach_files\` (\`creation_date\`, \`creation_time\`, \`id_modifier\`);`);

    this.addSql(`alter table \`ach_entries\` add column \`file_id\` text null;`);
    this.addSql(`alter table \`ach_entries\` add column \`refusal\` text null;`);
  }

}
