/**
 * Compensation (pure): undo in reverse order — unwind the conversion, void the hold — then end the
 * transfer failed or canceled. The workflow runs these steps in a non-cancellable scope.
 *
 * The one rule: never while the bank may have the payment. `compensate` refuses (throws: a bug)
 * unless every attempt is final by the bank's definitive word — rejected, recalled (camt.029 CNCL),
 * withdrawn from its ACH window before the file, its file refused whole, or not received (the
 * bank's inquiry found nothing). Callers check `mayCompensate` first.
 *
 * A compensation step whose retries run out parks the transfer; retry runs the remaining steps
 * again (each is idempotent by its business key); cancel is refused, since it is what is running.
 */
import { MAY_HAVE_LEFT, type CompensationStep, type Ending, type Payout, type PayoutEvent } from './model';
import { moveTo, park } from './moves';

/** Whether no attempt may be with the bank, so compensating cannot lose money. */
export function mayCompensate(p: Payout): boolean {
  return !p.attempts.some((a) => MAY_HAVE_LEFT.includes(a.state));
}

export function compensate(p: Payout, end: Ending): void {
  if (!mayCompensate(p)) throw new Error(`machine bug: ${p.transferId} would compensate while the bank may have the payment`);
  // No attempt stays open on an ended transfer: a refused file's entry was never paid.
  for (const a of p.attempts) if (a.state === 'file_refused') a.state = 'not_received';
  const last = p.attempts.at(-1);
  if (end.attemptId && last?.attemptId === end.attemptId) end = { ...end, attemptStatus: last.state === 'rejected' ? 'rejected' : last.state === 'recalled' ? 'recalled' : 'canceled' };
  const steps: CompensationStep[] = [];
  if (p.fxBooked) steps.push('unwindFx');
  // A hold step that never answered may have placed it: voiding is a no-op when it did not.
  if (p.hold === 'pending' || p.hold === 'maybe') steps.push('voidHold');
  steps.push('end');
  p.phase = { kind: 'compensating', steps, end };
}

export function onCompensationStep(p: Payout, event: Extract<PayoutEvent, { type: 'step_done' | 'step_failed' }>): void {
  if (p.phase.kind !== 'compensating') throw new Error(`machine bug: ${event.step} outside compensation`);
  const { steps, end } = p.phase;
  if (event.type === 'step_failed') {
    park(
      p,
      { step: `compensation ${steps[0]}`, retry: { kind: 'compensating', steps, end }, resumeStatus: null, cancel: { refused: `compensations are in progress (${steps[0]} failed); fix the cause and retry them` } },
      `compensation ${steps[0]} could not complete: ${event.message}; the transfer ends ${end.status} once it does`,
    );
    return;
  }
  const [done, ...rest] = steps;
  if (done === 'unwindFx') {
    p.fxBooked = false;
    // The unwind refunds the client: the posted hold is given back.
  }
  if (done === 'voidHold') p.hold = 'voided';
  if (done === 'end') {
    moveTo(p, end.status, end.message);
    p.failureCode = end.code;
    p.phase = { kind: 'done' };
    return;
  }
  p.phase = { kind: 'compensating', steps: rest, end };
}
