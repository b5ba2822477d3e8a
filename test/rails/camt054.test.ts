/**
 * camt.054.001.08 debit notifications: built schema-valid against the official XSD, read back
 * exactly (charges included), malformed input refused naming the field.
 */
import assert from 'node:assert/strict';
import { buildCamt054, parseCamt054 } from '../../rails/iso20022/camt054';
import { IsoMessageError } from '../../rails/iso20022/xml';
import { assertValidAgainstXsd } from '../support/xsd';

const NOTIFICATION = {
  messageId: 'SIM-0000000001-abcd1234',
  createdAt: new Date('2026-12-02T16:00:00Z'),
  id: 'NTFCTN-1',
  accountId: 'RAILYARD-SWIFT-EUR',
  currency: 'EUR',
  entries: [{ endToEndId: 'att_ours', uetr: '3f1c2b9e-4d5a-4b6c-8d7e-9f0a1b2c3d4e', amountMinor: 100_100, direction: 'DBIT' as const, bookingDate: '2026-12-02', subFamily: 'XBCT', accountServicerRef: 'SIM-DBIT-att_ours', charges: { amountMinor: 100, bearer: 'DEBT' as const, included: true } }],
};

describe('camt.054 debit notifications', () => {
  it('builds a schema-valid notification and reads it back exactly', async () => {
    const xml = buildCamt054(NOTIFICATION);
    await assertValidAgainstXsd(xml, 'camt.054.001.08');
    const [read] = parseCamt054(xml);
    assert.deepEqual({ messageId: read.messageId, id: read.id, accountId: read.accountId, currency: read.currency }, { messageId: NOTIFICATION.messageId, id: 'NTFCTN-1', accountId: 'RAILYARD-SWIFT-EUR', currency: 'EUR' });
    assert.deepEqual(read.entries, NOTIFICATION.entries);
  });

  it('refuses an amount in another currency and a missing reference to the account, naming the field', () => {
    const xml = buildCamt054(NOTIFICATION);
    assert.throws(() => parseCamt054(xml.replace('<Amt Ccy="EUR">1001.00</Amt>', '<Amt Ccy="USD">1001.00</Amt>')), (err: Error) => err instanceof IsoMessageError && /Ntfctn\[0\]\/Ntry\[0\]\/Amt\/@Ccy/.test(err.message));
    assert.throws(() => parseCamt054(xml.replace(/<Acct>[\s\S]*?<\/Acct>/, '')), (err: Error) => err instanceof IsoMessageError && /Acct/.test(err.message));
  });
});
