/**
 * pacs.004.001.10 payment returns: schema-valid out, read back exactly, refused when incomplete.
 */
import assert from 'node:assert/strict';
import { buildPacs004, isPaymentReturn, parsePacs004 } from '../../rails/iso20022/pacs004';
import { IsoMessageError } from '../../rails/iso20022/xml';
import { assertValidAgainstXsd } from '../support/xsd';

describe('ISO 20022 pacs.004.001.10', () => {
  const ret = {
    messageId: 'SIM-RTR-1',
    createdAt: new Date('2026-11-27T09:00:00Z'),
    originalMessageId: 'att_01m8000000000000000000000b',
    originalMessageName: 'pain.001.001.10',
    endToEndId: 'att_01m8000000000000000000000b',
    returnedAmountMinor: 100_001,
    currency: 'EUR',
    settlementDate: '2026-11-27',
    reasonCode: 'MD07',
  };

  it('builds a schema-valid return and reads it back exactly', async () => {
    const xml = buildPacs004(ret);
    await assertValidAgainstXsd(xml, 'pacs.004.001.10');
    assert.ok(isPaymentReturn(xml));
    assert.ok(xml.includes('<RtrdIntrBkSttlmAmt Ccy="EUR">1000.01</RtrdIntrBkSttlmAmt>'));
    assert.deepEqual(parsePacs004(xml), ret);
  });

  it('keeps 3-decimal amounts exact', async () => {
    const xml = buildPacs004({ ...ret, currency: 'KWD', returnedAmountMinor: 1_234_567 });
    await assertValidAgainstXsd(xml, 'pacs.004.001.10');
    assert.equal(parsePacs004(xml).returnedAmountMinor, 1_234_567);
  });

  it('refuses a return without a reason or amount, naming the path', () => {
    const xml = buildPacs004(ret);
    assert.throws(() => parsePacs004(xml.replace(/<RtrRsnInf>[\s\S]*<\/RtrRsnInf>/, '')), (err: Error) => err instanceof IsoMessageError && /RtrRsnInf\/Rsn\/Cd/.test(err.message));
    assert.throws(() => parsePacs004(xml.replace('1000.01', '1000.0x')), IsoMessageError);
    assert.equal(isPaymentReturn('<Document><CstmrPmtStsRpt/></Document>'), false);
  });
});
