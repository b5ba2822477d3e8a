/**
 * Webhooks: clients' endpoints, the outbox of events, and each event's deliveries to each endpoint.
 */
import { EntitySchema } from '@mikro-orm/core';
import { at, id, JsonText } from './columns';

export interface WebhookEndpointRow {
  id: string;
  clientId: string;
  url: string;
  /** Event types the endpoint subscribed to, e.g. `["transfer.updated"]`. */
  events: string[];
  /**
   * The signing secret in the clear: HMAC signing needs the secret itself, so a hash would not do.
   * It is shown to the client once, at creation; the database is the thing to protect.
   */
  secret: string;
  /**
   * After a rotation, the secret it replaced, which keeps signing beside the new one until
   * `previousSecretExpiresAt` so that receivers can switch over without dropping a delivery.
   */
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
}
export const WebhookEndpoint = new EntitySchema<WebhookEndpointRow>({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoints',
  indexes: [{ properties: ['clientId'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    url: { type: 'string', length: 2048 },
    events: { type: JsonText },
    secret: { type: 'string', length: 80 },
    previousSecret: { type: 'string', length: 80, nullable: true },
    previousSecretExpiresAt: { type: 'datetime', length: 3, nullable: true },
    createdAt: at(),
  },
});

/** The outbox: one row per event, written in the transaction of the change it reports. */
export interface WebhookEventRow {
  id: string;
  clientId: string;
  type: string;
  transferId: string | null;
  /** The exact JSON body every delivery of this event sends. */
  payload: string;
  createdAt: Date;
}
export const WebhookEvent = new EntitySchema<WebhookEventRow>({
  name: 'WebhookEvent',
  tableName: 'webhook_events',
  indexes: [{ properties: ['clientId', 'createdAt'] }, { properties: ['transferId'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    type: { type: 'string', length: 40 },
    transferId: { type: 'string', length: 40, nullable: true },
    payload: { type: 'text' },
    createdAt: at(),
  },
});

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead';
/** One event to one endpoint: written with the event, then retried until delivered or dead. */
export interface WebhookDeliveryRow {
  id: string;
  eventId: string;
  endpointId: string;
  status: WebhookDeliveryStatus;
  /** Attempts started so far; a dispatcher claims a delivery by bumping it (optimistic lock). */
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  /** The HTTP status of the last attempt's answer; null before any, and when it got none. */
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}
export const WebhookDelivery = new EntitySchema<WebhookDeliveryRow>({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  uniques: [{ properties: ['eventId', 'endpointId'] }],
  indexes: [{ properties: ['status', 'nextAttemptAt'] }, { properties: ['endpointId'] }],
  properties: {
    id: id(),
    eventId: { type: 'string', length: 40 },
    endpointId: { type: 'string', length: 40 },
    status: { type: 'string', length: 16 },
    attempts: { type: 'integer' },
    nextAttemptAt: at(),
    lastAttemptAt: { type: 'datetime', length: 3, nullable: true },
    lastStatusCode: { type: 'integer', nullable: true },
    lastError: { type: 'string', length: 500, nullable: true },
    deliveredAt: { type: 'datetime', length: 3, nullable: true },
    createdAt: at(),
  },
});
