import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085056_webhooks_and_recovery extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`webhook_deliveries\` (\`id\` text not null, \`event_id\` text not null, \`endpoint_id\` text not null, \`status\` text not null, \`attempts\` integer not null, \`next_attempt_at\` datetime not null, \`last_attempt_at\` datetime null, \`last_error\` text null, \`delivered_at\` datetime null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`webhook_deliveries_status_next_attempt_at_index\` on \`webhook_deliveries\` (\`status\`, \`next_attempt_at\`);`);
    this.addSql(`create index \`webhook_deliveries_endpoint_id_index\` on \`webhook_deliveries\` (\`endpoint_id\`);`);
    this.addSql(`create unique index \`webhook_deliveries_event_id_endpoint_id_unique\` on \`webhook_deliveries\` (\`event_id\`, \`endpoint_id\`);`);

    this.addSql(`create table \`webhook_endpoints\` (\`id\` text not null, \`client_id\` text not null, \`url\` text not null, \`events\` text not null, \`secret\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`webhook_endpoints_client_id_index\` on \`webhook_endpoints\` (\`client_id\`);`);

    this.addSql(`create table \`webhook_events\` (\`id\` text not null, \`client_id\` text not null, \`type\` text not null, \`transfer_id\` text null, \`payload\` text not null, \`created_at\` datetime not null, primary key (\`id\`));`);
    this.addSql(`create index \`webhook_events_client_id_created_at_index\` on \`webhook_events\` (\`client_id\`, \`created_at\`);`);
    this.addSql(`create index \`webhook_events_transfer_id_index\` on \`webhook_events\` (\`transfer_id\`);`);

    this.addSql(`alter table \`idempotency_keys\` add column \`recovery_point\` text null;`);
    this.addSql(`alter table \`idempotency_keys\` add column \`lock_token\` text null;`);
    this.addSql(`alter table \`idempotency_keys\` add column \`locked_until\` datetime null;`);
  }

}
