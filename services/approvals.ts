/**
 * Four eyes (SPEC §5 Approvals). An action that moves money and cannot be undone — a payout at or
 * above its client's threshold, a cancel that recalls, accepting a late return, resolving a break —
 * is an approval row first; it takes effect when an operator other than the one who asked decides.
 *
 * Deciding is two steps, each idempotent: the row moves from `pending` to `approved` or `denied`
 * (a conditional update, so two people deciding at once cannot both win), then the approved action
 * is carried out and `executedAt`/`outcome` say what it answered. Should the second step not reach
 * Temporal, the same decider asking again finishes it (the Update's ID is the approval's, so
 * Temporal applies it once); anyone else gets 409, as for any decided approval.
 *
 * Every request, decision and refusal is a row in the audit log (operator_actions) naming the
 * approval.
 */
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { WorkflowUpdateFailedError, type Client as TemporalClient } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { APPROVAL_DECISION_SIGNAL, type ApprovalDecision, type ApprovalDecisionKind } from '../core/approval';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import type { OperatorActionRecord, OperatorCommand, OperatorResult } from '../core/operator';
import { workflowIdFor, type TransferStatus } from '../core/transfer';
import { Approval, OperatorAction, ReconciliationBreak, Transfer, type ApprovalAction, type ApprovalKind, type ApprovalRow } from '../db/schema';
import { writeOperatorAction } from '../activities/operator';
import { cancelUpdate, retryUpdate } from '../workflows/transfer';
import { returnDecisionUpdate } from '../workflows/transfer';
import { resolveBreakWithPostings } from './reconciliation';

export interface ApprovalDeps {
  orm: MikroORM;
  temporal: TemporalClient;
}

