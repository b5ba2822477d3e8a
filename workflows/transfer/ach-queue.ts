/**
 * ACH queueing (pure): an entry waits in its cut-off window until the bank's word arrives as a
 * `bankMessage` (its settlement, follow-bank.ts: the window's send recorded an accepted entry
 * submitted, unsignalled) or the window's batch workflow (workflows/ach-batch.ts) signals a file
 * answer, `achFileAnswer`. One deadline: the cut-off plus the file's whole retry budget, after which
 * the entry row is read once (`achEntryState`).
 *
 *   accepted          → (batches started before ACCEPTED_UNSIGNALLED_PATCH) the bank has it:
 *                       confirm, then follow it (follow-bank.ts)
 *   rejected          → the bank refused this entry: compensate, failed
 *   file_rejected     → parked; the file took nothing, so cancel compensates and retry re-queues
 *                       the entry into a later window under the same trace number
 *   file_unconfirmed  → parked; the file may have landed: cancel is refused, retry re-queues (the
 *                       re-queue asks the bank by trace number first)
 *
 * Cancel before the cut-off withdraws the entry (the withdrawal's transaction, which guards the
 * window's closing, has the last word): withdrawn → compensate; too late → the cancel is answered
 * refused and the entry keeps waiting for its file. A cancel applied after the file's answer is
 * applied to the phase the answer led to, never to the queue it left (the cut-off race).
 */
import type { Outcome, Payout, PayoutEvent, QueuedWindow } from './model';
import { enterQueue, liveAttempt, park, preSubmitStatus } from './moves';
import { compensate } from './compensation';
import { bankHasIt } from './follow-bank';
import { ACH_FILE_ANSWER_GRACE_MS } from '../activity-options';

type AchAnswer = Extract<PayoutEvent, { type: 'ach_answer' }>['answer'];

export function onAchAnswer(p: Payout, answer: AchAnswer, nowMs: number, out: Outcome): void {
  const ph = p.phase;
  const a = liveAttempt(p);
  // Only the window the entry waits in answers for it; an answer for a window it left is history.
  const window = ph.kind === 'queued' || ph.kind === 'withdrawing' || ph.kind === 'reading_entry' ? ph.window : undefined;
  if (!window || window.windowId !== answer.windowId || !a) return;
  if (ph.kind === 'withdrawing') {
    // The window closed and answered before the withdrawal ran: too late to cancel.
    out.answers.push({ id: ph.by.id, accepted: false, message: `too late: the ${window.label} window (${window.windowId}) closed before the entry could be withdrawn; its file carries the payment` });
    p.awaiting = p.awaiting.filter((id) => id !== ph.by.id);
  }
  fileAnswered(p, window, answer, nowMs);
}

function fileAnswered(p: Payout, window: QueuedWindow, answer: AchAnswer, nowMs: number): void {
  const a = liveAttempt(p)!;
  switch (answer.outcome) {
    case 'accepted':
      bankHasIt(p, false, nowMs, `in file ${answer.fileId} of the ${window.label} window, accepted by the bank, trace ${a.railReference}`);
      return;
    case 'rejected':
      a.state = 'rejected';
      a.code = answer.code ?? 'rejected';
      compensate(p, { status: 'failed', code: a.code, message: answer.message, attemptId: a.attemptId ?? undefined });
      return;
    case 'file_rejected':
      a.state = 'file_refused';
      park(
        p,
        { step: 'achFile', retry: { kind: 'requeueing' }, resumeStatus: preSubmitStatus(p), cancel: 'compensate' },
        `${answer.message}; trace ${a.railReference} was in file ${answer.fileId} of the ${window.label} window (${window.windowId})`,
      );
      return;
    case 'file_unconfirmed':
      a.state = 'unknown';
      park(
        p,
        { step: 'achFile', retry: { kind: 'requeueing' }, resumeStatus: preSubmitStatus(p), cancel: { refused: `file ${answer.fileId} of window ${window.windowId} may have reached the bank; retry asks the bank about trace ${a.railReference} first` } },
        `${answer.message}; trace ${a.railReference} was in file ${answer.fileId} of the ${window.label} window (${window.windowId})`,
      );
      return;
  }
}

