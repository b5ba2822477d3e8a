/**
 * One workflow per ACH file window, ID `ach-batch-<windowId>`: it sleeps until the window's
 * cut-off, sends the window's NACHA files (`sendAchWindow`, idempotent on the window), then
 * tells each payout whose entry did not go through how it fared, with the signal `achFileAnswer`:
 *   accepted       (not signalled since ACCEPTED_UNSIGNALLED_PATCH) the bank took the entry: the
 *                  send recorded the attempt and the transfer submitted, and the payout hears the
 *                  bank's settlement next, as on every rail;
 *   rejected       the bank refused this entry (an R-code): that payout alone fails and compensates;
 *   file_rejected  the bank refused the whole file: each payout parks in needs_attention naming it;
 *   file_unconfirmed  the bank stayed unavailable (or silent) past ACH_FILE_SEND's budget, so the
 *                  file's fate is unknown: each payout parks; an operator's retry sends that same
 *                  file again, byte for byte, and never moves the entry while its fate is unknown.
 * A window may go out in several files (activities/ach-windows.ts): each answer names its
 * entry's own file, and an entry Railyard could not write into any file is answered rejected with
 * why (nothing of it was sent).
 * Started by the first payout queued in the window; later ones find it running (USE_EXISTING).
 * Signals to a payout that has ended (none should: a queued payout waits for this answer) are
 * logged and skipped.
 */
import { ActivityFailure, ApplicationFailure, defineSignal, getExternalWorkflowHandle, log, patched, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workflowIdFor } from '../core/transfer';
import { ACH_ENTRY_STEP, ACH_FILE_SEND } from './activity-options';

const files = proxyActivities<Activities>(ACH_FILE_SEND);
const entries = proxyActivities<Activities>(ACH_ENTRY_STEP);

export interface AchFileAnswer {
  windowId: string;
  fileId: string | null;
  traceNumber: string;
  outcome: 'accepted' | 'rejected' | 'file_rejected' | 'file_unconfirmed';
  code: string | null;
  message: string;
}

export const achFileAnswerSignal = defineSignal<[AchFileAnswer]>('achFileAnswer');

/**
 * Before this patch a window went out in one file, its answers all naming it; a history recorded
 * then replays on that branch.
 */
const PER_FILE_ANSWERS_PATCH = 'ach-answers-per-file';

/**
 * Since this patch an accepted entry is not signalled (a signal per payout is an action SPEC §8's
 * budget of 8 has no room for): the send records it submitted. Before it, every entry was.
 */
const ACCEPTED_UNSIGNALLED_PATCH = 'ach-accepted-unsignalled';

/** Real windows are at most a long weekend away (four days and a holiday); more is a bug. */
const CUTOFF_WAIT_MAX_MS = 6 * 86_400_000;

export async function achBatchWorkflow(input: { windowId: string; cutoffAtMs: number }): Promise<{ entries: number; accepted: number; rejected: number; outcome: 'sent' | 'file_rejected' | 'file_unconfirmed' }> {
  const waitMs = input.cutoffAtMs - Date.now();
  if (waitMs > CUTOFF_WAIT_MAX_MS) throw ApplicationFailure.nonRetryable(`window ${input.windowId} closes ${waitMs} ms from now`, 'ach_window_too_far');
  if (waitMs > 0) await sleep(waitMs);

  let answers: AchFileAnswer[];
  let outcome: 'sent' | 'file_rejected' | 'file_unconfirmed' = 'sent';
  try {
    const sent = await files.sendAchWindow.executeWithOptions({ ...ACH_FILE_SEND, summary: `send the NACHA file of ${input.windowId}` }, [{ windowId: input.windowId }]);
    const fileRejected = sent.fileRejected;
    if (fileRejected) outcome = 'file_rejected';
    answers = patched(PER_FILE_ANSWERS_PATCH)
      ? sent.results.map((r) => ({
          windowId: input.windowId,
          fileId: r.fileId ?? null,
          traceNumber: r.traceNumber,
          transferId: r.transferId,
          outcome: r.outcome ?? r.status,
          code: r.code,
          message: r.message ?? `${r.status} by the bank`,
        }))
      : sent.results.map((r) => ({
          windowId: input.windowId,
          fileId: sent.fileId,
          traceNumber: r.traceNumber,
          transferId: r.transferId,
          outcome: fileRejected ? 'file_rejected' : r.status,
          code: r.code,
          message: fileRejected ?? (r.status === 'accepted' ? `accepted by the bank in file ${sent.fileId}` : `rejected by the bank with ${r.code}`),
        }));
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // Out of retries: the file may or may not have landed. Every payout in it is told, by trace number.
    outcome = 'file_unconfirmed';
    const waiting = await entries.achWindowEntries({ windowId: input.windowId });
    const why = err.cause?.message ?? err.message;
    const perFile = patched(PER_FILE_ANSWERS_PATCH);
    answers = waiting.entries.map((e) => {
      const fileId = perFile ? (e.fileId ?? waiting.fileId) : waiting.fileId;
      return {
        windowId: input.windowId,
        fileId,
        traceNumber: e.traceNumber,
        transferId: e.transferId,
        outcome: 'file_unconfirmed',
        code: null,
        message: `the bank did not confirm file ${fileId} of window ${input.windowId} within its retry budget (${why})`,
      };
    });
  }
  const told = patched(ACCEPTED_UNSIGNALLED_PATCH) ? answers.filter((a) => a.outcome !== 'accepted') : answers;
  for (const a of told as (AchFileAnswer & { transferId: string })[]) {
    const { transferId, ...answer } = a;
    try {
      await getExternalWorkflowHandle(workflowIdFor(transferId)).signal(achFileAnswerSignal, answer);
    } catch (err) {
      log.warn('ACH file answer not delivered', { transferId, windowId: input.windowId, error: (err as Error).message });
    }
  }
  const rejected = answers.filter((a) => a.outcome !== 'accepted').length;
  return { entries: answers.length, accepted: answers.length - rejected, rejected, outcome };
}
