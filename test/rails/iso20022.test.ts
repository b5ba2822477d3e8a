import assert from 'node:assert/strict';
import { buildPacs002, buildPacs008, buildPacs028, parsePacs002, parsePacs008, parsePacs028, uetrFor, type CreditTransfer } from '../../rails/iso20022/messages';
import { assertValidAgainstXsd } from '../support/xsd';
import { buildPain001, buildPain002, parsePain001, parsePain002 } from '../../rails/iso20022/pain';

describe('ISO 20022 messages', () => {
  const base: CreditTransfer = {
    messageId: 'att_01m8000000000000000000000a',
    createdAt: new Date('2026-11-24T10:00:00.123Z'),
    endToEndId: 'att_01m8000000000000000000000a',
    uetr: uetrFor('att_01m8000000000000000000000a'),
    amountMinor: 123_456,
    currency: 'EUR',
    settlementDate: '2026-11-24',
    chargeBearer: 'SHA',
    debtor: { name: 'Railyard', accountNumber: '1871234567', bic: 'RAILUS33XXX' },
    creditor: { name: 'Zoë Ångström & Co', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX', country: 'DE' },
    remittance: 'invoice 42',
  };

  it('derives a stable UUID v4 UETR from the end-to-end reference', () => {
    assert.match(base.uetr, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(uetrFor(base.endToEndId), base.uetr);
    assert.notEqual(uetrFor('other'), base.uetr);
  });

  for (const [currency, amountMinor, decimal] of [['EUR', 123_456, '1234.56'], ['JPY', 15_138, '15138'], ['KWD', 30_745, '30.745'], ['BHD', 1, '0.001']] as const) {
    it(`builds a schema-valid pacs.008.001.09 carrying ${decimal} ${currency} exactly`, async () => {
      const xml = buildPacs008({ ...base, currency, amountMinor });
      await assertValidAgainstXsd(xml, 'pacs.008.001.09');
      assert.ok(xml.includes(`<IntrBkSttlmAmt Ccy="${currency}">${decimal}</IntrBkSttlmAmt>`), xml);
      const parsed = parsePacs008(xml);
      assert.equal(parsed.amountMinor, amountMinor);
      assert.equal(parsed.currency, currency);
      assert.equal(parsed.uetr, base.uetr);
      assert.equal(parsed.chargeBearer, 'SHA');
      assert.equal(parsed.creditor.iban, 'DE89370400440532013000');
    });
  }

  it('builds schema-valid pacs.002.001.11 status reports and reads them back', async () => {
    for (const status of ['ACSP', 'ACCC', 'RJCT'] as const) {
      const xml = buildPacs002({ messageId: 'sts-1', createdAt: new Date(), originalMessageId: base.messageId, endToEndId: base.endToEndId, uetr: base.uetr, status, reasonCode: status === 'RJCT' ? 'AC04' : undefined });
      await assertValidAgainstXsd(xml, 'pacs.002.001.11');
      const parsed = parsePacs002(xml);
      assert.equal(parsed.status, status);
      assert.equal(parsed.reasonCode, status === 'RJCT' ? 'AC04' : undefined);
    }
  });

  it('rejects a pacs.008 with excess precision or a missing field, naming it', () => {
    const xml = buildPacs008(base).replace('>1234.56<', '>1234.567<');
    assert.throws(() => parsePacs008(xml), /IntrBkSttlmAmt: 1234.567 has more precision than EUR allows/);
    assert.throws(() => parsePacs008(buildPacs008(base).replace(/<UETR>.*<\/UETR>/, '')), /missing CdtTrfTxInf\/PmtId\/UETR/);
    assert.throws(() => parsePacs008('<Document'), /not well-formed XML|missing/);
  });

  it('builds a schema-valid SEPA pain.001.001.10 and pain.002.001.11, and reads them back exactly', async () => {
    const ct = {
      messageId: 'att_01m8000000000000000000000b',
      createdAt: new Date('2026-11-24T10:00:00Z'),
      endToEndId: 'att_01m8000000000000000000000b',
      amountMinor: 100_001,
      currency: 'EUR' as const,
      executionDate: '2026-11-25',
      debtor: { name: 'Railyard Europe', iban: 'DE02100100100006820101', bic: 'RAILDEFFXXX' },
      creditor: { name: 'Émilie du Châtelet', iban: 'DE89370400440532013000' },
      remittance: 'Rechnung 7',
    };
    const xml = buildPain001(ct);
    await assertValidAgainstXsd(xml, 'pain.001.001.10');
    assert.ok(xml.includes('<InstdAmt Ccy="EUR">1000.01</InstdAmt>'));
    assert.equal(parsePain001(xml).amountMinor, 100_001);
    assert.throws(() => parsePain001(xml.replace('Ccy="EUR"', 'Ccy="USD"')), /SEPA carries EUR only/);
    for (const status of ['ACTC', 'ACSC', 'RJCT'] as const) {
      const report = buildPain002({ messageId: 'm', createdAt: new Date(), originalMessageId: ct.messageId, endToEndId: ct.endToEndId, status, reasonCode: status === 'RJCT' ? 'AC01' : undefined });
      await assertValidAgainstXsd(report, 'pain.002.001.11');
      assert.equal(parsePain002(report).status, status);
    }
  });

  it('builds a schema-valid pacs.028.001.04 status request and reads its reference back', async () => {
    const xml = buildPacs028({ messageId: 'INQ-1', createdAt: new Date(), originalMessageId: base.messageId, endToEndId: base.endToEndId, uetr: base.uetr });
    await assertValidAgainstXsd(xml, 'pacs.028.001.04');
    assert.equal(parsePacs028(xml).endToEndId, base.endToEndId);
  });

  it('builds a schema-valid pacs.008 without a creditor BIC (IBAN only) for SEPA Instant', async () => {
    const xml = buildPacs008({ ...base, creditor: { ...base.creditor, bic: undefined } });
    await assertValidAgainstXsd(xml, 'pacs.008.001.09');
    assert.ok(xml.includes('<Id>NOTPROVIDED</Id>'));
  });
});
