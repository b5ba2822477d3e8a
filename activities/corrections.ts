/**
 * Notifications of change (ACH COR entries) on paid payouts: the bank paid, and says which detail
 * of the beneficiary to correct for the next payout. Recorded on the transfer as a stored
 * correction and an event in its history; the transfer's status does not change.
 *
 * Key: (transfer, trace number, change code), unique in `ach_corrections`: a correction seen again on a
 * later look is recorded once. Not retryable only when the transfer is missing (a bug).
 *
 * The corrected details come from the stored COR file when the bank's inbox brought the correction
 * (`factId`: the signal carries no account number), or with the input from an inquiry's answer.
 */
import type { MikroORM } from '@mikro-orm/core';
import { describeChange } from '../core/ach-noc';
import { newId } from '../core/ids';
import { AchCorrection, BankInboxMessage, Transfer } from '../db/schema';
import { noteStatus } from '../transfers/status';
import { inTransaction } from '../ledger/ledger';
import { readFacts, splitFactId } from '../services/bank-inbox-facts';

export type CorrectionInput = { transferId: string; traceNumber: string; code: string } & ({ factId: string } | { correctedData: string });

export function createCorrectionActivities(deps: { orm: MikroORM }) {
  return {
    async recordCorrection(input: CorrectionInput): Promise<{ recorded: boolean }> {
      const correctedData = 'factId' in input ? await storedCorrectedData(deps.orm, input) : input.correctedData;
      if (!/^C\d{2}$/.test(input.code) || correctedData.length > 29) {
        throw new RangeError(`not a notification of change: ${input.code} (${correctedData.length} characters of corrected data)`);
      }
      return inTransaction(deps.orm.em.fork(), async (tx) => {
        if (await tx.findOne(AchCorrection, { transferId: input.transferId, traceNumber: input.traceNumber, code: input.code })) return { recorded: false };
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        const now = new Date();
        await tx.insert(AchCorrection, { id: newId('noc'), transferId: transfer.id, traceNumber: input.traceNumber, code: input.code, correctedData, receivedAt: now });
        await noteStatus(tx, transfer, describeChange(input.code, correctedData));
        return { recorded: true };
      });
    },
  };
}

/** The corrected details of fact `<message>:<n>`, read again from the stored COR file; throws when that fact is no such correction. */
async function storedCorrectedData(orm: MikroORM, input: { factId: string; traceNumber: string; code: string }): Promise<string> {
  const { messageId, n } = splitFactId(input.factId);
  const message = await orm.em.fork().findOneOrFail(BankInboxMessage, { id: messageId });
  const read = readFacts(message.type, message.raw)[n];
  if (read?.kind !== 'correction' || read.railReference !== input.traceNumber || read.code !== input.code) {
    throw new RangeError(`bank fact ${input.factId} is not the correction ${input.code} for ${input.traceNumber}`);
  }
  return read.correctedData ?? '';
}
