/**
 * The only writer of a transfer's status. Every change — its creation, each move, a note added to
 * the status it is in — writes the transfer row, its event, and its `transfer.updated` webhook
 * event in the caller's transaction, so the three exist together or not at all. Workflows'
 * activities, the API's services and the sweeps all come here; nothing else sets
 * `transfer.status` or writes a TransferEvent. A move to an end also withdraws the approvals that
 * waited on the transfer, in the same transaction.
 */
import { OptimisticLockError, raw } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../core/ids';
import { canMove, TERMINAL_STATUSES, type TransferStatus } from '../core/transfer';
import { Approval, Transfer, TransferEvent, type ApprovalKind, type TransferRow } from '../db/schema';
import { emitTransferUpdated, emitTransfersUpdated } from '../webhooks/outbox';
import { inTransaction } from '../ledger/ledger';

/** Reasons quote errors that can be long (a failed SQL statement); the column keeps 500 characters. */
const clip = (reason: string) => (reason.length > 500 ? `${reason.slice(0, 499)}…` : reason);

/** Records a new transfer in `created`, with its first event, inside the caller's transaction. */
export async function recordCreated(tx: SqlEntityManager, transfer: TransferRow): Promise<void> {
  tx.persist(tx.create(Transfer, transfer));
  tx.persist(tx.create(TransferEvent, { id: newId('evt'), transferId: transfer.id, status: 'created', reason: null, at: transfer.createdAt }));
  await tx.flush();
  await emitTransferUpdated(tx, transfer.id);
}

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
  await withdrawApprovals(tx, [transferId], to);
  return transfer;
}

/**
 * Adds an event to the status the transfer is in (a new reason for the same status, such as a
 * parked transfer's workflow found gone), inside the caller's transaction.
 */
export async function noteStatus(tx: SqlEntityManager, transfer: TransferRow, reason: string): Promise<void> {
  const at = new Date();
  tx.persist(tx.create(TransferEvent, { id: newId('evt'), transferId: transfer.id, status: transfer.status, reason: clip(reason), at }));
  transfer.updatedAt = at;
  await tx.flush();
  await emitTransferUpdated(tx, transfer.id);
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
  for (let at = 0; at < moved.length; at += MOVE_CHUNK) await withdrawApprovals(tx, moved.slice(at, at + MOVE_CHUNK), to);
  return moved;
}

/** The approvals that wait on a transfer's own course; a break's resolution is about the break and outlives it. */
const WITHDRAWN_WITH_THE_TRANSFER: readonly ApprovalKind[] = ['payout', 'recall', 'return_accept'];

/**
 * A transfer that has ended leaves nothing waiting for a second person: its pending approvals
 * (a payout over its threshold canceled by its client, a recall asked for before the payment
 * settled) are withdrawn, saying why, so `?status=pending` lists only what still needs someone.
 */
async function withdrawApprovals(tx: SqlEntityManager, transferIds: readonly string[], to: TransferStatus): Promise<void> {
  if (!TERMINAL_STATUSES.includes(to) || transferIds.length === 0) return;
  const now = new Date();
  await tx.nativeUpdate(
    Approval,
    { transferId: { $in: [...transferIds] }, status: 'pending', kind: { $in: [...WITHDRAWN_WITH_THE_TRANSFER] } },
    { status: 'withdrawn', decidedAt: now, executedAt: now, outcome: `withdrawn: the transfer ended ${to} before anyone decided` },
  );
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
