/**
 * The payout workflow's activity option sets: every timeout and retry bound written out, and why.
 *
 * A step whose retries run out does not fail the transfer: the workflow moves it to
 * needs_attention and waits for an operator. So these budgets say how long Railyard keeps trying on
 * its own before it asks a person, not how long before it gives up.
 */
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Error types that no retry can fix: broken ledger invariants, an impossible status change, a rail
 * this worker does not carry, an instruction the rail cannot express. Activities throw them as
 * non-retryable already; naming them here keeps that true if one forgets.
 */
const FINAL_ERRORS = [
  'invalid_transition',
  'hold_already_resolved',
  'hold_not_found',
  'ledger_conflict',
  'currency_mismatch',
  'rail_not_configured',
  'invalid_payment_instruction',
  'rail_cannot_recall',
];

/**
 * Database steps (hold, convert, settle, status changes): one transaction each, normally
 * milliseconds. A 30 s start-to-close catches a hung connection; ten attempts over about five
 * minutes ride out a database failover; then an operator is asked.
 */
export const LEDGER_STEP: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '5m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 10, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Compensations (void the hold, unwind the conversion, end the transfer): the same database work,
 * tried longer because a compensation that cannot finish leaves a client's money held. Twenty
 * attempts over up to fifteen minutes, then needs_attention with the compensation named.
 */
export const LEDGER_COMPENSATION: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '15m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 20, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Submitting a payment to the bank. The HTTP call has its own 10–20 s timeout, so 30 s
 * start-to-close only catches a stuck worker. A bank answering 5xx, 429 or refusing connections is
 * retried from 2 s doubling to 2 min, eight attempts, within ten minutes; a bank's Retry-After
 * replaces the next delay (the activity sets `nextRetryDelay`). A definitive rejection is a result,
 * not an error, and is never retried. Every attempt resends the same end-to-end reference, which
 * the bank dedupes.
 */
export const BANK_SUBMIT: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 8, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Asking the bank where a payment stands: read-only, so as patient as submission. The polling
 * cadence itself is the workflow's timers, not these retries.
 */
export const BANK_INQUIRY: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 8, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Recalling a submitted payment (camt.056). A refusal or a cancellation is a result; only a bank
 * that does not answer is retried: from 2 s doubling to 30 s, six attempts within three minutes,
 * resending the same cancellation ID, which the bank dedupes. Shorter than submission because an
 * operator waits on the answer and the payment keeps moving towards settlement meanwhile; when
 * the bank stays silent the transfer parks in needs_attention naming the unanswered recall, and
 * nothing is compensated.
 */
export const BANK_RECALL: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '3m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 6, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Looking for returns after completion: a look that fails is simply taken again at the next
 * interval, so one short try (three attempts within a minute) is enough.
 */
export const BANK_RETURN_WATCH: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '1m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Reading the bank's statement to match a settled payment: a bank that does not answer is retried
 * like an inquiry, then the step parks for an operator. The cadence of looks is the workflow's.
 */
export const STATEMENT_READ: ActivityOptions = {
  startToCloseTimeout: '1m',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 8, nonRetryableErrorTypes: FINAL_ERRORS },
};

/**
 * Writing an operator action to the audit log, before the action takes effect. If the log cannot
 * be written within two minutes the action is refused and nothing is done, so no action goes
 * unrecorded.
 */
export const AUDIT_RECORD: ActivityOptions = {
  startToCloseTimeout: '10s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 10 },
};

/**
 * Sending a window's NACHA files (workflows/ach-batch.ts): the bank may be down for a while, and a
 * whole window's payouts wait on it, so it is tried for up to two hours (from 2 s doubling to
 * 2 min, at most 60 attempts); a retry after a lost answer sends the same stored bytes, which the
 * bank recognises as the same file. Then every payout still in a file is told and parks for an
 * operator. A window of many files takes a while (50,000 entries are five files, each recorded
 * entry by entry): an attempt may run ten minutes and heartbeats after planning and after each
 * file, so a worker that died is noticed within the heartbeat timeout, not the attempt's.
 */
export const ACH_FILE_SEND: ActivityOptions = {
  startToCloseTimeout: '10m',
  heartbeatTimeout: '2m',
  scheduleToCloseTimeout: '2h',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 60, nonRetryableErrorTypes: [...FINAL_ERRORS, 'ach_file_partial', 'ach_windows_not_configured'] },
};

/**
 * How long a queued payout waits, past its window's cut-off, for the batch workflow's answer
 * before it looks at the entry row itself: the file's whole retry budget (ACH_FILE_SEND) and a
 * margin for the signals.
 */
export const ACH_FILE_ANSWER_GRACE_MS = 2 * 3_600_000 + 15 * 60_000;

/**
 * The ACH window's own database reads and writes (queue state, withdraw, re-queue): like a ledger
 * step, one short transaction; the re-queue may ask the bank by trace number, so it is retried
 * like an inquiry.
 */
export const ACH_ENTRY_STEP: ActivityOptions = {
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '10m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 8, nonRetryableErrorTypes: [...FINAL_ERRORS, 'ach_windows_not_configured'] },
};
