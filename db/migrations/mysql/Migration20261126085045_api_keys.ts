import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085045_api_keys extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`api_keys\` (\`id\` varchar(40) not null, \`client_id\` varchar(40) not null, \`key_hash\` varchar(64) not null, \`last4\` varchar(4) not null, \`created_at\` datetime(3) not null, \`revoked_at\` datetime(3) null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`api_keys\` add unique \`api_keys_key_hash_unique\`(\`key_hash\`);`);
    this.addSql(`alter table \`api_keys\` add index \`api_keys_client_id_index\`(\`client_id\`);`);

    // Each client's existing key moves to api_keys under an ID derived from the client's own; only
    // its hash was ever stored, so its last four characters are unknown.
    this.addSql(`insert into \`api_keys\` (\`id\`, \`client_id\`, \`key_hash\`, \`last4\`, \`created_at\`, \`revoked_at\`) select concat('key_', substr(\`id\`, 4)), \`id\`, \`api_key_hash\`, '****', \`created_at\`, null from \`clients\`;`);

    this.addSql(`alter table \`clients\` drop index \`clients_api_key_hash_unique\`;`);
    this.addSql(`alter table \`clients\` drop column \`api_key_hash\`;`);
  }

}
