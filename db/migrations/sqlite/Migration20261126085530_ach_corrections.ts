import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085530_ach_corrections extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`ach_corrections\` (\`id\` text not null, \`transfer_id\` text not null, \`trace_number\` text not null, \`code\` text not null, \`corrected_data\` text not null, \`received_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`ach_corrections_transfer_id_index\` on \`ach_corrections\` (\`transfer_id\`);`);
    this.addSql(`create unique index \`ach_corrections_trace_number_code_unique\` on \`ach_corrections\` (\`trace_number\`, \`code\`);`);
  }

}
