/**
 * The moves every phase module makes on a payout (pure, like machine.ts): which attempt is live,
 * a status moved along core/transfer.ts canMove and written by the next step, parking for an
 * operator, and entering the two waits that several phases lead to (following the bank, an ACH
 * window). machine.ts dispatches an event to its phase's module; those modules meet here.
 */
import { canMove, type TransferStatus } from '../../core/transfer';
import { ACH_FILE_ANSWER_GRACE_MS } from '../activity-options';
import { FINAL_ATTEMPT_STATES, type AttemptView, type Parked, type Payout, type Phase } from './model';

export function isFinal(a: AttemptView): boolean {
  return FINAL_ATTEMPT_STATES.includes(a.state);
}

/** The attempt that is not final, if any (there is at most one). */
export function liveAttempt(p: Payout): AttemptView | undefined {
  const last = p.attempts.at(-1);
  return last && !isFinal(last) ? last : undefined;
}

/** The attempt a message names, if it is ours. */
export function attemptFor(p: Payout, railReference: string): AttemptView | undefined {
  return p.attempts.find((a) => a.railReference === railReference);
}

/**
 * Records a status the step just wrote (or will write). Moving to the status it has is a no-op; a
 * move canMove refuses is a bug in the machine and throws, so a property test finds it.
 */
export function moveTo(p: Payout, status: TransferStatus, reason: string | null): void {
  if (p.status === status) {
    p.reason = reason;
    return;
  }
  if (!canMove(p.status, status)) throw new Error(`machine bug: ${p.transferId} cannot move from ${p.status} to ${status}`);
  p.moves.push(status);
  p.status = status;
  p.reason = reason;
}

/** Moves to `status` in memory and has the next step write it to the database first. */
export function writeStatus(p: Payout, status: TransferStatus, reason: string): void {
  if (p.status === status) return;
  moveTo(p, status, reason);
  p.pendingWrite = { status, reason };
}

/** Parks the transfer in needs_attention until an operator retries or cancels. */
export function park(p: Payout, parked: Omit<Parked, 'reason'>, reason: string): void {
  p.phase = { kind: 'parked', parked: { ...parked, reason } };
  writeStatus(p, 'needs_attention', reason);
}

/** The phase a resumed payout continues in: `following` from now, with the rail's settlement deadline. */
export function following(p: Payout, stage: 'settlement' | 'statement', nowMs: number): Phase {
  return { kind: 'following', stage, dueMs: nowMs + (stage === 'settlement' ? p.timing.settlementTimeoutMs : p.timing.reconcileWindowMs) };
}

/**
 * An ACH entry taken into a window (first queued, or re-queued): it waits there for the bank's
 * word, bounded by the window's cut-off plus the file's whole retry budget.
 */
export function enterQueue(p: Payout, a: AttemptView, w: { windowId: string; cutoffAtMs: number; label: string }, nowMs: number): void {
  a.state = 'queued';
  p.reason = `queued for the ${w.label} window (${w.windowId}), trace ${a.railReference}`;
  p.phase = { kind: 'queued', window: { windowId: w.windowId, cutoffAtMs: w.cutoffAtMs, label: w.label }, answerDueMs: Math.max(w.cutoffAtMs, nowMs) + ACH_FILE_ANSWER_GRACE_MS };
}

/** The status a parked payout goes back to when its retry resubmits: held, or its FX locked. */
export function preSubmitStatus(p: Payout): 'funds_held' | 'fx_locked' {
  return p.fx ? 'fx_locked' : 'funds_held';
}

/** The outcome is unknown: wait for the bank's word, or the next inquiry at the deadline. */
export function enterUnknown(p: Payout, nowMs: number, notFound: number, resends: number): void {
  // Each wait doubles, from the poll interval: one timer per wait, no loop of looks.
  p.phase = { kind: 'unknown', dueMs: nowMs + p.timing.pollIntervalMs * 2 ** notFound, notFound, resends };
}

/** The queued deadline passed with no answer: read the entry row once. */
export function achAnswerOverdue(p: Payout): void {
  if (p.phase.kind !== 'queued') return;
  p.phase = { kind: 'reading_entry', window: p.phase.window };
}
