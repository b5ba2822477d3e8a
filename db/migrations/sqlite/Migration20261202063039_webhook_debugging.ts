import { Migration } from '@mikro-orm/migrations';

export class Migration20261202063039_webhook_debugging extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`webhook_deliveries\` add column \`last_status_code\` integer null;`);

    this.addSql(`alter table \`webhook_endpoints\` add column \`previous_secret\` text null;`);
    this.addSql(`alter table \`webhook_endpoints\` add column \`previous_secret_expires_at\` datetime null;`);
  }

}
