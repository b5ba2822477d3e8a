/**
 * The return watch that follows a completed payout (deterministic workflow code).
 *
 * Through the return window the workflow asks the bank, every `returnPollIntervalMs`, whether the
 * payment came back. A return is checked against its rail's window on the workflow's clock
 * (`assessReturn`): a timely one moves the transfer to `returned` and credits the client back; a
 * late one (or a code that is not a return of an original entry) moves it to `needs_attention`
 * and waits, for as long as it takes, for an operator's `returnDecision` (an Update, or a signal
 * of the same name, handled by transfer.ts like retry and cancel: validated, audited once):
 * `accept` credits the client back as for a timely return, `dishonor` leaves the payout completed.
 *
 * A notification of change (ACH COR entry) seen on a look is recorded on the transfer, once; the
 * payout stays completed. A bank that does not answer a look is asked again at the next one.
 */
import { ActivityFailure, defineSignal, defineUpdate, log, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { BANK_RETURN_WATCH, LEDGER_STEP } from './activity-options';
import type { OperatorResult, ReturnDecisionCommand } from '../core/operator';
import type { Rail, TransferStatus, TransferTiming } from '../core/transfer';

const returnDb = proxyActivities<Activities>(LEDGER_STEP);
/** One look at the bank: short, since the next look comes anyway. */
const returnLook = proxyActivities<Activities>(BANK_RETURN_WATCH);

export type ReturnDecision = ReturnDecisionCommand;

/** An operator's answer to a late return, validated and answered with the result (the ops API's route). */
export const returnDecisionUpdate = defineUpdate<OperatorResult, [ReturnDecisionCommand]>('returnDecision');
/** The same for the CLI: `temporal workflow signal --name returnDecision --input '{"decision":"accept",…}'`. */
export const returnDecisionSignal = defineSignal<[ReturnDecisionCommand]>('returnDecision');

/** A return the workflow would not take silently, put before an operator. */
export interface ReturnInQuestion {
  code: string;
  /** Why it is not taken as it is (late, or not a return of an original entry). */
  reason: string;
}

export interface ReturnWatch {
  transferId: string;
  rail: Rail;
  railReference: string;
  timing: TransferTiming;
  /** When the workflow saw the payout settle, on its own clock. */
  settledAtMs: number;
}

/**
 * `decide` parks the transfer in needs_attention on the return until an operator's accepted
 * `returnDecision`, which it hands back once it is in the audit log (transfer.ts).
 */
export async function watchForReturns(
  watch: ReturnWatch,
  setStatus: (status: TransferStatus, reason: string, failureCode?: string) => void,
  decide: (question: ReturnInQuestion) => Promise<ReturnDecisionCommand>,
): Promise<void> {
  /**
   * A return the bank made must be booked whatever happens to the database meanwhile: each of
   * these activities (idempotent by the transfer) is tried again every returnPollIntervalMs until
   * it succeeds, instead of failing the workflow and leaving the money uncredited.
   */
  async function untilDone<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await run();
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        log.error(`could not ${what}; trying again`, { transferId: watch.transferId, error: err.message });
        await sleep(watch.timing.returnPollIntervalMs);
      }
    }
  }

  const corrections = new Set<string>();
  const looks = Math.ceil(watch.timing.returnWindowMs / watch.timing.returnPollIntervalMs);
  for (let look = 0; look < looks; look++) {
    await sleep(watch.timing.returnPollIntervalMs);
    let answer;
    try {
      answer = await returnLook.checkPayout({ railReference: watch.railReference, rail: watch.rail });
    } catch (err) {
      if (err instanceof ActivityFailure) continue;
      throw err;
    }
    if (answer.correction && !corrections.has(answer.correction.code)) {
      try {
        await returnDb.recordCorrection({ transferId: watch.transferId, traceNumber: watch.railReference, ...answer.correction });
        corrections.add(answer.correction.code);
      } catch (err) {
        // A correction that cannot be stored now is tried again at the next look; it must never
        // end the watch, or a later return would go uncredited.
        if (!(err instanceof ActivityFailure)) throw err;
        log.error('notification of change not recorded; trying again at the next look', { transferId: watch.transferId, error: err.message });
      }
    }
    if (answer.state !== 'returned' && answer.state !== 'rejected') continue;

    const code = answer.code ?? 'returned';
    // Workflow time: on a server that skips time, the skipped days count.
    const verdict = await untilDone('assess the return', () => returnDb.assessReturn({ transferId: watch.transferId, rail: watch.rail, code, settledAtMs: watch.settledAtMs, receivedAtMs: Date.now() }));
    if (verdict.take) {
      await untilDone('credit the return back', () => returnDb.recordReturn({ transferId: watch.transferId, code }));
      setStatus('returned', `returned by the bank (${code})`, code);
      return;
    }
    const d = await decide({ code, reason: verdict.reason });
    if (d.decision === 'accept') {
      const reason = `late return ${code} accepted by ${d.operator}: ${d.reason}`;
      await untilDone('credit the accepted late return back', () => returnDb.recordReturn({ transferId: watch.transferId, code, reason }));
      setStatus('returned', reason, code);
    } else {
      await untilDone('record the dishonored return', () => returnDb.dishonorReturn({ transferId: watch.transferId, code, operator: d.operator, reason: d.reason }));
      setStatus('completed', `return ${code} dishonored by ${d.operator}: ${d.reason}`);
    }
    return;
  }
}
