/**
 * Following the bank (pure): nothing polls. Each wait is the `bankMessage` signal plus one deadline.
 *
 *   following(settlement)  settled → following(statement); statement_matched → booking;
 *                          rejected / returned before settlement → compensate, failed;
 *                          recall_confirmed → compensate, canceled;
 *                          deadline → one inquiry: settled → statement; still pending → parked
 *   following(statement)   statement_matched → booking(settle, complete) → watching;
 *                          statement_break (either stage) → one look at the statements now;
 *                          deadline → one look at the statements (reconcileAttempt): matched →
 *                          booking; otherwise the hold is posted (the bank paid) and the transfer
 *                          parks naming the break; retry looks once more
 *   unknown                the bank's word (accepted, settled, rejected) resolves it; deadline →
 *                          one inquiry: found → following; not found → another wait (twice), then a
 *                          resend under the same reference (twice), then parked; retry inquires now
 *   watching               the return window, one timer from settlement: returned → assessed
 *                          against the rail's window from the settlement time (not from when
 *                          reconciliation finished); timely → credited back, returned; late or
 *                          not a return of the entry → return_question, for an operator's
 *                          returnDecision; correction (ACH COR) → recorded, the transfer stays
 *                          completed; the deadline → done
 *
 * The hold is posted when the payment is booked (`settlePayout`): at the statement match, or when
 * the statement deadline passes, since either way the bank paid.
 */
import type { BankMessage } from '../../core/bank-message';
import type { PayoutInquiry } from '../../activities/transfers';
import type { AttemptReconciliation } from '../../services/reconciliation';
import type { BookingStep, Outcome, Payout, PayoutEvent, Phase } from './model';
import { achAnswerOverdue, attemptFor, enterUnknown, following, liveAttempt, moveTo, park, writeStatus } from './moves';
import { compensate } from './compensation';

/** Inquiries that find nothing before a resend under the same reference, and resends before an operator is asked. */
export const NOT_FOUND_BEFORE_RESEND = 3;
export const MAX_RESENDS = 2;

/**
 * The bank has the payment (accepted, or `settled`): the attempt is confirmed in the database if the
 * submit step did not record it, and the payout follows it from there.
 */
export function bankHasIt(p: Payout, settled: boolean, nowMs: number, how: string): void {
  const a = liveAttempt(p)!;
  a.state = settled ? 'settled' : 'accepted';
  if (settled && p.settledAtMs === null) p.settledAtMs = nowMs;
  const next = following(p, settled ? 'statement' : 'settlement', nowMs);
  if (a.recorded) {
    if (p.status === 'needs_attention' || p.status === 'unknown') writeStatus(p, 'submitted', how);
    p.phase = next;
    return;
  }
  if (settled && p.confirmsAtBooking && p.phase.kind === 'queued') {
    // The window's send recorded it submitted; the booking at the statement confirms the attempt.
    moveTo(p, 'submitted', how);
    p.phase = next;
    return;
  }
  writeStatus(p, 'submitted', how);
  p.phase = { kind: 'booking', steps: ['confirm'], then: next };
}

/** The bank paid and the statement shows it (or its deadline passed): post the hold, then `then`. */
function book(p: Payout, steps: BookingStep[], then: Phase): void {
  const a = liveAttempt(p)!;
  // The settle step moves the row from submitted: a payout the bank paid before we recorded it as submitted is recorded so first.
  if (p.status === 'funds_held' || p.status === 'fx_locked') writeStatus(p, 'submitted', `the bank settled ${a.railReference}`);
  p.phase = { kind: 'booking', steps: a.recorded ? steps : ['confirm', ...steps], then };
}

function watching(p: Payout): Phase {
  return { kind: 'watching', untilMs: (p.settledAtMs ?? 0) + p.timing.returnWindowMs };
}

/** Waiting phases in which a live attempt is with the bank and the bank's word moves the payout. */
function followsAttempt(p: Payout): boolean {
  const k = p.phase.kind;
  return k === 'queued' || k === 'unknown' || k === 'following' || k === 'parked';
}

