/**
 * From the hold to the bank's first answer (pure).
 *
 *   holding      holdFunds        held → [approval] → [converting] → submitting; not held → done(failed)
 *   approval     approvalDecision approve → [converting] → submitting; deny → compensating(canceled)
 *   converting   convertFunds     → submitting (fx_locked)
 *   submitting   submitPayout     accepted → following; queued → queued (ach-queue.ts);
 *                                unknown → unknown (follow-bank.ts); rejected → compensating(failed),
 *                                or switching_rail when the rail could not reach the beneficiary
 *
 * A step whose retries run out parks the transfer. Before the submit starts, cancel compensates.
 * Once it started the bank may have the payment whatever the step's last error said (an earlier
 * try may have landed: a worker killed mid-request, a database write failing after the bank's
 * answer), so cancel asks the bank first and compensates only if it has nothing (`inquire`).
 */
import type { ApprovalDecision } from '../../core/approval';
import { FALLBACK_RAIL, type HoldOutcome } from '../../core/transfer';
import type { SubmitOutcome } from '../../activities/transfers';
import { type AttemptView, type Payout, type PayoutEvent, type StepName } from './model';
import { enterQueue, enterUnknown, following, isFinal, liveAttempt, moveTo, park, preSubmitStatus, writeStatus } from './moves';
import { compensate } from './compensation';

export function onStepStarted(p: Payout, step: StepName): void {
  if (step === 'holdFunds' && p.hold === 'none') p.hold = 'maybe';
  if (step !== 'submitPayout') return;
  const last = p.attempts.at(-1);
  if (last && !isFinal(last) && last.state !== 'file_refused') {
    // A resend under the same reference (after an unknown outcome or a parked submit).
    last.state = 'sending';
    return;
  }
  if (last && !isFinal(last)) throw new Error(`machine bug: ${p.transferId} would start a second live attempt`);
  const attempt: AttemptView = { no: p.attempts.length + 1, rail: p.rail, attemptId: null, railReference: null, state: 'sending', recorded: false };
  p.attempts.push(attempt);
}

type StepEvent = Extract<PayoutEvent, { type: 'step_done' | 'step_failed' }>;

export function afterHold(p: Payout, event: StepEvent, nowMs: number): void {
  const ph = p.phase;
  if (event.type === 'step_failed') {
    const submitting = ph.kind === 'submitting';
    const resumeStatus = p.status === 'needs_attention' ? preSubmitStatus(p) : p.status;
    park(
      p,
      { step: event.step, retry: ph, resumeStatus, cancel: submitting && liveAttempt(p)?.state === 'sending' ? 'inquire' : 'compensate' },
      `${event.step} failed after its retries: ${event.message}`,
    );
    return;
  }
  switch (ph.kind) {
    case 'holding': {
      const hold = event.result as HoldOutcome;
      if (!hold.held) {
        p.hold = 'none';
        moveTo(p, hold.status, hold.failureCode ?? null);
        p.failureCode = hold.failureCode ?? null;
        p.phase = { kind: 'done' };
        return;
      }
      p.hold = 'pending';
      moveTo(p, 'funds_held', null);
      return afterFundsHeld(p);
    }
    case 'converting':
      p.fxBooked = true;
      // The conversion posts the hold into the conversion's legs; the unwind refunds them.
      p.hold = 'posted';
      moveTo(p, 'fx_locked', null);
      p.phase = { kind: 'submitting' };
      return;
    case 'switching_rail':
      p.rail = ph.to;
      p.phase = { kind: 'submitting' };
      return;
    case 'submitting':
      return onSubmitted(p, event.result as SubmitOutcome, nowMs);
    default:
      throw new Error(`machine bug: ${event.step} done in ${ph.kind}`);
  }
}

/** After the hold: the approval wait when the amount needs one, then the conversion or the submission. */
function afterFundsHeld(p: Payout): void {
  if (p.approvalRequired && p.approvalId === null) {
    p.phase = { kind: 'approval' };
    writeStatus(p, 'needs_approval', 'waiting for an approval: the amount is at or above the client\'s threshold');
    return;
  }
  p.phase = p.fx ? { kind: 'converting' } : { kind: 'submitting' };
}

export function onApproval(p: Payout, decision: ApprovalDecision): void {
  // The first decision counts; one arriving before the wait (or after it) changes nothing.
  if (p.phase.kind !== 'approval' || p.approvalId !== null) return;
  p.approvalId = decision.approvalId;
  const by = `${decision.operator}: ${decision.reason}`;
  if (decision.decision === 'deny') {
    compensate(p, { status: 'canceled', code: 'approval_denied', message: `approval ${decision.approvalId} denied by ${by}` });
    return;
  }
  writeStatus(p, 'funds_held', `approval ${decision.approvalId} given by ${by}`);
  p.phase = p.fx ? { kind: 'converting' } : { kind: 'submitting' };
}

function onSubmitted(p: Payout, r: SubmitOutcome, nowMs: number): void {
  const a = p.attempts.at(-1)!;
  a.attemptId = r.attemptId;
  a.railReference = r.railReference;
  switch (r.outcome) {
    case 'accepted':
      a.state = 'accepted';
      a.recorded = true;
      moveTo(p, 'submitted', null);
      p.phase = following(p, 'settlement', nowMs);
      return;
    case 'queued':
      enterQueue(p, a, r, nowMs);
      return;
    case 'unknown':
      a.state = 'unknown';
      // The submit step wrote `unknown` itself.
      moveTo(p, 'unknown', r.reason);
      enterUnknown(p, nowMs, 0, p.resendsAfterUnknown);
      return;
    case 'rejected': {
      a.state = 'rejected';
      a.code = r.code;
      const fallback = FALLBACK_RAIL[p.rail];
      if (r.fallback && fallback) {
        p.phase = { kind: 'switching_rail', to: fallback, code: r.code };
        return;
      }
      compensate(p, { status: 'failed', code: r.code, message: r.message, attemptId: r.attemptId });
      return;
    }
  }
}

