import { Migration } from '@mikro-orm/migrations';

export class Migration20261126091022_ach_windows extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`ach_entries\` (\`attempt_id\` varchar(40) not null, \`transfer_id\` varchar(40) not null, \`trace_number\` varchar(15) not null, \`window_id\` varchar(40) not null, \`entry_class\` varchar(3) not null, \`amount_minor\` bigint not null, \`status\` varchar(12) not null, \`code\` varchar(8) null, \`effective_date\` varchar(10) null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`attempt_id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`ach_entries\` add unique \`ach_entries_trace_number_unique\`(\`trace_number\`);`);
    this.addSql(`alter table \`ach_entries\` add index \`ach_entries_window_id_status_index\`(\`window_id\`, \`status\`);`);

    this.addSql(`create table \`ach_windows\` (\`id\` varchar(40) not null, \`cutoff_at\` datetime(3) not null, \`status\` varchar(12) not null, \`file_id\` varchar(40) null, \`entry_count\` int not null, \`created_at\` datetime(3) not null, \`updated_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`ach_entries\`;`);

    this.addSql(`drop table if exists \`ach_windows\`;`);

  }

}
