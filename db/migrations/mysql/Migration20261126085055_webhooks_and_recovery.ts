import { Migration } from '@mikro-orm/migrations';

export class Migration20261126085055_webhooks_and_recovery extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table \`webhook_deliveries\` (\`id\` varchar(40) not null, \`event_id\` varchar(40) not null, \`endpoint_id\` varchar(40) not null, \`status\` varchar(16) not null, \`attempts\` int not null, \`next_attempt_at\` datetime(3) not null, \`last_attempt_at\` datetime(3) null, \`last_error\` varchar(500) null, \`delivered_at\` datetime(3) null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`webhook_deliveries\` add index \`webhook_deliveries_status_next_attempt_at_index\`(\`status\`, \`next_attempt_at\`);`);
    this.addSql(`alter table \`webhook_deliveries\` add index \`webhook_deliveries_endpoint_id_index\`(\`endpoint_id\`);`);
    this.addSql(`alter table \`webhook_deliveries\` add unique \`webhook_deliveries_event_id_endpoint_id_unique\`(\`event_id\`, \`endpoint_id\`);`);

    this.addSql(`create table \`webhook_endpoints\` (\`id\` varchar(40) not null, \`client_id\` varchar(40) not null, \`url\` varchar(2048) not null, \`events\` text not null, \`secret\` varchar(80) not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`webhook_endpoints\` add index \`webhook_endpoints_client_id_index\`(\`client_id\`);`);

    this.addSql(`create table \`webhook_events\` (\`id\` varchar(40) not null, \`client_id\` varchar(40) not null, \`type\` varchar(40) not null, \`transfer_id\` varchar(40) null, \`payload\` text not null, \`created_at\` datetime(3) not null, primary key (\`id\`)) default character set utf8mb4 engine = InnoDB;`);
    this.addSql(`alter table \`webhook_events\` add index \`webhook_events_client_id_created_at_index\`(\`client_id\`, \`created_at\`);`);
    this.addSql(`alter table \`webhook_events\` add index \`webhook_events_transfer_id_index\`(\`transfer_id\`);`);

    this.addSql(`alter table \`idempotency_keys\` add \`recovery_point\` varchar(40) null, add \`lock_token\` varchar(32) null, add \`locked_until\` datetime(3) null;`);

  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists \`webhook_deliveries\`;`);
    this.addSql(`drop table if exists \`webhook_endpoints\`;`);
    this.addSql(`drop table if exists \`webhook_events\`;`);
    this.addSql(`alter table \`idempotency_keys\` drop column \`recovery_point\`, drop column \`lock_token\`, drop column \`locked_until\`;`);
  }

}
