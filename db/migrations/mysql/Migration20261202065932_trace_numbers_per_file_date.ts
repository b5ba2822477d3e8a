import { Migration } from '@mikro-orm/migrations';

export class Migration20261202065932_trace_numbers_per_file_date extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`ach_corrections\` drop index \`ach_corrections_trace_number_code_unique\`;`);
    this.addSql(`alter table \`ach_corrections\` add unique \`ach_corrections_transfer_id_trace_number_code_unique\`(\`transfer_id\`, \`trace_number\`, \`code\`);`);

    this.addSql(`alter table \`ach_entries\` drop index \`ach_entries_trace_number_unique\`;`);
    this.addSql(`alter table \`ach_entries\` add index \`ach_entries_trace_number_index\`(\`trace_number\`);`);

    this.addSql(`alter table \`attempts\` drop index \`attempts_rail_reference_unique\`;`);
    this.addSql(`alter table \`attempts\` add index \`attempts_rail_reference_index\`(\`rail_reference\`);`);

    this.addSql(`alter table \`reconciliation_matches\` drop index \`reconciliation_matches_rail_reference_unique\`;`);
    this.addSql(`alter table \`reconciliation_matches\` add index \`reconciliation_matches_rail_reference_index\`(\`rail_reference\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`ach_entries\` drop index \`ach_entries_trace_number_index\`;`);
    this.addSql(`alter table \`ach_entries\` add unique \`ach_entries_trace_number_unique\`(\`trace_number\`);`);

    this.addSql(`alter table \`attempts\` drop index \`attempts_rail_reference_index\`;`);
    this.addSql(`alter table \`attempts\` add unique \`attempts_rail_reference_unique\`(\`rail_reference\`);`);

    this.addSql(`alter table \`reconciliation_matches\` drop index \`reconciliation_matches_rail_reference_index\`;`);
    this.addSql(`alter table \`reconciliation_matches\` add unique \`reconciliation_matches_rail_reference_unique\`(\`rail_reference\`);`);

    this.addSql(`alter table \`ach_corrections\` drop index \`ach_corrections_transfer_id_trace_number_code_unique\`;`);
    this.addSql(`alter table \`ach_corrections\` add unique \`ach_corrections_trace_number_code_unique\`(\`trace_number\`, \`code\`);`);
  }

}
