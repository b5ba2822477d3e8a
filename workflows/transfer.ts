/**
 * Payout workflow: one per transfer, ID `transfer-<transferId>`.
 *
 * Steps (activity → status):
 *   1. holdFunds         created → funds_held            insufficient funds → failed
 *   1b. convertFunds     funds_held → fx_locked          cross-currency only, at the quoted rate
 *   2. submitPayout      funds_held → submitted          bank rejection → failed (hold voided)
 *   3. checkPayout loop  every timing.pollIntervalMs, at most timing.settlementTimeoutMs
 *                        rejected/returned before settlement → failed (hold voided)
 *      A submission whose answer never came is `unknown`: the loop inquires under the same
 *      reference; found → submitted; not found three times → resent under the same reference
 *      (the bank dedupes), at most twice, then needs_attention. Never a new reference.
 *   4. settlePayout      submitted → settled             the hold is posted
 *   4b. reconcileAttempt loop  every timing.reconcilePollIntervalMs, at most timing.reconcileWindowMs:
 *                        settled becomes completed only once the bank's statement shows the payment
 *                        with our amount; a break (amount differs, never on the statement) →
 *                        needs_attention naming the break; an operator's retry looks again
 *   5. completeTransfer  settled → completed
 *   6. watchForReturns   through the return window (timing.returnWindowMs), see return-watch.ts: a
 *                        timely return moves the transfer to returned and credits the client back
 *                        with new postings; a late one waits in needs_attention for an operator
 *
 * Compensation: while the bank has not settled, any ending other than settlement undoes what was
 * done, in reverse order, in one activity and one transaction (non-cancellable): unwind the
 * conversion (at the then-current rate, gain or loss booked explicitly) and credit the client back,
 * or void the hold. Once the bank may have paid, nothing is undone automatically: an operator decides.
 *
 * When a step's retry budget runs out (the bank stays down, say) the transfer moves to
 * needs_attention and waits for an operator's `retry` or `cancel` signal; waiting costs nothing.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { watchForReturns } from './return-watch';
import { FALLBACK_RAIL, SEARCH_ATTRIBUTES, type HoldOutcome, type TransferStatus, type TransferWorkflowInput } from '../core/transfer';

/** Database steps: fast, retried briefly; a broken invariant is non-retryable and surfaces. */
const db = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10 },
});

/** Bank calls: a bank that answers 5xx or not at all is retried with backoff, then handed to ops. */
const bank = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 8 },
});

/** Statement reads: a bank that does not answer is retried, then handed to ops like any bank call. */
const recon = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 8 },
});

/** Reconciliation timing for inputs written before it was part of the timing (the demo values). */
const RECONCILE_WINDOW_MS_FALLBACK = 60_000;
const RECONCILE_POLL_INTERVAL_MS_FALLBACK = 2_000;

export interface OperatorCommand {
  reason: string;
  operator: string;
}

export interface TransferState {
  transferId: string;
  status: TransferStatus;
  reason: string | null;
  railReference: string | null;
  failureCode: string | null;
}

export const statusQuery = defineQuery<TransferState>('status');
export const fundsHeldUpdate = defineUpdate<HoldOutcome>('fundsHeld');
export const retrySignal = defineSignal<[OperatorCommand]>('retry');
export const cancelSignal = defineSignal<[OperatorCommand]>('cancel');

/** After a submission without an answer: inquiries that find nothing before resending under the same reference, and how often. */
const NOT_FOUND_BEFORE_RESEND = 3;
const MAX_RESENDS = 2;

/** How long a stuck transfer waits for an operator before the workflow gives up loudly. */
const OPERATOR_WAIT = '90 days';

class OperatorCanceled extends Error {}

