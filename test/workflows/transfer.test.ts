/**
 * The payout workflow on the real time-skipping Temporal test server, with the real activities
 * against MariaDB and the bank simulator over HTTP.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { TransferWorkflowInput } from '../../core/transfer';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, GB_BENEFICIARY, IBAN_BENEFICIARY, JP_BENEFICIARY, KW_BENEFICIARY, balanceOf, createdFxTransfer, createdTransfer, fundedClient, legsOf, postingsOf, transferRow } from '../support/fixtures';
import { auditLedger } from '../../ledger/auditor';
import { minorToDecimal } from '../../core/money';
import { assertValidAgainstXsd } from '../support/xsd';

describe('transfer workflow (time-skipping server)', () => {
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    ({ orm, bank } = runner);
  });

  afterEach(() => runner.clearRules());

  const run = (input: TransferWorkflowInput) => runner.run(input);

  it('holds, submits a NACHA file, settles and completes a payout', async () => {
    const clientId = await fundedClient(orm, 10_000);
    const input = await createdTransfer(orm, clientId, 2_500);
    const state = await run(input);

    assert.equal(state.status, 'completed');
    assert.equal((await transferRow(orm, input.transferId)).status, 'completed');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 7_500, heldMinor: 0 });
    assert.deepEqual(await postingsOf(orm, input.transferId), [
      { kind: 'pending', code: 'payout_hold', amountMinor: 2_500 },
      { kind: 'post_pending', code: 'payout_hold_posted', amountMinor: 2_500 },
      { kind: 'single', code: 'payout_settled', amountMinor: 2_500 },
    ]);
    const subs = bank.sim.submissions.filter((s) => s.reference === state.railReference);
    assert.equal(subs.length, 1, 'submitted exactly once');
    assert.match(subs[0].raw, /^101 123456780/);
    assert.equal(subs[0].amountMinor, 2_500);
  });

  it('voids the hold and fails with the bank code when the bank rejects', async () => {
    const clientId = await fundedClient(orm, 10_000);
    const input = await createdTransfer(orm, clientId, 4_000, { ...BENEFICIARY, accountNumber: '987654321' });
    await fetch(`${bank.url}/sim/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { accountNumber: '987654321' }, behavior: 'reject', code: 'R03' }),
    });
    const state = await run(input);

    assert.equal(state.status, 'failed');
    assert.equal(state.failureCode, 'R03');
    const row = await transferRow(orm, input.transferId);
    assert.equal(row.status, 'failed');
    assert.equal(row.failureCode, 'R03');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 10_000, heldMinor: 0 });
    assert.deepEqual(await postingsOf(orm, input.transferId), [
      { kind: 'pending', code: 'payout_hold', amountMinor: 4_000 },
      { kind: 'void_pending', code: 'payout_hold_voided', amountMinor: 4_000 },
    ]);
  });

  it('fails with insufficient_funds and writes no posting when the balance does not cover it', async () => {
    const clientId = await fundedClient(orm, 1_000);
    const input = await createdTransfer(orm, clientId, 1_001);
    const state = await run(input);

    assert.equal(state.status, 'failed');
    assert.equal(state.failureCode, 'insufficient_funds');
    assert.deepEqual(await postingsOf(orm, input.transferId), []);
    assert.equal(bank.sim.submissions.filter((s) => s.amountMinor === 1_001).length, 0, 'nothing reached the bank');
  });

  it('converts EUR to USD at the quote and pays out, every leg in its account and amount', async () => {
    const clientId = await fundedClient(orm, 50_000, 'EUR');
    const { input, quote } = await createdFxTransfer(orm, clientId, 20_000, 'EUR', 'USD');
    const state = await run(input);

    assert.equal(state.status, 'completed');
    const spread = quote.midTargetAmountMinor - quote.targetAmountMinor;
    assert.equal(quote.feeMinor, 50); // 25 bps of 200.00 EUR
    assert.deepEqual(await legsOf(orm, input.transferId), [
      { kind: 'pending', code: 'payout_hold', debit: 'client:EUR', credit: 'system:payouts_in_flight:EUR', amountMinor: 20_000, currency: 'EUR' },
      { kind: 'post_pending', code: 'payout_hold_posted', debit: 'client:EUR', credit: 'system:payouts_in_flight:EUR', amountMinor: 20_000, currency: 'EUR' },
      { kind: 'single', code: 'fx_fee', debit: 'system:payouts_in_flight:EUR', credit: 'system:fee_revenue:EUR', amountMinor: 50, currency: 'EUR' },
      { kind: 'single', code: 'fx_source_leg', debit: 'system:payouts_in_flight:EUR', credit: 'system:fx_liquidity:EUR', amountMinor: 19_950, currency: 'EUR' },
      { kind: 'single', code: 'fx_target_leg', debit: 'system:fx_liquidity:USD', credit: 'system:payouts_in_flight:USD', amountMinor: quote.targetAmountMinor, currency: 'USD' },
      { kind: 'single', code: 'fx_spread', debit: 'system:fx_liquidity:USD', credit: 'system:fx_spread_revenue:USD', amountMinor: spread, currency: 'USD' },
      { kind: 'single', code: 'payout_settled', debit: 'system:payouts_in_flight:USD', credit: 'system:bank_settlement:ach:USD', amountMinor: quote.targetAmountMinor, currency: 'USD' },
    ]);
    assert.ok(spread > 0);
    const sub = bank.sim.submissions.find((s) => s.reference === state.railReference)!;
    assert.equal(sub.amountMinor, quote.targetAmountMinor, 'the bank file carries the converted USD amount');
    assert.deepEqual(await balanceOf(orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 30_000, heldMinor: 0 });
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('unwinds the conversion when the bank rejects after it, booking the gain or loss and crediting the client in full', async () => {
    const clientId = await fundedClient(orm, 50_000, 'EUR');
    const { input, quote } = await createdFxTransfer(orm, clientId, 30_000, 'EUR', 'USD', { ...BENEFICIARY, accountNumber: '000111111116' });
    const state = await run(input);

    assert.equal(state.status, 'failed');
    assert.equal(state.failureCode, 'R03');
    const legs = await legsOf(orm, input.transferId);
    const codes = legs.map((l) => l.code);
    assert.deepEqual(codes.slice(0, 6), ['payout_hold', 'payout_hold_posted', 'fx_fee', 'fx_source_leg', 'fx_target_leg', 'fx_spread']);
    const unwind = legs.slice(6);
    const byCode = (code: string) => unwind.find((l) => l.code === code);
    assert.equal(byCode('fx_unwind_target_leg')?.amountMinor, quote.targetAmountMinor);
    assert.equal(byCode('fx_unwind_spread')?.amountMinor, quote.midTargetAmountMinor - quote.targetAmountMinor);
    const back = byCode('fx_unwind_source_leg')!.amountMinor;
    const gainLoss = (byCode('fx_unwind_loss')?.amountMinor ?? 0) - (byCode('fx_unwind_gain')?.amountMinor ?? 0);
    assert.equal(back + gainLoss, quote.convertedMinor, 'what came back plus the booked gain/loss is what was converted');
    assert.deepEqual(byCode('fx_fee_refund'), { kind: 'single', code: 'fx_fee_refund', debit: 'system:fee_revenue:EUR', credit: 'system:payouts_in_flight:EUR', amountMinor: quote.feeMinor, currency: 'EUR' });
    assert.deepEqual(byCode('payout_refund'), { kind: 'single', code: 'payout_refund', debit: 'system:payouts_in_flight:EUR', credit: 'client:EUR', amountMinor: 30_000, currency: 'EUR' });
    assert.deepEqual(await balanceOf(orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 50_000, heldMinor: 0 });
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  for (const [source, target, beneficiary, amountMinor] of [
    ['USD', 'EUR', IBAN_BENEFICIARY, 100_000],
    ['EUR', 'GBP', GB_BENEFICIARY, 75_000],
    ['USD', 'JPY', JP_BENEFICIARY, 12_345],
    ['USD', 'KWD', KW_BENEFICIARY, 10_001],
  ] as const) {
    it(`pays ${source} out as ${target} over SWIFT, the pacs.008 carrying the converted amount exactly`, async () => {
      const clientId = await fundedClient(orm, 1_000_000, source);
      const { input, quote } = await createdFxTransfer(orm, clientId, amountMinor, source, target, beneficiary);
      const state = await run(input);

      assert.equal(state.status, 'completed');
      const legs = await legsOf(orm, input.transferId);
      assert.deepEqual(
        legs.map((l) => [l.code, l.debit, l.credit, l.amountMinor]),
        [
          ['payout_hold', `client:${source}`, `system:payouts_in_flight:${source}`, amountMinor],
          ['payout_hold_posted', `client:${source}`, `system:payouts_in_flight:${source}`, amountMinor],
          ...(quote.feeMinor > 0 ? [['fx_fee', `system:payouts_in_flight:${source}`, `system:fee_revenue:${source}`, quote.feeMinor]] : []),
          ['fx_source_leg', `system:payouts_in_flight:${source}`, `system:fx_liquidity:${source}`, quote.convertedMinor],
          ['fx_target_leg', `system:fx_liquidity:${target}`, `system:payouts_in_flight:${target}`, quote.targetAmountMinor],
          ...(quote.midTargetAmountMinor > quote.targetAmountMinor ? [['fx_spread', `system:fx_liquidity:${target}`, `system:fx_spread_revenue:${target}`, quote.midTargetAmountMinor - quote.targetAmountMinor]] : []),
          ['payout_settled', `system:payouts_in_flight:${target}`, `system:bank_settlement:swift:${target}`, quote.targetAmountMinor],
        ],
      );
      const sub = bank.sim.submissions.find((s) => s.reference === state.railReference)!;
      assert.equal(sub.rail, 'swift');
      assert.equal(sub.amountMinor, quote.targetAmountMinor);
      assert.equal(sub.currency, target);
      assert.ok(sub.raw.includes(`<IntrBkSttlmAmt Ccy="${target}">${minorToDecimal(quote.targetAmountMinor, target)}</IntrBkSttlmAmt>`), 'exact decimal amount in the message');
      await assertValidAgainstXsd(sub.raw, 'pacs.008.001.09');
      assert.deepEqual(await auditLedger(orm.em), []);
    });
  }

  it('fails a SWIFT payout the bank rejects with its ISO reason code, unwinding the conversion', async () => {
    const clientId = await fundedClient(orm, 100_000, 'USD');
    const beneficiary = { ...IBAN_BENEFICIARY, iban: 'DE75512108001245126199' };
    await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { iban: beneficiary.iban }, behavior: 'reject', code: 'AC04' }) });
    const { input } = await createdFxTransfer(orm, clientId, 50_000, 'USD', 'EUR', beneficiary);
    const state = await run(input);
    assert.equal(state.status, 'failed');
    assert.equal(state.failureCode, 'AC04');
    assert.deepEqual(await balanceOf(orm, clientId, 'USD'), { currency: 'USD', availableMinor: 100_000, heldMinor: 0 });
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
