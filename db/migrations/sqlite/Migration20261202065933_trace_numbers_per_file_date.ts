import { Migration } from '@mikro-orm/migrations';

export class Migration20261202065933_trace_numbers_per_file_date extends Migration {

  override async up(): Promise<void> {
    this.addSql(`drop index \`ach_corrections_trace_number_code_unique\`;`);

    this.addSql(`create unique index \`ach_corrections_transfer_id_trace_number_code_unique\` on \`ach_corrections\` (\`transfer_id\`, \`trace_number\`, \`code\`);`);

    this.addSql(`drop index \`ach_entries_trace_number_unique\`;`);

    this.addSql(`create index \`ach_entries_trace_number_index\` on \`ach_entries\` (\`trace_number\`);`);

    this.addSql(`drop index \`attempts_rail_reference_unique\`;`);

    this.addSql(`create index \`attempts_rail_reference_index\` on \`attempts\` (\`rail_reference\`);`);

    this.addSql(`drop index \`reconciliation_matches_rail_reference_unique\`;`);

    this.addSql(`create index \`reconciliation_matches_rail_reference_index\` on \`reconciliation_matches\` (\`rail_reference\`);`);
  }

}
