/**
 * The payout as a state machine (pure: no I/O, no clock but `nowMs`, nothing from @temporalio).
 *
 *   holding ─hold─▶ [approval] ─▶ [converting] ─▶ submitting ─┬─ accepted ──▶ following(settlement)
 *                                                              ├─ queued (ACH) ─ file answer ─▶ following
 *                                                              ├─ unknown ─ bank word | inquiry ─▶ following
 *                                                              └─ rejected ─▶ compensating ─▶ done(failed)
 *   following(settlement) ─settled─▶ following(statement) ─statement_matched─▶ booking(settle, complete)
 *   booking ─▶ watching (return window) ─returned─▶ assessing_return ─▶ done(returned) | return_question
 *   any step out of retries ─▶ parked (needs_attention) ─retry─▶ the step again | ─cancel─▶ per the step
 *
 * `apply(p, event, nowMs)` is the whole behaviour: it returns the next payout and what to answer.
 * `work(p)` names the one step to run next (or none: the workflow waits), `deadlineOf(p)` the one
 * deadline of the wait. Commands (retry, cancel, returnDecision, Temporal's cancellation request)
 * are in commands.ts and the Update validators call the same `refusal` function.
 *
 * The rules the property tests check (test/workflows/machine.test.ts): nothing is compensated while
 * an attempt may be with the bank (MAY_HAVE_LEFT); at most one attempt is live; a final attempt
 * stays final; the status only moves along core/transfer.ts canMove; the hold ends posted or voided.
 */
import type { TransferWorkflowInput } from '../../core/transfer';
import type { Outcome, Payout, PayoutEvent, Work } from './model';
import { isFinal, liveAttempt } from './moves';
import { applyCommand } from './commands';
import { afterHold, onApproval, onStepStarted } from './submission';
import { onAchAnswer, onAchStep } from './ach-queue';
import { onBankMessage, onBankStep, onDeadline } from './follow-bank';
import { onRecallStep } from './recall';
import { onCompensationStep } from './compensation';

export function startPayout(input: TransferWorkflowInput): Payout {
  return {
    transferId: input.transferId,
    rail: input.rail,
    fx: input.targetCurrency !== input.currency,
    approvalRequired: input.approvalRequired === true,
    timing: input.timing,
    phase: { kind: 'holding' },
    status: 'created',
    reason: null,
    failureCode: null,
    hold: 'none',
    fxBooked: false,
    attempts: [],
    seen: [],
    settledAtMs: null,
    corrections: [],
    recalls: 0,
    resendsAfterUnknown: 0,
    approvalId: null,
    fourEyes: true,
    confirmsAtBooking: true,
    awaiting: [],
    pendingWrite: null,
    moves: [],
  };
}

/** Applies one event. Never mutates `p`. Throws only on a bug (an event the workflow should not have fed). */
export function apply(p: Payout, event: PayoutEvent, nowMs: number): Outcome {
  // The payout is plain JSON data (it crosses continue-as-new as a payload): a JSON copy is exact.
  const next = JSON.parse(JSON.stringify(p)) as Payout;
  next.moves = [];
  const out: Outcome = { payout: next, answers: [] };
  switch (event.type) {
    case 'command':
      return applyCommand(next, event.command, nowMs);
    case 'step_started':
      onStepStarted(next, event.step);
      return out;
    case 'bank':
      onBankMessage(next, event.message, nowMs, out);
      return out;
    case 'ach_answer':
      onAchAnswer(next, event.answer, nowMs, out);
      return out;
    case 'approval':
      onApproval(next, event.decision);
      return out;
    case 'deadline':
      onDeadline(next, nowMs);
      return out;
    case 'step_done':
    case 'step_failed':
      onStep(next, event, nowMs, out);
      return out;
  }
}

function onStep(p: Payout, event: Extract<PayoutEvent, { type: 'step_done' | 'step_failed' }>, nowMs: number, out: Outcome): void {
  if (event.step === 'markStatus') {
    // A status the database would not take still leaves the workflow where it is, saying so.
    if (event.type === 'step_failed') p.reason = `${p.pendingWrite?.reason ?? ''} (the database row was not updated: ${event.message})`;
    p.pendingWrite = null;
    return;
  }
  if (event.step === 'recordCorrection') {
    // A correction is recorded once or, if the database will not take it now, at the next wait.
    if (event.type === 'step_done') p.corrections.shift();
    return;
  }
  switch (p.phase.kind) {
    case 'holding':
    case 'converting':
    case 'submitting':
    case 'switching_rail':
      return afterHold(p, event, nowMs);
    case 'withdrawing':
    case 'reading_entry':
    case 'requeueing':
      return onAchStep(p, event, nowMs, out);
    case 'recalling':
      return onRecallStep(p, event, nowMs, out);
    case 'compensating':
      return onCompensationStep(p, event);
    default:
      return onBankStep(p, event, nowMs, out);
  }
}

