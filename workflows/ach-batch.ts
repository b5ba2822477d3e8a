/**
 * One workflow per ACH file window, ID `ach-batch-<windowId>`: it sleeps until the window's
 * cut-off and then sends the window's one NACHA file (`sendAchWindow`, idempotent on the window).
 * Started by the first payout queued in the window; later ones find it running (USE_EXISTING).
 */
import { ApplicationFailure, proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

/** Sending a file: the bank may be down for a while; retried with backoff for up to two hours. */
const files = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '2h',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 60 },
});

/** Real windows are at most a long weekend away (four days and a holiday); more is a bug. */
const CUTOFF_WAIT_MAX_MS = 6 * 86_400_000;

export async function achBatchWorkflow(input: { windowId: string; cutoffAtMs: number }): Promise<{ entries: number; accepted: number; rejected: number }> {
  const waitMs = input.cutoffAtMs - Date.now();
  if (waitMs > CUTOFF_WAIT_MAX_MS) throw ApplicationFailure.nonRetryable(`window ${input.windowId} closes ${waitMs} ms from now`, 'ach_window_too_far');
  if (waitMs > 0) await sleep(waitMs);
  return files.sendAchWindow({ windowId: input.windowId });
}
