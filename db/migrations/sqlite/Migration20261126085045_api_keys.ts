import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085045_api_keys extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`api_keys\` (\`id\` text not null, \`client_id\` text not null, \`key_hash\` text not null, \`last4\` text not null, \`created_at\` datetime not null, \`revoked_at\` datetime null, primary key (\`id\`));`);
    this.addSql(`create unique index \`api_keys_key_hash_unique\` on \`api_keys\` (\`key_hash\`);`);
    this.addSql(`create index \`api_keys_client_id_index\` on \`api_keys\` (\`client_id\`);`);

    // Each client's existing key moves to api_keys under an ID derived from the client's own; only
    // its hash was ever stored, so its last four characters are unknown.
    this.addSql(`insert into \`api_keys\` (\`id\`, \`client_id\`, \`key_hash\`, \`last4\`, \`created_at\`, \`revoked_at\`) select 'key_' || substr(\`id\`, 4), \`id\`, \`api_key_hash\`, '****', \`created_at\`, null from \`clients\`;`);

    this.addSql(`drop index \`clients_api_key_hash_unique\`;`);
    this.addSql(`alter table \`clients\` drop column \`api_key_hash\`;`);
  }

}