/** The one step to run next, or undefined when the payout waits for an event. */
export function work(p: Payout): Work | undefined {
  const id = p.transferId;
  if (p.pendingWrite) {
    const w = p.pendingWrite;
    return { step: 'markStatus', input: { transferId: id, status: w.status, reason: w.reason }, summary: `status ${w.status}` };
  }
  const a = liveAttempt(p);
  const ph = p.phase;
  switch (ph.kind) {
    case 'holding':
      return { step: 'holdFunds', input: { transferId: id }, summary: 'hold the funds' };
    case 'converting':
      return { step: 'convertFunds', input: { transferId: id }, summary: 'convert at the quote' };
    case 'submitting':
      return { step: 'submitPayout', input: { transferId: id, attemptNo: p.attempts.length === 0 || isFinal(p.attempts.at(-1)!) ? p.attempts.length + 1 : p.attempts.at(-1)!.no }, summary: `submit over ${p.rail}` };
    case 'switching_rail':
      return { step: 'switchRail', input: { transferId: id, rail: ph.to, reason: `${p.rail} could not reach the beneficiary (${ph.code}); retrying over ${ph.to}` }, summary: `switch to ${ph.to}` };
    case 'withdrawing':
      return { step: 'withdrawAchEntry', input: { traceNumber: a!.railReference }, summary: `withdraw trace ${a!.railReference}` };
    case 'reading_entry':
      return { step: 'achEntryState', input: { traceNumber: a!.railReference }, summary: `read trace ${a!.railReference}` };
    case 'requeueing':
      return { step: 'requeueAchEntry', input: { traceNumber: a!.railReference }, summary: `re-queue trace ${a!.railReference}` };
    case 'inquiring':
      return { step: 'checkPayout', input: { railReference: a!.railReference, rail: a!.rail, transferId: id, attemptNo: a!.no }, summary: `ask the bank about ${a!.railReference ?? `attempt ${a!.no}`}` };
    case 'recalling':
      return { step: 'recallPayout', input: { transferId: id, attemptId: a!.attemptId, reason: ph.by.command.reason, recallNo: ph.recallNo }, summary: `recall ${a!.railReference} (camt.056)` };
    case 'reconciling':
      return { step: 'reconcileAttempt', input: { attemptId: a!.attemptId, lastLook: true }, summary: `match ${a!.railReference} on the statement` };
    case 'booking': {
      const step = ph.steps[0];
      if (step === 'confirm') return { step: 'confirmAttempt', input: { attemptId: a!.attemptId }, summary: 'the bank has the payment' };
      if (step === 'settle') return { step: 'settlePayout', input: { transferId: id, attemptId: a!.attemptId }, summary: 'post the hold: settled' };
      return { step: 'completeTransfer', input: { transferId: id }, summary: 'complete' };
    }
    case 'assessing_return':
      return { step: 'assessReturn', input: { transferId: id, rail: p.rail, code: ph.code, settledAtMs: p.settledAtMs, receivedAtMs: ph.receivedAtMs }, summary: `assess return ${ph.code}` };
    case 'recording_return':
      if (ph.decision === 'dishonor') return { step: 'dishonorReturn', input: { transferId: id, code: ph.code, operator: ph.by!.command.operator, reason: ph.by!.command.reason }, summary: `dishonor return ${ph.code}` };
      return {
        step: 'recordReturn',
        input: { transferId: id, code: ph.code, ...(ph.by ? { reason: `late return ${ph.code} accepted by ${ph.by.command.operator}: ${ph.by.command.reason}` } : {}) },
        summary: `credit return ${ph.code} back`,
      };
    case 'compensating': {
      const step = ph.steps[0];
      if (step === 'end') return { step: 'endTransfer', input: { transferId: id, ...ph.end }, summary: `end ${ph.end.status} (${ph.end.code})` };
      return { step, input: { transferId: id }, summary: `compensation: ${step}` };
    }
    case 'following':
    case 'watching':
    case 'return_question':
      if (p.corrections.length > 0 && a?.railReference) {
        const c = p.corrections[0];
        return { step: 'recordCorrection', input: { transferId: id, traceNumber: a.railReference, ...c }, summary: `notification of change ${c.code}` };
      }
      return undefined;
    case 'approval':
    case 'queued':
    case 'unknown':
    case 'parked':
    case 'done':
      return undefined;
  }
}

/** When the current wait ends if nothing arrives (workflow time), or undefined for a wait without one. */
export function deadlineOf(p: Payout): number | undefined {
  const ph = p.phase;
  switch (ph.kind) {
    case 'queued':
      return ph.answerDueMs;
    case 'following':
    case 'unknown':
      return ph.dueMs;
    case 'watching':
      return ph.untilMs;
    default:
      // Approval, an operator and a return decision wait as long as it takes (SPEC §5): no deadline.
      return undefined;
  }
}
