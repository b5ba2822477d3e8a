/**
 * Notifications of change (ACH COR entries) on paid payouts: the bank paid, and says which detail
 * of the beneficiary to correct for the next payout. Recorded on the transfer as a stored
 * correction and an event in its history; the transfer's status does not change.
 *
 * Key: (transfer, trace number, change code), unique in `ach_corrections`: a correction seen again on a
 * later look is recorded once. Not retryable only when the transfer is missing (a bug).
 */
import type { MikroORM } from '@mikro-orm/core';
import { describeChange } from '../core/ach-noc';
import { newId } from '../core/ids';
import { AchCorrection, Transfer, TransferEvent } from '../db/schema';
import { inTransaction } from '../ledger/ledger';

export function createCorrectionActivities(deps: { orm: MikroORM }) {
  return {
    async recordCorrection(input: { transferId: string; traceNumber: string; code: string; correctedData: string }): Promise<{ recorded: boolean }> {
      if (!/^C\d{2}$/.test(input.code) || input.correctedData.length > 29) {
        throw new RangeError(`not a notification of change: ${input.code} ${JSON.stringify(input.correctedData)}`);
      }
      return inTransaction(deps.orm.em.fork(), async (tx) => {
        if (await tx.findOne(AchCorrection, { transferId: input.transferId, traceNumber: input.traceNumber, code: input.code })) return { recorded: false };
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        const now = new Date();
        await tx.insert(AchCorrection, { id: newId('noc'), transferId: transfer.id, traceNumber: input.traceNumber, code: input.code, correctedData: input.correctedData, receivedAt: now });
        tx.persist(tx.create(TransferEvent, { id: newId('evt'), transferId: transfer.id, status: transfer.status, reason: describeChange(input.code, input.correctedData), at: now }));
        transfer.updatedAt = now;
        return { recorded: true };
      });
    },
  };
}
