/**
 * The webhook outbox. Every change of a transfer writes one `transfer.updated` event, and one
 * delivery per subscribed endpoint, in the same database transaction as the change: the event
 * exists if and only if the change committed. The dispatcher (`dispatcher.ts`) sends them later.
 *
 * The body is fixed here, once, so every delivery of an event (retries included) sends the same
 * bytes: `{id, type, createdAt, data: {transfer}}` with the transfer as the API shows it.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../core/ids';
import { Attempt, Transfer, TransferEvent, WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../db/schema';
import { transferView } from '../services/transfers';

export const WEBHOOK_EVENT_TYPES = ['transfer.updated'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Inside the caller's transaction, after its changes are flushed: records the transfer as it now is. */
export async function emitTransferUpdated(tx: SqlEntityManager, transferId: string): Promise<void> {
  const transfer = await tx.findOneOrFail(Transfer, { id: transferId });
  // One after the other: a transaction is one connection, which runs one query at a time.
  const events = await tx.find(TransferEvent, { transferId });
  const attempts = await tx.find(Attempt, { transferId });
  const now = new Date();
  const id = newId('whev', now.getTime());
  const type: WebhookEventType = 'transfer.updated';
  const payload = JSON.stringify({ id, type, createdAt: now.toISOString(), data: { transfer: transferView(transfer, [...events], [...attempts]) } });
  await tx.insert(WebhookEvent, { id, clientId: transfer.clientId, type, transferId, payload, createdAt: now });
  const endpoints = await tx.find(WebhookEndpoint, { clientId: transfer.clientId });
  for (const endpoint of endpoints) {
    if (!endpoint.events.includes(type)) continue;
    await tx.insert(WebhookDelivery, {
      id: newId('whdl', now.getTime()),
      eventId: id,
      endpointId: endpoint.id,
      status: 'pending',
      attempts: 0,
      nextAttemptAt: now,
      lastAttemptAt: null,
      lastError: null,
      deliveredAt: null,
      createdAt: now,
    });
  }
}

/** Deliveries not yet delivered nor given up on: the gauge for "are webhooks keeping up". */
export async function webhookBacklog(em: EntityManager): Promise<number> {
  return em.fork().count(WebhookDelivery, { status: 'pending' });
}
