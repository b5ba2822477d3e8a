/**
 * Reconciliation activities: our settled attempts and ledger against the bank's camt.053
 * statements (services/reconciliation.ts does the work).
 *
 * Idempotency: matches are keyed by attempt, breaks by their dedupe key, the charges posting by
 * `tr_…:bank_charges`; a retried activity finds its own earlier work.
 *
 * Errors: a bank that does not answer is thrown as retryable `BankUnavailable`; a statement that
 * cannot be read is non-retryable `statement_unreadable` (asking again gets the same file).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/core';
import { BankUnavailableError } from '../rails/bank-http';
import { IsoMessageError } from '../rails/iso20022/xml';
import type { StatementSource } from '../rails/statements';
import { reconcileAttempt, reconcileDay, utcDate, type AttemptReconciliation, type DailyReconciliation } from '../services/reconciliation';

export interface ReconciliationActivityDeps {
  orm: MikroORM;
  statements: StatementSource;
  /** `demo` reconciles today's statement (the day so far), `real` yesterday's (a closed day). */
  railTime: 'demo' | 'real';
  /** A settled attempt absent from the statements for longer than this is a break. */
  matchWindowMs: number;
}

async function bankCall<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof BankUnavailableError) throw ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: err.retryAfterMs, cause: err });
    // readIsoAnswer reports a statement it cannot parse as "bank sent an unreadable camt.053: …".
    if (err instanceof IsoMessageError || (err instanceof Error && /unreadable camt\.053/.test(err.message))) throw ApplicationFailure.nonRetryable(err.message, 'statement_unreadable');
    throw err;
  }
}

export function createReconciliationActivities(deps: ReconciliationActivityDeps) {
  return {
    /** One look for a settled attempt on the bank's statements: matched, pending, or a break (recorded). */
    async reconcileAttempt(input: { attemptId: string; lastLook: boolean }): Promise<AttemptReconciliation> {
      return bankCall(() => reconcileAttempt(deps.orm, deps.statements, input));
    },

    /** The daily statement and balance reconciliation, for `date` or the default day of this deployment. */
    async reconcileStatementDay(input: { date: string | null }): Promise<DailyReconciliation> {
      const date = input.date ?? utcDate(deps.railTime === 'demo' ? Date.now() : Date.now() - 86_400_000);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw ApplicationFailure.nonRetryable(`date must be YYYY-MM-DD, got ${date}`, 'invalid_input');
      return bankCall(() => reconcileDay(deps.orm, deps.statements, { date, matchWindowMs: deps.matchWindowMs }));
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
