import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085529_ach_corrections extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`ach_corrections\` (\`id\` varchar(40) not null, \`transfer_id\` varchar(40) not null, \`trace_number\` varchar(15) not null, \`code\` varchar(3) not null, \`corrected_data\` varchar(29) not null, \`received_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`ach_corrections\` add index \`ach_corrections_transfer_id_index\`(\`transfer_id\`);`);
    this.addSql(`alter table \`ach_corrections\` add unique \`ach_corrections_trace_number_code_unique\`(\`trace_number\`, \`code\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`ach_corrections\`;`);
  }

}
