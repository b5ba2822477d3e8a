import { Migration } from '@mikro-orm/migrations';

export class Migration20261202063037_webhook_debugging extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`webhook_deliveries\` add \`last_status_code\` int null;`);

    this.addSql(`alter table \`webhook_endpoints\` add \`previous_secret\` varchar(80) null, add \`previous_secret_expires_at\` datetime(3) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`webhook_deliveries\` drop column \`last_status_code\`;`);

    this.addSql(`alter table \`webhook_endpoints\` drop column \`previous_secret\`, drop column \`previous_secret_expires_at\`;`);
  }

}
