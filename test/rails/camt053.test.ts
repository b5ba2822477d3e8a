/**
 * camt.053.001.08 with SWIFT charges: built schema-valid, read back exactly, malformed input refused
 * naming the field; and the pure rules reconciliation applies to a statement entry.
 */
import assert from 'node:assert/strict';
import { buildCamt053, parseCamt053, type AccountStatement } from '../../rails/iso20022/camt053';
import { IsoMessageError } from '../../rails/iso20022/xml';
import { railAccountOf } from '../../rails/statements';
import { judgeEntry, statementDays } from '../../services/reconciliation';
import { assertValidAgainstXsd } from '../support/xsd';

const STATEMENTS: AccountStatement[] = [
  {
    id: 'STMT-2026-11-26-SWIFT-KWD',
    accountId: 'RAILYARD-SWIFT-KWD',
    currency: 'KWD',
    date: '2026-11-26',
    openingMinor: -1_000,
    entries: [
      { endToEndId: 'att_ours', uetr: '3f1c2b9e-4d5a-4b6c-8d7e-9f0a1b2c3d4e', amountMinor: 10_250, direction: 'DBIT', bookingDate: '2026-11-26', subFamily: 'XBCT', accountServicerRef: 'R1', charges: { amountMinor: 250, bearer: 'DEBT', included: true } },
      { endToEndId: 'att_shared', amountMinor: 20_001, direction: 'DBIT', bookingDate: '2026-11-26', subFamily: 'XBCT', accountServicerRef: 'R2', charges: { amountMinor: 1, bearer: 'SHAR', included: false } },
      { endToEndId: 'att_back', amountMinor: 5_000, direction: 'CRDT', bookingDate: '2026-11-26', subFamily: 'RRTN', accountServicerRef: 'R3' },
    ],
  },
];

describe('camt.053 with charges, and the matching rules', () => {
  it('builds a schema-valid statement and reads every amount back exactly, charges included', async () => {
    const xml = buildCamt053('MSG-1', new Date('2026-11-26T18:00:00Z'), STATEMENTS);
    await assertValidAgainstXsd(xml, 'camt.053.001.08');
    const [s] = parseCamt053(xml);
    assert.equal(s.openingMinor, -1_000);
    assert.equal(s.closingMinor, -1_000 - 10_250 - 20_001 + 5_000);
    assert.deepEqual(
      s.entries.map((e) => [e.endToEndId, e.direction, e.amountMinor, e.charges ?? null]),
      [
        ['att_ours', 'DBIT', 10_250, { amountMinor: 250, bearer: 'DEBT', included: true }],
        ['att_shared', 'DBIT', 20_001, { amountMinor: 1, bearer: 'SHAR', included: false }],
        ['att_back', 'CRDT', 5_000, null],
      ],
    );
    assert.equal(s.entries[0].uetr, '3f1c2b9e-4d5a-4b6c-8d7e-9f0a1b2c3d4e');
    assert.deepEqual(railAccountOf(s.accountId), { rail: 'swift', currency: 'KWD' });
    assert.equal(railAccountOf('SOMEONE-ELSES-ACCOUNT'), null);
  });

  it('refuses a statement with an amount finer than its currency, or in another currency, naming the field', () => {
    const xml = buildCamt053('MSG-2', new Date('2026-11-26T18:00:00Z'), STATEMENTS);
    assert.throws(() => parseCamt053(xml.replace('<Amt Ccy="KWD">10.250</Amt>', '<Amt Ccy="KWD">10.2501</Amt>')), (err: Error) => err instanceof IsoMessageError && /Stmt\[0\]\/Ntry\[0\]\/Amt/.test(err.message));
    assert.throws(() => parseCamt053(xml.replace('<Amt Ccy="KWD">20.001</Amt>', '<Amt Ccy="USD">20.00</Amt>')), (err: Error) => err instanceof IsoMessageError && /Ntry\[1\]\/Amt\/@Ccy/.test(err.message));
    assert.throws(() => parseCamt053('<Document/>'), /BkToCstmrStmt/);
  });

  it('matches the amount sent: OUR charges sit on top of it and are ours, SHA/BEN charges come out of what the beneficiary receives', () => {
    assert.deepEqual(judgeEntry(10_000, { amountMinor: 10_250, charges: { amountMinor: 250, bearer: 'DEBT', included: true } }), {
      principalMinor: 10_000,
      matches: true,
      beneficiaryReceivedMinor: 10_000,
      chargesToUsMinor: 250,
      chargesMinor: 250,
    });
    assert.deepEqual(judgeEntry(10_000, { amountMinor: 10_000, charges: { amountMinor: 250, bearer: 'CRED', included: false } }), {
      principalMinor: 10_000,
      matches: true,
      beneficiaryReceivedMinor: 9_750,
      chargesToUsMinor: 0,
      chargesMinor: 250,
    });
    assert.equal(judgeEntry(10_000, { amountMinor: 10_000 }).matches, true);
    assert.equal(judgeEntry(10_000, { amountMinor: 10_001 }).matches, false);
    assert.equal(judgeEntry(10_000, { amountMinor: 10_250, charges: { amountMinor: 200, bearer: 'DEBT', included: true } }).matches, false, 'charges do not excuse a wrong amount');
    assert.equal(judgeEntry(10_000, { amountMinor: 9_750, charges: { amountMinor: 250, bearer: 'SHAR', included: false } }).matches, false, 'a short debit is not the payment we sent');
  });

  it('looks at the statement days from the attempt to today, at most seven', () => {
    const day = (d: string) => Date.parse(`${d}T12:00:00Z`);
    assert.deepEqual(statementDays(day('2026-11-24'), day('2026-11-26')), ['2026-11-24', '2026-11-25', '2026-11-26']);
    assert.deepEqual(statementDays(day('2026-11-26'), day('2026-11-26')), ['2026-11-26']);
    assert.deepEqual(statementDays(day('2026-10-01'), day('2026-11-26')), ['2026-11-20', '2026-11-21', '2026-11-22', '2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26']);
  });
});