export function onBankMessage(p: Payout, m: BankMessage, nowMs: number, out: Outcome): void {
  if (p.seen.includes(m.messageId)) return;
  p.seen.push(m.messageId);
  const a = attemptFor(p, m.railReference);
  // A message about an attempt that is over (rejected, then a late duplicate) changes nothing.
  if (!a || a !== liveAttempt(p)) return;
  const ph = p.phase;
  // A parked compensation is already the bank's word played out; nothing reopens it.
  if (ph.kind === 'parked' && ph.parked.retry.kind === 'compensating') return;
  switch (m.kind) {
    case 'accepted':
      if (a.state === 'sending' || a.state === 'queued' || a.state === 'unknown' || a.state === 'file_refused') {
        if (followsAttempt(p)) bankHasIt(p, false, nowMs, `the bank accepted ${a.railReference}`);
      }
      return;
    case 'settled':
      if (a.state === 'settled') return;
      if (followsAttempt(p) && !(ph.kind === 'following' && ph.stage === 'statement')) bankHasIt(p, true, nowMs, `the bank settled ${a.railReference}`);
      else a.state = 'settled';
      if (p.settledAtMs === null) p.settledAtMs = nowMs;
      return;
    case 'statement_matched':
      if (!followsAttempt(p)) return;
      if (p.settledAtMs === null) p.settledAtMs = nowMs;
      a.state = 'settled';
      book(p, ['settle', 'complete'], watching(p));
      return;
    case 'statement_break':
      // The statement booked it with another amount: the bank paid; the look at the statement parks it naming the break.
      if (followsAttempt(p) && ph.kind === 'following') p.phase = { kind: 'reconciling', resume: { ...ph, stage: 'statement' } };
      return;
    case 'rejected':
      if (a.state === 'settled' || !followsAttempt(p)) return;
      a.state = 'rejected';
      a.code = m.code ?? 'rejected';
      compensate(p, { status: 'failed', code: a.code, message: `rejected by the bank with ${a.code}`, attemptId: a.attemptId ?? undefined });
      return;
    case 'returned': {
      const code = m.code ?? 'returned';
      if (ph.kind === 'watching') {
        p.phase = { kind: 'assessing_return', code, receivedAtMs: nowMs };
        return;
      }
      if (!followsAttempt(p)) return;
      if (a.state === 'settled') {
        // Returned after settlement, before the statement: book the payment, then the return.
        book(p, ['settle', 'complete'], { kind: 'assessing_return', code, receivedAtMs: nowMs });
        return;
      }
      // Returned before it settled: the money never reached the beneficiary.
      a.state = 'rejected';
      a.code = code;
      compensate(p, { status: 'failed', code, message: `the bank returned the payment before settlement (${code})`, attemptId: a.attemptId ?? undefined });
      return;
    }
    case 'correction':
      if (m.code) p.corrections.push({ code: m.code, factId: m.messageId });
      return;
    case 'recall_confirmed':
      if (a.state === 'settled' || !followsAttempt(p)) return;
      a.state = 'recalled';
      compensate(p, { status: 'canceled', code: 'recalled', message: `the bank recalled ${a.railReference} (camt.029 CNCL)`, attemptId: a.attemptId ?? undefined });
      return;
    case 'recall_refused':
      // The recall step answers its own cancel; a refusal arriving on its own leaves the payment standing.
      void out;
      return;
  }
}

/** The current wait's deadline passed (the workflow checks the time). */
export function onDeadline(p: Payout, nowMs: number): void {
  const ph = p.phase;
  switch (ph.kind) {
    case 'queued':
      return achAnswerOverdue(p);
    case 'unknown':
      p.phase = { kind: 'inquiring', why: 'unknown', notFound: ph.notFound, resends: ph.resends };
      return;
    case 'following':
      if (ph.stage === 'settlement') p.phase = { kind: 'inquiring', why: 'settlement', notFound: 0, resends: 0 };
      else p.phase = { kind: 'reconciling', resume: ph };
      return;
    case 'watching':
      p.phase = { kind: 'done' };
      return;
    default:
      void nowMs;
      return;
  }
}

type StepEvent = Extract<PayoutEvent, { type: 'step_done' | 'step_failed' }>;

