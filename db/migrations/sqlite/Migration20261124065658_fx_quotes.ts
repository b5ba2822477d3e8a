import { Migration } from '@mikro-orm/migrations';

export class Migration20261124065658_fx_quotes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`fx_quotes\` (\`id\` text not null, \`client_id\` text not null, \`source_currency\` text not null, \`target_currency\` text not null, \`source_amount_minor\` bigint not null, \`fee_minor\` bigint not null, \`converted_minor\` bigint not null, \`mid_rate\` text not null, \`rate\` text not null, \`target_amount_minor\` bigint not null, \`mid_target_amount_minor\` bigint not null, \`expires_at\` datetime not null, \`created_at\` datetime not null, \`transfer_id\` text null, primary key (\`id\`));`);
    this.addSql(`create unique index \`fx_quotes_transfer_id_unique\` on \`fx_quotes\` (\`transfer_id\`);`);
    this.addSql(`create index \`fx_quotes_client_id_created_at_index\` on \`fx_quotes\` (\`client_id\`, \`created_at\`);`);
  }

}
