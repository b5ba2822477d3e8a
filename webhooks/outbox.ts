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
import { Attempt, Transfer, TransferEvent, WebhookDelivery, WebhookEndpoint, WebhookEvent, type WebhookDeliveryRow, type WebhookEndpointRow, type WebhookEventRow } from '../db/schema';
import { transferView } from '../transfers/view';

export const WEBHOOK_EVENT_TYPES = ['transfer.updated'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Inside the caller's transaction, after its changes are flushed: records the transfer as it now is. */
export async function emitTransferUpdated(tx: SqlEntityManager, transferId: string): Promise<void> {
  await emitTransfersUpdated(tx, [transferId]);
}

/** Transfers read per statement when many changed together (a file's accepted entries): bounded IN lists. */
const EMIT_CHUNK = 500;

/**
 * The same for many transfers changed in one transaction: each gets its own event, with one
 * delivery per subscribed endpoint of its client; the rows are read and written a chunk at a
 * time, not one statement per transfer.
 */
export async function emitTransfersUpdated(tx: SqlEntityManager, transferIds: readonly string[]): Promise<void> {
  const type: WebhookEventType = 'transfer.updated';
  const endpointsOf = new Map<string, WebhookEndpointRow[]>();
  for (let from = 0; from < transferIds.length; from += EMIT_CHUNK) {
    const ids = transferIds.slice(from, from + EMIT_CHUNK);
    // One after the other: a transaction is one connection, which runs one query at a time.
    const transfers = await tx.find(Transfer, { id: { $in: [...ids] } });
    const events = groupBy(await tx.find(TransferEvent, { transferId: { $in: [...ids] } }), (e) => e.transferId);
    const attempts = groupBy(await tx.find(Attempt, { transferId: { $in: [...ids] } }), (a) => a.transferId);
    const clients = [...new Set(transfers.map((t) => t.clientId))].filter((c) => !endpointsOf.has(c));
    // Every client asked about gets an entry, so one without endpoints is not asked about again.
    for (const c of clients) endpointsOf.set(c, []);
    for (const e of clients.length ? await tx.find(WebhookEndpoint, { clientId: { $in: clients } }) : []) endpointsOf.get(e.clientId)!.push(e);
    const now = new Date();
    const rows: WebhookEventRow[] = [];
    const deliveries: WebhookDeliveryRow[] = [];
    for (const transfer of transfers) {
      const id = newId('whev', now.getTime());
      const payload = JSON.stringify({ id, type, createdAt: now.toISOString(), data: { transfer: transferView(transfer, events.get(transfer.id) ?? [], attempts.get(transfer.id) ?? []) } });
      rows.push({ id, clientId: transfer.clientId, type, transferId: transfer.id, payload, createdAt: now });
      for (const endpoint of endpointsOf.get(transfer.clientId) ?? []) {
        if (!endpoint.events.includes(type)) continue;
        deliveries.push({ id: newId('whdl', now.getTime()), eventId: id, endpointId: endpoint.id, status: 'pending', attempts: 0, nextAttemptAt: now, lastAttemptAt: null, lastStatusCode: null, lastError: null, deliveredAt: null, createdAt: now });
      }
    }
    if (rows.length) await tx.insertMany(WebhookEvent, rows);
    if (deliveries.length) await tx.insertMany(WebhookDelivery, deliveries);
  }
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const group = out.get(key(item));
    if (group) group.push(item);
    else out.set(key(item), [item]);
  }
  return out;
}

/** How long delivered and dead events are kept, for support questions ("did you send it?"). */
export const WEBHOOK_RETENTION_MS = 30 * 86_400_000;
const SWEEP_BATCH = 1_000;

/**
 * Deletes events older than the retention whose deliveries are all finished (delivered or dead),
 * with those deliveries; at most a batch per call. Returns how many events it deleted.
 */
export async function sweepWebhookOutbox(em: EntityManager, nowMs = Date.now(), retentionMs = WEBHOOK_RETENTION_MS): Promise<number> {
  const fork = em.fork();
  const old = await fork.find(WebhookEvent, { createdAt: { $lt: new Date(nowMs - retentionMs) } }, { fields: ['id'], orderBy: { createdAt: 'asc' }, limit: SWEEP_BATCH });
  if (old.length === 0) return 0;
  const ids = old.map((e) => e.id);
  const owed = new Set((await fork.find(WebhookDelivery, { eventId: { $in: ids }, status: 'pending' }, { fields: ['eventId'] })).map((d) => d.eventId));
  const finished = ids.filter((id) => !owed.has(id));
  if (finished.length === 0) return 0;
  await fork.nativeDelete(WebhookDelivery, { eventId: { $in: finished } });
  return fork.nativeDelete(WebhookEvent, { id: { $in: finished } });
}

/** Deliveries not yet delivered nor given up on: the gauge for "are webhooks keeping up". */
export async function webhookBacklog(em: EntityManager): Promise<number> {
  return em.fork().count(WebhookDelivery, { status: 'pending' });
}
