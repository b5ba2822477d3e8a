import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085811_charge_bearer extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`attempts\` add column \`beneficiary_received_minor\` bigint null;`);
    this.addSql(`alter table \`attempts\` add column \`charges_minor\` bigint null;`);

    this.addSql(`alter table \`transfers\` add column \`charge_bearer\` text null;`);
  }

}
