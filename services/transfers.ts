/**
 * Transfer records: status changes with their history, and the API view of a transfer.
 */
import { OptimisticLockError, raw } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../core/ids';
import { canMove, type TransferStatus } from '../core/transfer';
import { Attempt, Transfer, TransferEvent, type AttemptRow, type TransferEventRow, type TransferRow } from '../db/schema';
import { emitTransferUpdated, emitTransfersUpdated } from '../webhooks/outbox';
import { inTransaction } from '../ledger/ledger';
import { maskAccount } from '../core/masking';

/** Reasons quote errors that can be long (a failed SQL statement); the column keeps 500 characters. */
const clip = (reason: string) => (reason.length > 500 ? `${reason.slice(0, 499)}…` : reason);

export class InvalidTransitionError extends Error {
  constructor(readonly from: string, readonly to: string, transferId: string) {
    super(`transfer ${transferId} cannot move from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
  }
}

/**
 * Moves a transfer to `to` and records the event, inside the caller's transaction. Moving to the
 * status it already has is a no-op, so a retried activity records each change once; so is moving
 * back to a status it has been in before, which is a step an earlier run of its workflow already
 * took, taken again after a Reset (the transfer never moves backwards). Every change also writes
 * its `transfer.updated` webhook event to the outbox in the same transaction.
 */
export async function moveStatus(
  tx: SqlEntityManager,
  transferId: string,
  to: TransferStatus,
  reason: string | null,
  patch: Partial<Pick<TransferRow, 'failureCode' | 'failureMessage'>> = {},
): Promise<TransferRow> {
  const transfer = await tx.findOneOrFail(Transfer, { id: transferId });
  if (transfer.status === to) return transfer;
  if (!canMove(transfer.status as TransferStatus, to)) {
    if ((await tx.count(TransferEvent, { transferId, status: to })) > 0) return transfer;
    throw new InvalidTransitionError(transfer.status, to, transferId);
  }
  const at = new Date();
  if (reason !== null) reason = clip(reason);
  if (patch.failureMessage && patch.failureMessage.length > 500) patch = { ...patch, failureMessage: `${patch.failureMessage.slice(0, 499)}…` };
  transfer.status = to;
  transfer.updatedAt = at;
  Object.assign(transfer, patch);
  tx.persist(tx.create(TransferEvent, { id: newId('evt'), transferId, status: to, reason, at }));
  await tx.flush();
  await emitTransferUpdated(tx, transferId);
  return transfer;
}

/** Transfers moved per statement by moveStatuses: bounded IN lists. */
const MOVE_CHUNK = 500;

/**
 * Moves many transfers to `to` at once, inside the caller's transaction: those still in one of
 * `from` (each a legal move to `to`) move, each with its event (`reason(id)`) and its webhook
 * event; the others are left as they are (they moved on by themselves). The move is one
 * conditional update per chunk, so a concurrent writer's change is never overwritten. Returns
 * the IDs that moved.
 */
export async function moveStatuses(tx: SqlEntityManager, transferIds: readonly string[], from: readonly TransferStatus[], to: TransferStatus, reason: (transferId: string) => string): Promise<string[]> {
  for (const f of from) if (!canMove(f, to)) throw new InvalidTransitionError(f, to, transferIds[0] ?? '(none)');
  const moved: string[] = [];
  for (let at = 0; at < transferIds.length; at += MOVE_CHUNK) {
    const ids = transferIds.slice(at, at + MOVE_CHUNK);
    const movable = (await tx.find(Transfer, { id: { $in: [...ids] }, status: { $in: [...from] } }, { fields: ['id'], disableIdentityMap: true })).map((t) => t.id);
    if (movable.length === 0) continue;
    const now = new Date();
    await tx.createQueryBuilder(Transfer).update({ status: to, updatedAt: now, version: raw('version + 1') }).where({ id: { $in: movable }, status: { $in: [...from] } }).execute('run');
    // Read back what this statement moved. A row another transaction moved after the read above
    // was not updated here (the update re-checks its status) and still reads as it was in this
    // transaction's snapshot (MySQL's repeatable read); SQLite lets no other writer in meanwhile.
    const ours = (await tx.find(Transfer, { id: { $in: movable }, status: to }, { fields: ['id'], disableIdentityMap: true })).map((t) => t.id);
    await tx.insertMany(TransferEvent, ours.map((transferId) => ({ id: newId('evt'), transferId, status: to, reason: clip(reason(transferId)), at: now })));
    moved.push(...ours);
  }
  await emitTransfersUpdated(tx, moved);
  return moved;
}

/**
 * Ends a transfer that is still `created` — nothing was held for it, no workflow took it on — as
 * `canceled` or `failed`, in one transaction. False when it is no longer `created`: a workflow's
 * hold got there first. The hold moves the same row from `created` under its optimistic version,
 * so exactly one of the two commits and a workflow started later finds the transfer ended.
 */
export async function endUnstartedTransfer(
  em: SqlEntityManager,
  transferId: string,
  to: 'canceled' | 'failed',
  reason: string,
  failure?: { failureCode: string; failureMessage: string },
): Promise<boolean> {
  try {
    return await inTransaction(em, async (tx) => {
      const transfer = await tx.findOne(Transfer, { id: transferId });
      if (!transfer || transfer.status !== 'created') return false;
      await moveStatus(tx, transferId, to, reason, failure ?? {});
      return true;
    });
  } catch (err) {
    if (err instanceof OptimisticLockError) return false;
    throw err;
  }
}

export function maskBeneficiary(b: Record<string, string>): Record<string, string> {
  const out = { ...b };
  for (const field of ['accountNumber', 'iban']) if (out[field]) out[field] = maskAccount(out[field]);
  return out;
}

export function transferView(t: TransferRow, events: TransferEventRow[], attempts: AttemptRow[]) {
  return {
    id: t.id,
    object: 'transfer',
    status: t.status,
    amountMinor: t.amountMinor,
    currency: t.currency,
    targetCurrency: t.targetCurrency,
    targetAmountMinor: t.targetAmountMinor,
    fx: t.fxRate && t.quoteId ? { rate: t.fxRate, quoteId: t.quoteId } : null,
    feeMinor: t.feeMinor,
    rail: t.rail,
    chargeBearer: t.chargeBearer ?? null,
    beneficiary: maskBeneficiary(t.beneficiary),
    reference: t.reference,
    metadata: t.metadata ?? {},
    failure: t.failureCode ? { code: t.failureCode, message: t.failureMessage ?? '' } : null,
    attempts: attempts
      .sort((a, b) => a.attemptNo - b.attemptNo)
      .map((a) => ({ id: a.id, rail: a.rail, railReference: a.railReference, status: a.status, beneficiaryReceivedMinor: a.beneficiaryReceivedMinor ?? null, chargesMinor: a.chargesMinor ?? null })),
    events: events
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1))
      .map((e) => ({ status: e.status, at: e.at.toISOString(), ...(e.reason ? { reason: e.reason } : {}) })),
    workflowId: `transfer-${t.id}`,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export type TransferView = ReturnType<typeof transferView>;

/** Views of several transfers with their events and attempts: three queries, whatever the count. */
export async function transferViews(em: SqlEntityManager, transfers: TransferRow[]): Promise<TransferView[]> {
  if (transfers.length === 0) return [];
  const ids = transfers.map((t) => t.id);
  const fork = em.fork();
  const [events, attempts] = await Promise.all([fork.find(TransferEvent, { transferId: { $in: ids } }), fork.find(Attempt, { transferId: { $in: ids } })]);
  return transfers.map((t) =>
    transferView(
      t,
      events.filter((e) => e.transferId === t.id),
      attempts.filter((a) => a.transferId === t.id),
    ),
  );
}

export async function loadTransferView(em: SqlEntityManager, transferId: string, clientId?: string): Promise<TransferView | null> {
  const transfer = await em.fork().findOne(Transfer, clientId ? { id: transferId, clientId } : { id: transferId });
  if (!transfer) return null;
  const [view] = await transferViews(em, [transfer]);
  return view;
}