export function onBankStep(p: Payout, event: StepEvent, nowMs: number, out: Outcome): void {
  const ph = p.phase;
  const a = liveAttempt(p);
  switch (ph.kind) {
    case 'inquiring':
      return onInquiry(p, ph, event, nowMs, out);
    case 'reconciling': {
      if (event.type === 'step_failed') {
        park(p, { step: 'reconcileAttempt', retry: ph, resumeStatus: null, cancel: { refused: sentToBank(p) } }, `reconcileAttempt failed after its retries: ${event.message}`);
        return;
      }
      const r = event.result as AttemptReconciliation;
      if (r.outcome === 'matched') {
        if (p.settledAtMs === null) p.settledAtMs = nowMs;
        a!.state = 'settled';
        book(p, ['settle', 'complete'], watching(p));
        return;
      }
      const reason = r.outcome === 'break' ? r.reason : `${a!.railReference} was not matched on a bank statement within ${p.timing.reconcileWindowMs} ms`;
      if (p.settledAtMs === null) p.settledAtMs = nowMs;
      a!.state = 'settled';
      // The bank paid: the hold is posted whatever the statement says, then an operator looks.
      const parkedPhase: Phase = { kind: 'parked', parked: { step: 'reconciliation', reason, retry: { kind: 'reconciling', resume: ph.resume }, resumeStatus: 'settled', cancel: { refused: sentToBank(p) } } };
      book(p, ['settle'], parkedPhase);
      return;
    }
    case 'booking': {
      const [step, ...rest] = ph.steps;
      if (event.type === 'step_failed') {
        park(p, { step: event.step, retry: ph, resumeStatus: null, cancel: { refused: sentToBank(p) } }, `${event.step} failed after its retries: ${event.message}`);
        return;
      }
      if (step === 'confirm') a!.recorded = true;
      if (step === 'settle') {
        p.hold = 'posted';
        moveTo(p, 'settled', null);
      }
      if (step === 'complete') moveTo(p, 'completed', null);
      if (rest.length > 0) {
        p.phase = { kind: 'booking', steps: rest, then: ph.then };
        return;
      }
      p.phase = ph.then;
      if (ph.then.kind === 'parked') writeStatus(p, 'needs_attention', ph.then.parked.reason);
      return;
    }
    case 'assessing_return': {
      if (event.type === 'step_failed') {
        park(p, { step: 'assessReturn', retry: ph, resumeStatus: null, cancel: { refused: 'the payment was paid out and the bank returned it; retry books the return' } }, `assessReturn failed after its retries: ${event.message}`);
        return;
      }
      const verdict = event.result as { take: true } | { take: false; reason: string };
      if (verdict.take) {
        p.phase = { kind: 'recording_return', code: ph.code, decision: 'take' };
        return;
      }
      // assessReturn wrote needs_attention itself.
      moveTo(p, 'needs_attention', verdict.reason);
      p.phase = { kind: 'return_question', code: ph.code, reason: verdict.reason };
      return;
    }
    case 'recording_return': {
      if (event.type === 'step_failed') {
        park(p, { step: event.step, retry: ph, resumeStatus: null, cancel: { refused: 'the payment was paid out and the bank returned it; retry books the return' } }, `${event.step} failed after its retries: ${event.message}`);
        return;
      }
      if (ph.decision === 'dishonor') {
        moveTo(p, 'completed', `return ${ph.code} dishonored by ${ph.by!.command.operator}: ${ph.by!.command.reason}`);
      } else {
        p.failureCode = ph.code;
        moveTo(p, 'returned', ph.by ? `late return ${ph.code} accepted by ${ph.by.command.operator}: ${ph.by.command.reason}` : `returned by the bank (${ph.code})`);
      }
      p.phase = { kind: 'done' };
      return;
    }
    default:
      throw new Error(`machine bug: ${event.step} result in ${ph.kind}`);
  }
}

