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
 * The answers are read from the entry rows a page at a time and each page's signals go out
 * together; past ACH_BATCH_HISTORY_EVENTS_MAX events the workflow continues as new, carrying where
 * it stands, so a window of any size stays inside Temporal's payload and history limits.
 * A window may go out in several files (activities/ach-windows.ts): each answer names its
 * entry's own file, and an entry Railyard could not write into any file is answered rejected with
 * why (nothing of it was sent).
 * Started by the first payout queued in the window; later ones find it running (USE_EXISTING).
 * Signals to a payout that has ended (none should: a queued payout waits for this answer) are
 * logged and skipped.
 */
import { ActivityFailure, ApplicationFailure, continueAsNew, defineSignal, getExternalWorkflowHandle, log, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AchWindowAnswer } from '../activities/ach-windows';
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

/**
 * Since this patch a window of any size fits Temporal's limits: the send hands back counts, not a
 * row per entry (a 20,000-entry window's rows passed the 2 MB payload limit); the answers are read
 * from the entry rows a page at a time and signalled a page at a time; and the workflow continues
 * as new before its history grows large (about two events per signal reached the 51,200-event
 * limit near 10,000 entries). Before it, one result carried every entry.
 */
const ANSWERS_PAGED_PATCH = 'ach-answers-paged';

/** Answers read and signalled together: a page's signals go out in one workflow task. */
export const ACH_ANSWER_PAGE = 200;
/** Past this many history events the workflow continues as new (Temporal's limit is 51,200). */
export const ACH_BATCH_HISTORY_EVENTS_MAX = 10_000;

/** Real windows are at most a long weekend away (four days and a holiday); more is a bug. */
const CUTOFF_WAIT_MAX_MS = 6 * 86_400_000;

type WindowOutcome = 'sent' | 'file_rejected' | 'file_unconfirmed';
export interface AchBatchResult {
  entries: number;
  accepted: number;
  rejected: number;
  outcome: WindowOutcome;
}

/** Where a window's answering stands: carried into the next run when the workflow continues as new. */
export interface AchAnswering {
  outcome: WindowOutcome;
  /** The last entry (attempt ID) told; null before the first page. */
  after: string | null;
  /** How many payouts have been told so far. */
  told: number;
  /** The send's counts (when it answered). */
  accepted: number;
  rejected: number;
  /** Why the files' fate is unknown (outcome file_unconfirmed). */
  why?: string;
}

export interface AchBatchInput {
  windowId: string;
  cutoffAtMs: number;
  /** Set when continued as new: the window went out; its answers are handed on from `answering.after`. */
  answering?: AchAnswering;
  /** ACH_ANSWER_PAGE and ACH_BATCH_HISTORY_EVENTS_MAX unless given (tests make them small). */
  pageSize?: number;
  historyEventsMax?: number;
}

export async function achBatchWorkflow(input: AchBatchInput): Promise<AchBatchResult> {
  if (input.answering || patched(ANSWERS_PAGED_PATCH)) return pagedWindow(input);
  return wholeWindow(input);
}

async function untilCutoff(input: AchBatchInput): Promise<void> {
  const waitMs = input.cutoffAtMs - Date.now();
  if (waitMs > CUTOFF_WAIT_MAX_MS) throw ApplicationFailure.nonRetryable(`window ${input.windowId} closes ${waitMs} ms from now`, 'ach_window_too_far');
  if (waitMs > 0) await sleep(waitMs);
}

/** Tells one payout its entry's answer; a payout that has ended (none should) is logged and skipped. */
async function tell(answer: AchFileAnswer & { transferId: string }): Promise<void> {
  const { transferId, ...rest } = answer;
  try {
    await getExternalWorkflowHandle(workflowIdFor(transferId)).signal(achFileAnswerSignal, rest);
  } catch (err) {
    log.warn('ACH file answer not delivered', { transferId, windowId: rest.windowId, error: (err as Error).message });
  }
}

/**
 * Sends the window (counts only), then hands the answers on a page at a time, continuing as new
 * when the history has grown; a continued run starts at the page it was given.
 */
async function pagedWindow(input: AchBatchInput): Promise<AchBatchResult> {
  const pageSize = input.pageSize ?? ACH_ANSWER_PAGE;
  const historyEventsMax = input.historyEventsMax ?? ACH_BATCH_HISTORY_EVENTS_MAX;
  let state: AchAnswering | undefined = input.answering;
  if (!state) {
    await untilCutoff(input);
    try {
      const sent = await files.sendAchWindow.executeWithOptions({ ...ACH_FILE_SEND, summary: `send the NACHA files of ${input.windowId}` }, [{ windowId: input.windowId, summaryOnly: true }]);
      state = { outcome: sent.fileRejected ? 'file_rejected' : 'sent', after: null, told: 0, accepted: sent.accepted, rejected: sent.rejected };
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // Out of retries: the files may or may not have landed. Every payout still in one is told, by trace number.
      state = { outcome: 'file_unconfirmed', after: null, told: 0, accepted: 0, rejected: 0, why: err.cause?.message ?? err.message };
    }
  }
  for (;;) {
    const unconfirmed = state.outcome === 'file_unconfirmed' ? { why: state.why ?? 'no answer' } : undefined;
    const page: { answers: AchWindowAnswer[]; next: string | null } = await entries.achWindowAnswers({ windowId: input.windowId, after: state.after, limit: pageSize, ...(unconfirmed ? { unconfirmed } : {}) });
    await Promise.all(page.answers.map(tell));
    state = { ...state, after: page.next, told: state.told + page.answers.length };
    if (page.next === null) break;
    const info = workflowInfo();
    if (info.historyLength >= historyEventsMax || info.continueAsNewSuggested) {
      await continueAsNew<typeof achBatchWorkflow>({ ...input, answering: state });
    }
  }
  if (state.outcome === 'file_unconfirmed') return { entries: state.told, accepted: 0, rejected: state.told, outcome: state.outcome };
  return { entries: state.accepted + state.rejected, accepted: state.accepted, rejected: state.rejected, outcome: state.outcome };
}

/** Before ANSWERS_PAGED_PATCH: one send whose result carries every entry, every answer signalled from it. */
async function wholeWindow(input: AchBatchInput): Promise<AchBatchResult> {
  await untilCutoff(input);

  let answers: AchFileAnswer[];
  let outcome: WindowOutcome = 'sent';
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
  for (const a of told as (AchFileAnswer & { transferId: string })[]) await tell(a);
  const rejected = answers.filter((a) => a.outcome !== 'accepted').length;
  return { entries: answers.length, accepted: answers.length - rejected, rejected, outcome };
}
