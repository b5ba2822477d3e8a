/**
 * Returns after settlement, on the time-skipping server with the real activities, MariaDB and the
 * bank simulator: ACH returns are checked against their NACHA windows on workflow time (days skip),
 * a late one waits for an operator; a SEPA return arrives as a pacs.004 and returns the transfer.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { TransferTiming } from '../../core/transfer';
import { addBankingDays, eastern, easternInstant } from '../../core/calendar';
import { Transfer, TransferEvent } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { statusQuery, type transferWorkflow } from '../../workflows/transfer';
import { returnDecisionSignal } from '../../workflows/return-watch';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, IBAN_BENEFICIARY, balanceOf, createdTransfer, fundedClient } from '../support/fixtures';
import { assertValidAgainstXsd } from '../support/xsd';

/** Real-length return window, looked at once a day: what RAIL_TIME=real does, with days skipped. */
const LONG_WATCH: TransferTiming = { pollIntervalMs: 1_000, settlementTimeoutMs: 5 * 60_000, returnWindowMs: 62 * 86_400_000, returnPollIntervalMs: 86_400_000, reconcileWindowMs: 60_000, reconcilePollIntervalMs: 2_000 };

describe('returns after settlement in their windows (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    ({ env, orm, bank } = runner);
  });

  async function statusReached(handle: WorkflowHandle<typeof transferWorkflow>, status: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await handle.query(statusQuery)).status !== status) {
      if (Date.now() > deadline) throw new Error(`workflow never reached ${status}; it is ${(await handle.query(statusQuery)).status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The bank returns the settled payment now (the test chooses the moment). */
  async function bankReturns(reference: string, code: string): Promise<void> {
    const res = await fetch(`${bank.url}/sim/payments/${reference}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) });
    assert.equal(res.status, 200, await res.text());
  }

  const events = async (transferId: string) => (await orm.em.fork().find(TransferEvent, { transferId }, { orderBy: { at: 'asc', id: 'asc' } })).map((e) => ({ status: e.status, reason: e.reason }));

  it('R10 on day 59 of its 60-day window: returned, the client credited back', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000101' }, LONG_WATCH);
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      await env.sleep('58 days'); // the daily looks find the payment settled
      assert.equal((await handle.query(statusQuery)).status, 'completed');
      await bankReturns((await handle.query(statusQuery)).railReference!, 'R10');
      // The next look, on day 59, finds the return.
    });
    assert.equal(state.status, 'returned');
    assert.equal(state.failureCode, 'R10');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    assert.deepEqual((await events(input.transferId)).slice(-2).map((e) => e.status), ['completed', 'returned']);
  });

  it('R01 after 3 banking days: not taken silently; needs_attention naming the late return, then an operator dishonors it', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000102' }, LONG_WATCH);
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      // Skip to the start of the third banking day after settlement, on the server's clock.
      const settledOn = eastern(new Date(await env.currentTimeMs())).date;
      const third = addBankingDays(settledOn, 3);
      await env.sleep(easternInstant(third, '00:01').getTime() - (await env.currentTimeMs()));
      await bankReturns((await handle.query(statusQuery)).railReference!, 'R01');
      await env.sleep('1 day'); // the next daily look sees it
      await statusReached(handle, 'needs_attention');
      const parked = await handle.query(statusQuery);
      const m = /^late return R01 \(Insufficient funds\) received (\d{4}-\d{2}-\d{2}); the entry settled (\d{4}-\d{2}-\d{2}) and its return deadline was (\d{4}-\d{2}-\d{2})/.exec(parked.reason!);
      assert.ok(m, parked.reason!);
      assert.deepEqual([m[2], m[3]], [settledOn, addBankingDays(settledOn, 2)]);
      assert.ok(m[1] >= third, `seen on ${m[1]}, at or after the third banking day ${third}`);
      // Nothing moved: the client still has paid out.
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
      assert.equal((await orm.em.fork().findOneOrFail(Transfer, { id: input.transferId })).status, 'needs_attention');
      await handle.signal(returnDecisionSignal, { decision: 'dishonor', reason: 'untimely return, dishonored with R68', operator: 'alice' });
    });
    assert.equal(state.status, 'completed');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
    const last = (await events(input.transferId)).slice(-3);
    assert.deepEqual(last.map((e) => e.status), ['completed', 'needs_attention', 'completed']);
    assert.match(last[2].reason!, /return R01 dishonored by alice: untimely return/);
  });

  it('a late return an operator accepts: returned, the client credited back', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000103' }, LONG_WATCH);
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      await env.sleep('10 days');
      await bankReturns((await handle.query(statusQuery)).railReference!, 'R02');
      await env.sleep('1 day');
      await statusReached(handle, 'needs_attention');
      await handle.signal(returnDecisionSignal, { decision: 'accept', reason: 'the beneficiary bank proved the account closed', operator: 'bob' });
    });
    assert.equal(state.status, 'returned');
    assert.equal(state.failureCode, 'R02');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    const last = (await events(input.transferId)).slice(-1)[0];
    assert.equal(last.status, 'returned');
    assert.match(last.reason!, /late return R02 accepted by bob/);
  });

  it('a SEPA return comes as a schema-valid pacs.004.001.10 and returns the transfer', async () => {
    const clientId = await fundedClient(orm, 5_000, 'EUR');
    const base = await createdTransfer(orm, clientId, 2_500, IBAN_BENEFICIARY);
    await orm.em.fork().nativeUpdate(Transfer, { id: base.transferId }, { currency: 'EUR', targetCurrency: 'EUR', rail: 'sepa' });
    const input = { ...base, currency: 'EUR', targetCurrency: 'EUR', rail: 'sepa' as const };
    let reference = '';
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      reference = (await handle.query(statusQuery)).railReference!;
      await bankReturns(reference, 'AC04');
    });
    assert.equal(state.status, 'returned');
    assert.equal(state.failureCode, 'AC04');
    assert.deepEqual(await balanceOf(orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 5_000, heldMinor: 0 });
    const answer = await (await fetch(`${bank.url}/sepa/payments/${reference}`)).text();
    await assertValidAgainstXsd(answer, 'pacs.004.001.10');
    assert.match(answer, /<Cd>AC04<\/Cd>/);
    assert.match(answer, /<RtrdIntrBkSttlmAmt Ccy="EUR">25.00<\/RtrdIntrBkSttlmAmt>/);
  });

  it('the simulator refuses to return a payment that has not settled, or without a code', async () => {
    assert.equal((await fetch(`${bank.url}/sim/payments/nope/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"R01"}' })).status, 409);
    assert.equal((await fetch(`${bank.url}/sim/payments/nope/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status, 400);
  });

  it('leaves the ledger without a single invariant violation', async () => {
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
