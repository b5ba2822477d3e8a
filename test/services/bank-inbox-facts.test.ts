/** What the facts reader takes from an ACH file acknowledgment (services/bank-inbox-facts.ts). */
import assert from 'node:assert/strict';
import { buildAchAck, FILE_REJECTED_CODE } from '../../rails/ach/acknowledgment';
import { readFacts, readMessage } from '../../services/bank-inbox-facts';

const ack = (status: 'accepted' | 'rejected', entries: { traceNumber: string; status: 'accepted' | 'rejected'; code: string | null }[]) =>
  buildAchAck({
    id: 'ACK-1',
    createdAt: '2026-12-03T09:00:00.000Z',
    file: { immediateOrigin: '123456780', creationDate: '261203', creationTime: '0900', idModifier: 'A' },
    status,
    entryCount: entries.length,
    totalCreditMinor: 1_000 * entries.length,
    entries,
  });

describe('bank message facts: ACH file acknowledgments', () => {
  it('an entry accepted or rejected with its own code is a fact about that payment', () => {
    const raw = ack('accepted', [
      { traceNumber: '123456780000001', status: 'accepted', code: null },
      { traceNumber: '123456780000002', status: 'rejected', code: 'R03' },
    ]);
    assert.deepEqual(readFacts('ach.file_ack', raw), [
      { kind: 'accepted', railReference: '123456780000001' },
      { kind: 'rejected', railReference: '123456780000002', code: 'R03' },
    ]);
    assert.equal(readMessage('ach.file_ack', raw).namesNoPayment, false);
  });

  it('entries of a file refused whole are no verdict on their payments: no fact, and the message still names payments (no break)', () => {
    const raw = ack('rejected', [
      { traceNumber: '123456780000003', status: 'rejected', code: FILE_REJECTED_CODE },
      { traceNumber: '123456780000004', status: 'rejected', code: FILE_REJECTED_CODE },
    ]);
    assert.deepEqual(readFacts('ach.file_ack', raw), []);
    assert.equal(readMessage('ach.file_ack', raw).namesNoPayment, false);
    assert.equal(readMessage('ach.file_ack', ack('rejected', [])).namesNoPayment, true, 'a refusal listing nothing names no payment');
  });
});