export function onAchStep(p: Payout, event: Extract<PayoutEvent, { type: 'step_done' | 'step_failed' }>, nowMs: number, out: Outcome): void {
  const ph = p.phase;
  const a = liveAttempt(p)!;
  if (ph.kind === 'withdrawing') {
    if (event.type === 'step_failed') {
      // The entry may still be in the window and go out in its file: this cancel must not compensate.
      out.answers.push({ id: ph.by.id, accepted: false, message: `withdrawing trace ${a.railReference} failed: ${event.message}; the entry may still go out in its file` });
      p.awaiting = p.awaiting.filter((id) => id !== ph.by.id);
      park(
        p,
        { step: 'withdrawAchEntry', retry: { kind: 'queued', window: ph.window, answerDueMs: ph.answerDueMs }, resumeStatus: preSubmitStatus(p), cancel: { refused: `withdrawing trace ${a.railReference} from ${ph.window.windowId} failed; the entry may still go out in its file` } },
        `withdrawing trace ${a.railReference} from ${ph.window.windowId} failed after its retries: ${event.message}`,
      );
      return;
    }
    const r = event.result as { withdrawn: boolean };
    if (r.withdrawn) {
      a.state = 'withdrawn';
      compensate(p, { status: 'canceled', code: 'canceled', message: `canceled by ${ph.by.command.operator}: ${ph.by.command.reason}`, attemptId: a.attemptId ?? undefined });
      return;
    }
    out.answers.push({ id: ph.by.id, accepted: false, message: `too late: the ${ph.window.label} window (${ph.window.windowId}) closed before the entry could be withdrawn; its file carries the payment` });
    p.awaiting = p.awaiting.filter((id) => id !== ph.by.id);
    p.phase = { kind: 'queued', window: ph.window, answerDueMs: ph.answerDueMs };
    return;
  }
  if (ph.kind === 'reading_entry') {
    if (event.type === 'step_failed') {
      park(
        p,
        { step: 'achEntryState', retry: ph, resumeStatus: preSubmitStatus(p), cancel: { refused: `trace ${a.railReference} may be in a file the bank accepted; retry reads its state again` } },
        `achEntryState failed after its retries: ${event.message}`,
      );
      return;
    }
    const row = event.result as { status: string; code: string | null; fileId: string | null };
    const outcome = row.status === 'accepted' ? 'accepted' : row.status === 'rejected' ? 'rejected' : row.status === 'file_refused' ? 'file_rejected' : 'file_unconfirmed';
    fileAnswered(p, ph.window, { windowId: ph.window.windowId, fileId: row.fileId, outcome, code: row.code, message: `no answer from the batch workflow of ${ph.window.windowId} within ${ACH_FILE_ANSWER_GRACE_MS} ms of its cut-off; the entry is ${row.status}` }, nowMs);
    return;
  }
  if (ph.kind === 'requeueing') {
    if (event.type === 'step_failed') {
      park(
        p,
        { step: 'requeueAchEntry', retry: ph, resumeStatus: preSubmitStatus(p), cancel: { refused: `trace ${a.railReference} may already be queued in a new window; retry finishes the re-queue` } },
        `requeueAchEntry failed after its retries: ${event.message}`,
      );
      return;
    }
    const r = event.result as { outcome: 'queued'; windowId: string; cutoffAtMs: number; label: string } | { outcome: 'accepted' } | { outcome: 'rejected'; code: string };
    if (r.outcome === 'accepted') {
      bankHasIt(p, false, nowMs, `the bank confirmed trace ${a.railReference} on inquiry`);
      return;
    }
    if (r.outcome === 'rejected') {
      a.state = 'rejected';
      a.code = r.code;
      compensate(p, { status: 'failed', code: r.code, message: `rejected by the bank with ${r.code}`, attemptId: a.attemptId ?? undefined });
      return;
    }
    enterQueue(p, a, r, nowMs);
    return;
  }
}
