/**
 * Daily reconciliation workflow, started by the `reconciliation-daily` Schedule (or by hand with a
 * date): one activity reads the bank's camt.053 statements for the day, matches every entry,
 * records breaks (amounts that differ, references we never sent, settled attempts missing beyond
 * the match window) and compares every rail account's closing balance with the ledger.
 *
 * No compensation: the run only reads the bank and writes matches and breaks, idempotently, so a
 * second run of the same day finds the same breaks and adds nothing.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { DailyReconciliation } from '../services/reconciliation';

/** A day's statements are bounded (see services/reconciliation.ts); the bank is retried like any bank call. */
const recon = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  scheduleToCloseTimeout: '1h',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5m', maximumAttempts: 10 },
});

export interface ReconciliationInput {
  /** YYYY-MM-DD; absent: today's statement under RAIL_TIME=demo, yesterday's under real. */
  date?: string;
}

export async function reconciliationWorkflow(input: ReconciliationInput = {}): Promise<DailyReconciliation> {
  return recon.reconcileStatementDay({ date: input.date ?? null });
}