export function approvalView(a: ApprovalRow) {
  return {
    id: a.id,
    object: 'approval',
    kind: a.kind,
    status: a.status,
    subjectId: a.subjectId,
    transferId: a.transferId,
    requestedBy: a.requestedBy,
    requestReason: a.requestReason,
    decidedBy: a.decidedBy,
    decisionReason: a.decisionReason,
    createdAt: a.createdAt.toISOString(),
    decidedAt: a.decidedAt ? a.decidedAt.toISOString() : null,
    executedAt: a.executedAt ? a.executedAt.toISOString() : null,
    outcome: a.outcome,
  };
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** The audit row of a request or a decision: `statusBefore` is the subject's status then. */
function auditRecord(a: Pick<ApprovalRow, 'id' | 'kind' | 'subjectId' | 'transferId'>, fields: Pick<OperatorActionRecord, 'id' | 'action' | 'operator' | 'reason' | 'outcome' | 'detail' | 'statusBefore'>): OperatorActionRecord {
  return { ...fields, transferId: a.transferId, channel: 'api', via: 'approval', at: new Date().toISOString(), approvalId: a.id };
}

export interface ApprovalRequest {
  kind: ApprovalKind;
  subjectId: string;
  transferId: string | null;
  requestedBy: string;
  reason: string;
  action: ApprovalAction;
  /** The subject's status as the request is made (the audit row's statusBefore). */
  statusBefore: TransferStatus | 'open';
  /** What will happen on approval, for the audit row. */
  detail: string;
}

/**
 * Inside `tx`: records a pending approval and its audit row. A subject with a pending approval of
 * the same kind is 409: one question at a time.
 */
export async function requestApproval(tx: SqlEntityManager, request: ApprovalRequest): Promise<ApprovalRow> {
  const open = await tx.findOne(Approval, { subjectId: request.subjectId, kind: request.kind, status: 'pending' });
  if (open) throw new AppError('invalid_state', `${request.subjectId} already has a pending ${request.kind} approval, ${open.id}, asked for by ${open.requestedBy}; decide that one first`);
  const row: ApprovalRow = {
    id: newId('apr'),
    kind: request.kind,
    subjectId: request.subjectId,
    transferId: request.transferId,
    requestedBy: request.requestedBy,
    requestReason: clip(request.reason, 500),
    status: 'pending',
    decidedBy: null,
    decisionReason: null,
    action: request.action,
    createdAt: new Date(),
    decidedAt: null,
    executedAt: null,
    outcome: null,
  };
  await tx.insert(Approval, row);
  const audit = auditRecord(row, { id: `${row.id}:requested`, action: 'approval_requested', operator: request.requestedBy, reason: request.reason, outcome: 'accepted', detail: clip(`${request.kind} approval ${row.id} requested: ${request.detail}`, 500), statusBefore: request.statusBefore });
  await tx.insert(OperatorAction, { ...audit, reason: clip(audit.reason, 500), at: new Date(audit.at) });
  return row;
}

async function subjectStatus(orm: MikroORM, a: ApprovalRow): Promise<OperatorActionRecord['statusBefore']> {
  const em = orm.em.fork();
  if (a.transferId) return ((await em.findOne(Transfer, { id: a.transferId }))?.status as TransferStatus | undefined) ?? 'open';
  return (await em.findOne(ReconciliationBreak, { id: a.subjectId }))?.status ?? 'open';
}

export interface Decision {
  approvalId: string;
  decision: ApprovalDecisionKind;
  operator: string;
  reason: string;
}

/**
 * Decides an approval and, when approved, carries out its action. 403 `four_eyes_required` to the
 * one who asked; 409 `invalid_state` once someone decided.
 */
export async function decideApproval(deps: ApprovalDeps, d: Decision): Promise<ApprovalRow> {
  const em = deps.orm.em.fork();
  const a = await em.findOne(Approval, { id: d.approvalId });
  if (!a) throw new AppError('not_found', `no approval ${d.approvalId}`, { param: 'id' });
  if (a.status === 'withdrawn') throw new AppError('invalid_state', `approval ${a.id} was withdrawn at ${a.decidedAt?.toISOString()}: ${a.outcome}`);
  if (a.status !== 'pending') {
    // The same decider finishing an approval whose action did not get through (a 503 the first time).
    if (a.status === 'approved' && d.decision === 'approve' && a.decidedBy === d.operator && !a.executedAt) return carryOut(deps, a);
    throw new AppError('invalid_state', `approval ${a.id} was already ${a.status} by ${a.decidedBy}${a.decidedAt ? ` at ${a.decidedAt.toISOString()}` : ''}`);
  }
  const verb = d.decision === 'approve' ? 'approved' : 'denied';
  if (a.requestedBy === d.operator) {
    await writeOperatorAction(deps.orm, auditRecord(a, { id: `${a.id}:refused:${randomUUID()}`, action: `approval_${verb}`, operator: d.operator, reason: d.reason, outcome: 'refused', detail: `four eyes: ${d.operator} asked for ${a.id} and cannot decide it`, statusBefore: await subjectStatus(deps.orm, a) }));
    throw new AppError('four_eyes_required', `${d.operator} asked for approval ${a.id}; someone else must decide it`);
  }
  const decidedAt = new Date();
  const won = await em.nativeUpdate(Approval, { id: a.id, status: 'pending' }, { status: verb, decidedBy: d.operator, decisionReason: clip(d.reason, 500), decidedAt });
  if (won !== 1) {
    const now = await em.fork().findOneOrFail(Approval, { id: a.id });
    throw new AppError('invalid_state', `approval ${a.id} was already ${now.status} by ${now.decidedBy}`);
  }
  const decided: ApprovalRow = { ...a, status: verb, decidedBy: d.operator, decisionReason: clip(d.reason, 500), decidedAt };
  await writeOperatorAction(deps.orm, auditRecord(a, { id: `${a.id}:${verb}`, action: `approval_${verb}`, operator: d.operator, reason: d.reason, outcome: 'accepted', detail: `${a.kind} approval ${a.id} (asked for by ${a.requestedBy}) ${verb}`, statusBefore: await subjectStatus(deps.orm, a) }));
  // A denied payout is told so (it voids its hold and ends canceled); any other denial changes nothing.
  if (verb === 'approved' || a.kind === 'payout') return carryOut(deps, decided);
  return finish(deps.orm, decided, 'denied: nothing was done');
}

async function finish(orm: MikroORM, a: ApprovalRow, outcome: string): Promise<ApprovalRow> {
  const executedAt = new Date();
  await orm.em.fork().nativeUpdate(Approval, { id: a.id }, { executedAt, outcome: clip(outcome, 500) });
  return { ...a, executedAt, outcome: clip(outcome, 500) };
}

/** Carries out a decided approval's action; a failure to reach Temporal is 503 and leaves it to be finished. */
async function carryOut(deps: ApprovalDeps, a: ApprovalRow): Promise<ApprovalRow> {
  const operator = a.decidedBy!;
  const action = a.action;
  const updateId = `approval-${a.id}`;
  const handle = a.transferId ? deps.temporal.workflow.getHandle(workflowIdFor(a.transferId)) : undefined;
  const viaUpdate = async (run: () => Promise<OperatorResult>): Promise<string> => {
    try {
      const r = await run();
      return `${r.accepted ? 'accepted' : 'refused'}: ${r.message}`;
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return `refused: ${err.cause instanceof ApplicationFailure ? err.cause.message : 'the transfer refused it'}`;
      if (err instanceof WorkflowNotFoundError) return `refused: the transfer's workflow has ended; there is nothing to carry out`;
      throw new AppError('service_unavailable', `approval ${a.id} is ${a.status}, but its action could not reach the transfer's workflow; approve again to finish it`, { cause: err });
    }
  };
  const command = (reason: string): OperatorCommand => ({ reason: clip(reason, 500), operator, channel: 'api', approvalId: a.id });
  let outcome: string;
  switch (action.kind) {
    case 'payout': {
      const decision: ApprovalDecision = { approvalId: a.id, decision: a.status === 'approved' ? 'approve' : 'deny', operator, reason: a.decisionReason ?? '' };
      try {
        await handle!.signal(APPROVAL_DECISION_SIGNAL, decision);
        outcome = a.status === 'approved' ? 'done: the payout goes on' : 'done: the payout is canceled and its hold voided';
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw new AppError('service_unavailable', `approval ${a.id} is ${a.status}, but the payout's workflow could not be told; decide again to finish it`, { cause: err });
        outcome = `refused: the payout's workflow has ended (the transfer is ${await subjectStatus(deps.orm, a)})`;
      }
      break;
    }
    case 'cancel':
      outcome = await viaUpdate(() => handle!.executeUpdate(cancelUpdate, { args: [command(action.reason)], updateId }));
      break;
    case 'returnDecision':
      outcome = await viaUpdate(() => handle!.executeUpdate(returnDecisionUpdate, { args: [{ ...command(action.reason), decision: action.decision }], updateId }));
      break;
    case 'resolveBreak': {
      let resolved;
      try {
        resolved = await resolveBreakWithPostings(deps.orm, { breakId: a.subjectId, resolution: action.resolution, operator, reason: action.reason, approvalId: a.id });
      } catch (err) {
        // The break moved on since the request (the books came to agree on their own): nothing booked.
        if (err instanceof AppError && err.code === 'invalid_state') return finish(deps.orm, a, `refused: ${err.message}`);
        throw err;
      }
      await writeOperatorAction(deps.orm, auditRecord(a, { id: `${a.id}:resolved`, action: 'break_resolved', operator, reason: action.reason, outcome: 'accepted', detail: clip(`break ${a.subjectId} resolved (${action.resolution}) carrying out approval ${a.id}: ${resolved.booked}`, 500), statusBefore: 'open' }));
      outcome = `done: ${resolved.booked}`;
      if (resolved.completesTransfer && handle) {
        // The payout waits on this break in needs_attention: its retry finds the match just recorded and completes.
        const retried = await viaUpdate(() => handle.executeUpdate(retryUpdate, { args: [command(`break ${a.subjectId} resolved (${action.resolution}): ${action.reason}`)], updateId }));
        // A payout not parked on the break (between two looks at the statement) finds the match at its next look.
        outcome += retried.startsWith('refused') ? `; the transfer was not waiting on the break (${retried}); its next look at the statement finds the match` : `; ${retried}`;
      }
      break;
    }
  }
  return finish(deps.orm, a, outcome);
}
