import { Migration } from '@mikro-orm/migrations';

export class Migration20261204132131_audit_client_settings extends Migration {

  override async up(): Promise<void> {
    // An admin's change to a client's approval thresholds is audited: on no transfer (status_before
    // null), naming the client.
    this.addSql(`alter table \`operator_actions\` add \`client_id\` varchar(40) null;`);
    this.addSql(`alter table \`operator_actions\` modify \`status_before\` varchar(24) null;`);
    this.addSql(`alter table \`operator_actions\` add index \`operator_actions_client_id_index\`(\`client_id\`);`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table \`operator_actions\` drop index \`operator_actions_client_id_index\`;`);
    this.addSql(`alter table \`operator_actions\` drop column \`client_id\`;`);
    this.addSql(`delete from \`operator_actions\` where \`status_before\` is null;`);
    this.addSql(`alter table \`operator_actions\` modify \`status_before\` varchar(24) not null;`);
  }

}
