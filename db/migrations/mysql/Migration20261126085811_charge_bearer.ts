import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085811_charge_bearer extends Migration {

  override async up(): Promise<void> {
    this.addSql(`alter table \`attempts\` add \`beneficiary_received_minor\` bigint null, add \`charges_minor\` bigint null;`);
    this.addSql(`alter table \`transfers\` add \`charge_bearer\` varchar(3) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`attempts\` drop column \`beneficiary_received_minor\`, drop column \`charges_minor\`;`);
    this.addSql(`alter table \`transfers\` drop column \`charge_bearer\`;`);
  }

}
