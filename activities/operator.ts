/**
 * The operator audit log. Key: the action's own ID (the Temporal update ID, or the ID the workflow
 * drew for a signal); writing the same action again finds its row and succeeds, so an action is
 * recorded exactly once however often the write is retried. No error is final: a database that
 * does not answer is retried within the workflow's AUDIT_RECORD budget.
 */
import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import type { ApprovalCheck } from '../core/approval';
import type { OperatorActionRecord } from '../core/operator';
import { Approval, OperatorAction, Transfer } from '../db/schema';

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** Inserts the action unless its ID is already there. Shared by the activity, the worker's sink and the API. */
export async function writeOperatorAction(orm: MikroORM, record: OperatorActionRecord): Promise<void> {
  const em = orm.em.fork();
  try {
    await em.insert(OperatorAction, {
      id: record.id,
      transferId: record.transferId,
      action: record.action,
      operator: clip(record.operator, 100),
      reason: clip(record.reason, 500),
      channel: record.channel,
      via: record.via,
      outcome: record.outcome,
      detail: clip(record.detail, 500),
      statusBefore: record.statusBefore,
      at: new Date(record.at),
      approvalId: record.approvalId ?? null,
      clientId: record.clientId ?? null,
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) return;
    throw err;
  }
}

/**
 * An action a payout's workflow records (this activity, the worker's sink for a refused Update)
 * arrives before it takes effect: its `statusBefore` is the transfer's status as the database has
 * it, what the API showed. The workflow's own view can lag it (an ACH entry's file answer is
 * recorded by the window's send, not told to the payout).
 */
export async function withStoredStatus(orm: MikroORM, record: OperatorActionRecord): Promise<OperatorActionRecord> {
  if (!record.transferId) return record;
  const transfer = await orm.em.fork().findOne(Transfer, { id: record.transferId }, { fields: ['status'] });
  return transfer ? { ...record, statusBefore: transfer.status as OperatorActionRecord['statusBefore'] } : record;
}

export function createOperatorActivities(deps: { orm: MikroORM }) {
  return {
    async recordOperatorAction(record: OperatorActionRecord): Promise<void> {
      await writeOperatorAction(deps.orm, await withStoredStatus(deps.orm, record));
    },

    /** Why the approval a command or decision names does not allow it (four eyes), or null when it does. */
    async approvalProblem(check: ApprovalCheck): Promise<string | null> {
      const id = check.approvalId.slice(0, 40);
      const a = await deps.orm.em.fork().findOne(Approval, { id });
      if (!a) return `there is no approval ${id}`;
      if (a.transferId !== check.transferId || a.kind !== check.kind) return `approval ${id} is not a ${check.kind} approval of ${check.transferId}`;
      if (a.status !== check.status) return `approval ${id} is ${a.status}, not ${check.status}`;
      if (!a.decidedBy || a.decidedBy === a.requestedBy) return `approval ${id} was not decided by a second person`;
      return null;
    },
  };
}
