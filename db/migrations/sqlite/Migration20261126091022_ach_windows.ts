import { Migration } from '@mikro-orm/migrations';

export class Migration20261126091022_ach_windows extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`ach_entries\` (\`attempt_id\` text not null, \`transfer_id\` text not null, \`trace_number\` text not null, \`window_id\` text not null, \`entry_class\` text not null, \`amount_minor\` bigint not null, \`status\` text not null, \`code\` text null, \`effective_date\` text null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`attempt_id\`));`);
    this.addSql(`create unique index \`ach_entries_trace_number_unique\` on \`ach_entries\` (\`trace_number\`);`);
    this.addSql(`create index \`ach_entries_window_id_status_index\` on \`ach_entries\` (\`window_id\`, \`status\`);`);

    this.addSql(`create table \`ach_windows\` (\`id\` text not null, \`cutoff_at\` datetime not null, \`status\` text not null, \`file_id\` text null, \`entry_count\` integer not null, \`created_at\` datetime not null, \`updated_at\` datetime not null, primary key (\`id\`));`);
  }

}
