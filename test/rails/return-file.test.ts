/**
 * NACHA return and notification-of-change files as the simulated bank writes them: valid NACHA
 * (parseNacha checks every record, count and total), and read back to codes, trace numbers and
 * amounts only.
 */
import assert from 'node:assert/strict';
import { buildCreditFile, emitNacha, NachaError, parseNacha } from '../../rails/ach/nacha';
import { buildReturnFile, parseReturnFile } from '../../rails/ach/return-file';

const INPUT = {
  rdfiRouting: '091000019',
  odfiRouting: '021000021',
  createdAt: new Date('2026-12-02T15:30:00Z'),
  fileIdModifier: 'B',
  companyName: 'RAILYARD',
  companyId: '1234567890',
  entries: [
    { kind: 'return' as const, code: 'R01', originalTraceNumber: '021000020000001', originalRoutingNumber: '091000019', accountNumber: '000123456780', individualName: 'ADA PAYEE', amountMinor: 12_345 },
    { kind: 'correction' as const, code: 'C03', originalTraceNumber: '021000020000002', originalRoutingNumber: '091000019', accountNumber: '000888888885', individualName: 'ADA PAYEE', amountMinor: 999, correctedData: '021000021   000888888886' },
  ],
};

describe('NACHA return and COR files', () => {
  it('writes a file parseNacha accepts: a return batch and a COR batch, blocked by 10', () => {
    const text = buildReturnFile(INPUT);
    const file = parseNacha(text);
    assert.deepEqual(file.batches.map((b) => b.header.fields.standardEntryClassCode), ['PPD', 'COR']);
    assert.deepEqual(file.batches.map((b) => b.entries[0].addenda[0].fields.addendaTypeCode), ['99', '98']);
    assert.equal(text.split('\n').filter(Boolean).length % 10, 0);
  });

  it('reads back codes, original trace numbers and amounts (a COR carries none), never the account', () => {
    assert.deepEqual(parseReturnFile(buildReturnFile(INPUT)), [
      { kind: 'return', code: 'R01', originalTraceNumber: '021000020000001', amountMinor: 12_345 },
      { kind: 'correction', code: 'C03', originalTraceNumber: '021000020000002', amountMinor: 0, correctedData: '021000021   000888888886' },
    ]);
  });

  it('refuses an ordinary credit file: its entries carry no return addenda', () => {
    const credit = emitNacha(
      buildCreditFile({ originRouting: '021000021', originName: 'R', destinationRouting: '091000019', destinationName: 'F', companyName: 'RAILYARD', companyId: '1234567890', entryClass: 'PPD', entryDescription: 'PAYOUT', createdAt: INPUT.createdAt, effectiveDate: INPUT.createdAt, fileIdModifier: 'A', entries: [{ transactionCode: '22', routingNumber: '091000019', accountNumber: '1', amountMinor: 1, individualId: 'X', individualName: 'Y', traceNumber: '021000020000009' }] }),
    );
    assert.throws(() => parseReturnFile(credit), NachaError);
  });
});