export async function transferWorkflow(input: TransferWorkflowInput): Promise<TransferState> {
  const state: TransferState = { transferId: input.transferId, status: 'created', reason: null, railReference: null, failureCode: null };
  let holdOutcome: HoldOutcome | undefined;
  let operatorCommand: { kind: 'retry' | 'cancel'; command: OperatorCommand } | undefined;
  /** True while the hold (or conversion) may be undone: before anything was sent to the bank. */
  let undoPossible = false;

  setHandler(statusQuery, () => state);
  setHandler(fundsHeldUpdate, async () => {
    await condition(() => holdOutcome !== undefined);
    return holdOutcome!;
  });
  setHandler(retrySignal, (command) => {
    if (state.status === 'needs_attention') operatorCommand = { kind: 'retry', command };
  });
  setHandler(cancelSignal, (command) => {
    // Cancel only while nothing can have reached the beneficiary; after submission it is refused.
    if (state.status === 'needs_attention' && undoPossible) operatorCommand = { kind: 'cancel', command };
  });

  function setStatus(status: TransferStatus, reason: string | null): void {
    state.status = status;
    state.reason = reason;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
  }

  /** Runs a step; when its retries are exhausted, parks the transfer for an operator. */
  async function step<T>(name: string, resumeStatus: TransferStatus, run: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await run();
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const reason = `${name} failed after its retries: ${err.cause?.message ?? err.message}`;
        await db.markNeedsAttention({ transferId: input.transferId, reason });
        setStatus('needs_attention', reason);
        operatorCommand = undefined;
        if (!(await condition(() => operatorCommand !== undefined, OPERATOR_WAIT))) {
          throw ApplicationFailure.nonRetryable(`transfer ${input.transferId} waited ${OPERATOR_WAIT} for an operator`, 'operator_timeout');
        }
        const { kind, command } = operatorCommand!;
        if (kind === 'cancel') throw new OperatorCanceled(`canceled by ${command.operator}: ${command.reason}`);
        await db.resumeStatus({ transferId: input.transferId, status: resumeStatus, reason: `retry by ${command.operator}: ${command.reason}` });
        setStatus(resumeStatus, command.reason);
      }
    }
  }

  /** Undoes the hold or the conversion and ends the transfer, as one activity and one transaction. */
  async function endWithoutPayout(status: 'failed' | 'canceled', code: string, message: string, attemptId?: string): Promise<TransferState> {
    await CancellationScope.nonCancellable(() => db.failTransfer({ transferId: input.transferId, status, code, message, attemptId }));
    undoPossible = false;
    state.failureCode = code;
    setStatus(status, message);
    return state;
  }

  try {
    const hold = await step('holdFunds', 'created', () => db.holdFunds({ transferId: input.transferId }));
    holdOutcome = hold;
    if (!hold.held) {
      state.failureCode = hold.failureCode ?? null;
      setStatus(hold.status, hold.failureCode ?? null);
      return state;
    }
    undoPossible = true;
    setStatus('funds_held', null);

    if (input.targetCurrency !== input.currency) {
      await step('convertFunds', 'funds_held', () => db.convertFunds({ transferId: input.transferId }));
      setStatus('fx_locked', null);
    }

    let rail = input.rail;
    let attemptNo = 1;
    const submit = () => step('submitPayout', state.status === 'unknown' ? 'unknown' : input.targetCurrency !== input.currency ? 'fx_locked' : 'funds_held', () => bank.submitPayout({ transferId: input.transferId, attemptNo }));
    let submission = await submit();
    const fallback = FALLBACK_RAIL[rail];
    if (submission.outcome === 'rejected' && submission.fallback && fallback) {
      // The rail could not reach the beneficiary and nothing was paid: a new attempt on the fallback rail.
      await db.switchRail({ transferId: input.transferId, rail: fallback, reason: `${rail} could not reach the beneficiary (${submission.code}); retrying over ${fallback}` });
      rail = fallback;
      attemptNo = 2;
      upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.rail, value: rail }]);
      submission = await submit();
    }
    state.railReference = submission.railReference;
    if (submission.outcome === 'rejected') return await endWithoutPayout('failed', submission.code, submission.message, submission.attemptId);
    // From here the bank may pay: nothing is undone automatically unless the bank says it did not.
    undoPossible = false;
    let unknown = submission.outcome === 'unknown';
    setStatus(unknown ? 'unknown' : 'submitted', submission.outcome === 'unknown' ? submission.reason : null);

    const maxPolls = Math.ceil(input.timing.settlementTimeoutMs / input.timing.pollIntervalMs);
    let settled = false;
    let notFound = 0;
    let resends = 0;
    for (let poll = 0; poll < maxPolls && !settled; poll++) {
      await sleep(input.timing.pollIntervalMs);
      const answer = await step('checkPayout', unknown ? 'unknown' : 'submitted', () => bank.checkPayout({ railReference: submission.railReference, rail }));
      if (unknown && answer.state !== 'not_found') {
        // The inquiry found the payment under our reference: the submission did land.
        await db.resumeStatus({ transferId: input.transferId, status: 'submitted', reason: `the bank confirmed ${submission.railReference} on inquiry` });
        await db.confirmAttempt({ attemptId: submission.attemptId });
        unknown = false;
        setStatus('submitted', null);
      }
      if (answer.state === 'settled') settled = true;
      else if (answer.state === 'rejected' || answer.state === 'returned') {
        return await endWithoutPayout('failed', answer.code ?? answer.state, `the bank ${answer.state} the payment (${answer.code ?? 'no code'})`, submission.attemptId);
      } else if (answer.state === 'not_found' && unknown && ++notFound >= NOT_FOUND_BEFORE_RESEND) {
        if (resends >= MAX_RESENDS) {
          const reason = `the bank has no record of ${submission.railReference} after ${resends} resends under the same reference`;
          await db.markNeedsAttention({ transferId: input.transferId, reason });
          setStatus('needs_attention', reason);
          return state;
        }
        // Proven not received: send again under the same reference, which the bank dedupes.
        resends++;
        notFound = 0;
        submission = await submit();
        if (submission.outcome === 'rejected') return await endWithoutPayout('failed', submission.code, submission.message, submission.attemptId);
        unknown = submission.outcome === 'unknown';
        setStatus(unknown ? 'unknown' : 'submitted', submission.outcome === 'unknown' ? submission.reason : null);
      }
    }
    if (!settled) {
      // Funds may already be at the beneficiary: never void here. An operator decides.
      undoPossible = false;
      const reason = `no settlement within ${input.timing.settlementTimeoutMs} ms for trace ${submission.railReference}`;
      await db.markNeedsAttention({ transferId: input.transferId, reason });
      setStatus('needs_attention', reason);
      return state;
    }

    undoPossible = false;
    await step('settlePayout', 'submitted', () => db.settlePayout({ transferId: input.transferId, attemptId: submission.attemptId }));
    setStatus('settled', null);
    // Histories from before reconciliation completed straight after settlement; they replay as they ran.
    if (patched('reconcile-before-complete')) {
      const windowMs = input.timing.reconcileWindowMs ?? RECONCILE_WINDOW_MS_FALLBACK;
      const intervalMs = input.timing.reconcilePollIntervalMs ?? RECONCILE_POLL_INTERVAL_MS_FALLBACK;
      const looks = Math.max(1, Math.ceil(windowMs / intervalMs));
      for (;;) {
        let matched = false;
        let breakReason = `${submission.railReference} was not matched on a bank statement within ${windowMs} ms`;
        for (let look = 1; look <= looks && !matched; look++) {
          const r = await step('reconcileAttempt', 'settled', () => recon.reconcileAttempt({ attemptId: submission.attemptId, lastLook: look === looks }));
          if (r.outcome === 'matched') matched = true;
          else if (r.outcome === 'break') {
            breakReason = r.reason;
            break;
          } else await sleep(intervalMs);
        }
        if (matched) break;
        // The bank may have paid something else than we sent, or nothing: an operator looks, then retries.
        await db.markNeedsAttention({ transferId: input.transferId, reason: breakReason });
        setStatus('needs_attention', breakReason);
        operatorCommand = undefined;
        if (!(await condition(() => operatorCommand !== undefined, OPERATOR_WAIT))) {
          throw ApplicationFailure.nonRetryable(`transfer ${input.transferId} waited ${OPERATOR_WAIT} for an operator`, 'operator_timeout');
        }
        const { command } = operatorCommand!;
        await db.resumeStatus({ transferId: input.transferId, status: 'settled', reason: `retry by ${command.operator}: ${command.reason}` });
        setStatus('settled', command.reason);
      }
    }
    await step('completeTransfer', 'settled', () => db.completeTransfer({ transferId: input.transferId }));
    setStatus('completed', null);

    // The bank may still return the payment: watch through the return window (timers cost nothing).
    await watchForReturns({ transferId: input.transferId, rail, railReference: submission.railReference, timing: input.timing, settledAtMs: Date.now() }, (status, reason, failureCode) => {
      if (failureCode) state.failureCode = failureCode;
      setStatus(status, reason);
    });
    return state;
  } catch (err) {
    if (err instanceof OperatorCanceled) {
      if (undoPossible) return await endWithoutPayout('canceled', 'canceled', err.message);
      throw err;
    }
    if (undoPossible) await endWithoutPayout('failed', 'internal_error', `payout stopped: ${(err as Error).message}`);
    throw err;
  }
}
