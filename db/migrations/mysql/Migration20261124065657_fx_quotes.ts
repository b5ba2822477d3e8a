import { Migration } from '@mikro-orm/migrations';

export class Migration20261124065657_fx_quotes extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`fx_quotes\` (\`id\` varchar(40) not null, \`client_id\` varchar(40) not null, \`source_currency\` varchar(3) not null, \`target_currency\` varchar(3) not null, \`source_amount_minor\` bigint not null, \`fee_minor\` bigint not null, \`converted_minor\` bigint not null, \`mid_rate\` varchar(40) not null, \`rate\` varchar(40) not null, \`target_amount_minor\` bigint not null, \`mid_target_amount_minor\` bigint not null, \`expires_at\` datetime(3) not null, \`created_at\` datetime(3) not null, \`transfer_id\` varchar(40) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`fx_quotes\` add unique \`fx_quotes_transfer_id_unique\`(\`transfer_id\`);`);
    this.addSql(`alter table \`fx_quotes\` add index \`fx_quotes_client_id_created_at_index\`(\`client_id\`, \`created_at\`);`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`fx_quotes\`;`);

  }

}
