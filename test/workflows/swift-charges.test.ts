/**
 * SWIFT charge bearers end to end on the time-skipping server, with the real activities, MariaDB
 * and the bank simulator: the pacs.008's ChrgBr, the charges the statement reports, what the
 * beneficiary received, and the ledger's booking of charges debited to us.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { Attempt, ReconciliationMatch, Transfer } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { JP_BENEFICIARY, createdTransfer, fundedClient, legsOf, transferRow } from '../support/fixtures';
import { assertValidAgainstXsd } from '../support/xsd';

describe('SWIFT charge bearer (time-skipping server)', () => {
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    ({ orm, bank } = runner);
  });

  afterEach(() => runner.clearRules());

  const AMOUNT_MINOR = 100_000;
  const CHARGES_MINOR = 1_500;

  /** A USD wire to a Japanese account under `bearer`, the bank taking CHARGES_MINOR in charges. */
  async function wire(bearer: 'OUR' | 'SHA' | 'BEN', accountNumber: string) {
    const clientId = await fundedClient(orm, 200_000);
    const input = await createdTransfer(orm, clientId, AMOUNT_MINOR, { ...JP_BENEFICIARY, accountNumber });
    await orm.em.fork().nativeUpdate(Transfer, { id: input.transferId }, { rail: 'swift', chargeBearer: bearer });
    const res = await fetch(`${bank.url}/sim/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { accountNumber }, behavior: 'accept', chargesMinor: CHARGES_MINOR }),
    });
    assert.equal(res.status, 201);
    const state = await runner.run({ ...input, rail: 'swift' });
    const attempt = await orm.em.fork().findOneOrFail(Attempt, { transferId: input.transferId });
    const match = await orm.em.fork().findOneOrFail(ReconciliationMatch, { attemptId: attempt.id });
    const raw = bank.sim.submissions.find((s) => s.reference === attempt.railReference)!.raw;
    const statement = await (await fetch(`${bank.url}/sim/statements?date=${match.statementDate}`)).text();
    return { input, state, attempt, match, raw, statement, legs: await legsOf(orm, input.transferId) };
  }

  const baseLegs = [
    ['payout_hold', 'client:USD', 'system:payouts_in_flight:USD', AMOUNT_MINOR],
    ['payout_hold_posted', 'client:USD', 'system:payouts_in_flight:USD', AMOUNT_MINOR],
    ['payout_settled', 'system:payouts_in_flight:USD', 'system:bank_settlement:swift:USD', AMOUNT_MINOR],
  ];

  for (const [bearer, iso] of [
    ['SHA', 'SHAR'],
    ['BEN', 'CRED'],
  ] as const) {
    it(`${bearer}: the charges are deducted on the way; completed with what the beneficiary received, nothing booked to us`, async () => {
      const r = await wire(bearer, bearer === 'SHA' ? '800000001' : '800000002');
      assert.equal(r.state.status, 'completed');
      assert.equal((await transferRow(orm, r.input.transferId)).status, 'completed');
      assert.match(r.raw, new RegExp(`<ChrgBr>${iso}</ChrgBr>`));
      assert.equal(r.attempt.beneficiaryReceivedMinor, AMOUNT_MINOR - CHARGES_MINOR);
      assert.equal(r.attempt.chargesMinor, CHARGES_MINOR);
      assert.equal(r.match.amountMinor, AMOUNT_MINOR, 'our account was debited the amount sent');
      assert.equal(r.match.beneficiaryReceivedMinor, AMOUNT_MINOR - CHARGES_MINOR);
      assert.deepEqual(r.legs.map((l) => [l.code, l.debit, l.credit, l.amountMinor]), baseLegs);
      await assertValidAgainstXsd(r.statement, 'camt.053.001.08');
      assert.match(r.statement, new RegExp(`<Amt Ccy="USD">15.00</Amt>\\s*<CdtDbtInd>DBIT</CdtDbtInd>\\s*<ChrgInclInd>false</ChrgInclInd>\\s*<Br>${iso}</Br>`));
    });
  }

  it('OUR: the bank debits the charges to us on top; the beneficiary receives the full amount and the charges are booked to bank_fees', async () => {
    const r = await wire('OUR', '800000003');
    assert.equal(r.state.status, 'completed');
    assert.match(r.raw, /<ChrgBr>DEBT<\/ChrgBr>/);
    assert.equal(r.attempt.beneficiaryReceivedMinor, AMOUNT_MINOR);
    assert.equal(r.attempt.chargesMinor, CHARGES_MINOR);
    assert.equal(r.match.amountMinor, AMOUNT_MINOR + CHARGES_MINOR, 'the statement entry includes the charges');
    // The charges are booked with the settlement, in whichever order the step writes them.
    const byCode = (legs: unknown[][]) => [...legs].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    assert.deepEqual(byCode(r.legs.map((l) => [l.code, l.debit, l.credit, l.amountMinor])), byCode([
      ...baseLegs,
      ['bank_charges', 'system:bank_fees:USD', 'system:bank_settlement:swift:USD', CHARGES_MINOR],
    ]));
    await assertValidAgainstXsd(r.statement, 'camt.053.001.08');
    assert.match(r.statement, /<Amt Ccy="USD">1015.00<\/Amt>/);
    assert.match(r.statement, /<ChrgInclInd>true<\/ChrgInclInd>\s*<Br>DEBT<\/Br>/);
  });

  it('leaves the ledger without a single invariant violation', async () => {
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