function onInquiry(p: Payout, ph: Extract<Phase, { kind: 'inquiring' }>, event: StepEvent, nowMs: number, out: Outcome): void {
  const a = liveAttempt(p)!;
  if (event.type === 'step_failed') {
    if (ph.by) {
      out.answers.push({ id: ph.by.id, accepted: false, message: `the bank could not be asked about ${a.railReference} (${event.message}); nothing was compensated` });
      p.awaiting = p.awaiting.filter((id) => id !== ph.by!.id);
    }
    // The cancel that asked was answered above; retrying asks the bank again as for any unknown outcome.
    const retry: Phase = ph.why === 'cancel' ? { kind: 'inquiring', why: 'unknown', notFound: 0, resends: 0 } : { ...ph, by: undefined };
    park(p, { step: 'inquiry', retry, resumeStatus: null, cancel: ph.why === 'cancel' ? 'inquire' : { refused: sentToBank(p) } }, `checkPayout failed after its retries: ${event.message}`);
    return;
  }
  const r = event.result as PayoutInquiry;
  if (r.attempt && a.railReference === null) {
    a.attemptId = r.attempt.attemptId;
    a.railReference = r.attempt.railReference;
  }
  // An ACH inquiry answers a notification of change with the payment's state: recorded like a COR file's.
  if (r.correction && !p.corrections.some((c) => c.code === r.correction!.code)) p.corrections.push({ code: r.correction.code, correctedData: r.correction.correctedData });
  const refuseCancel = (why: string) => {
    if (!ph.by) return;
    out.answers.push({ id: ph.by.id, accepted: false, message: why });
    p.awaiting = p.awaiting.filter((id) => id !== ph.by!.id);
  };
  switch (r.state) {
    case 'pending':
      refuseCancel(`refused: the bank has ${a.railReference}; ${sentToBank(p)}`);
      if (ph.why === 'settlement') {
        park(p, { step: 'settlement', retry: following(p, 'settlement', nowMs), resumeStatus: 'submitted', cancel: { refused: sentToBank(p) } }, `no settlement within ${p.timing.settlementTimeoutMs} ms for reference ${a.railReference}`);
        return;
      }
      bankHasIt(p, false, nowMs, `the bank confirmed ${a.railReference} on inquiry`);
      return;
    case 'settled':
      refuseCancel(`refused: the bank settled ${a.railReference}; ${sentToBank(p)}`);
      bankHasIt(p, true, nowMs, `the bank confirmed ${a.railReference} on inquiry`);
      return;
    case 'rejected':
    case 'returned':
      a.state = 'rejected';
      a.code = r.code ?? r.state;
      compensate(p, { status: 'failed', code: a.code, message: `the bank ${r.state} the payment (${r.code ?? 'no code'})`, attemptId: a.attemptId ?? undefined });
      return;
    case 'canceled':
      a.state = 'recalled';
      compensate(p, { status: 'canceled', code: 'recalled', message: `the bank canceled ${a.railReference} on a recall`, attemptId: a.attemptId ?? undefined });
      return;
    case 'not_found':
      if (ph.why === 'cancel') {
        // The bank's word that it never received the payment: the cancel compensates.
        a.state = 'not_received';
        compensate(p, { status: 'canceled', code: 'canceled', message: `canceled by ${ph.by!.command.operator}: ${ph.by!.command.reason}; the bank has no record of ${a.railReference}`, attemptId: a.attemptId ?? undefined });
        return;
      }
      if (ph.why === 'settlement') {
        park(p, { step: 'settlement', retry: following(p, 'settlement', nowMs), resumeStatus: 'submitted', cancel: 'inquire' }, `the bank has no record of ${a.railReference}, which it accepted; an operator settles it with the bank`);
        return;
      }
      if (ph.notFound + 1 < NOT_FOUND_BEFORE_RESEND) {
        enterUnknown(p, nowMs, ph.notFound + 1, ph.resends);
        return;
      }
      if (ph.resends < MAX_RESENDS) {
        // Proven not received: send again under the same reference, which the bank dedupes.
        p.phase = { kind: 'submitting' };
        p.resendsAfterUnknown = ph.resends + 1;
        return;
      }
      park(
        p,
        { step: 'inquiry', retry: { kind: 'inquiring', why: 'unknown', notFound: 0, resends: 0 }, resumeStatus: 'unknown', cancel: { refused: `the bank has not confirmed that ${a.railReference} is dead; retry inquires again` } },
        `the bank has no record of ${a.railReference} after ${ph.resends} resends under the same reference`,
      );
      return;
  }
}

export function sentToBank(p: Payout): string {
  return `the payment was sent to the bank over ${p.rail}; it can no longer be canceled here: retry, or settle it with the bank`;
}
