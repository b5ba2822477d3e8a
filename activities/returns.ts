/**
 * Returns after settlement: whether an incoming return may be taken as it is.
 *
 * An ACH return is checked against its NACHA window (core/ach-returns.ts) at the moment the
 * workflow saw it, on the workflow's clock; other rails' returns are taken. A return that is late,
 * or whose code is not a return of an original entry, is not taken silently: the transfer moves
 * to needs_attention naming it, and an operator accepts it (the client is credited back) or
 * dishonors it (the transfer stays completed).
 *
 * Idempotent: moving to the status the transfer already has is a no-op. Nothing here is retryable
 * but the database: a broken transition is a bug and is non-retryable.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MikroORM } from '@mikro-orm/core';
import { assessAchReturn } from '../core/ach-returns';
import type { Rail } from '../core/transfer';
import { inTransaction } from '../ledger/ledger';
import { InvalidTransitionError, moveStatus } from '../transfers/status';

export type ReturnVerdict = { take: true } | { take: false; reason: string };

export function createReturnActivities(deps: { orm: MikroORM }) {
  const em = () => deps.orm.em.fork();
  const nonRetryable = (err: unknown): never => {
    if (err instanceof InvalidTransitionError) throw ApplicationFailure.nonRetryable(err.message, 'invalid_transition');
    throw err;
  };

  return {
    /**
     * Checks a return seen by the workflow at `receivedAtMs` for a payout it saw settle at
     * `settledAtMs` (both workflow time). A return not to be taken moves the transfer to needs_attention.
     */
    async assessReturn(input: { transferId: string; rail: Rail; code: string; settledAtMs: number; receivedAtMs: number }): Promise<ReturnVerdict> {
      if (input.rail !== 'ach') return { take: true };
      const assessment = assessAchReturn(input.code, input.settledAtMs, input.receivedAtMs);
      if (assessment.timely) return { take: true };
      const reason = `${assessment.reason}: an operator accepts or dishonors it`;
      await inTransaction(em(), (tx) => moveStatus(tx, input.transferId, 'needs_attention', reason)).catch(nonRetryable);
      return { take: false, reason };
    },

    /** An operator dishonored a late return: the payout stands, completed, with who and why recorded. */
    async dishonorReturn(input: { transferId: string; code: string; operator: string; reason: string }): Promise<void> {
      const why = `return ${input.code} dishonored by ${input.operator}: ${input.reason}`;
      await inTransaction(em(), (tx) => moveStatus(tx, input.transferId, 'completed', why)).catch(nonRetryable);
    },
  };
}

export type ReturnActivities = ReturnType<typeof createReturnActivities>;
