/**
 * Each bank simulator behavior drives a payout to its expected end state, on the time-skipping
 * server with the real activities, MariaDB and the simulator over HTTP. The simulator's duplicate
 * count stays zero: no behavior makes Railyard pay the same reference twice.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { TransferWorkflowInput } from '../../core/transfer';
import { auditLedger } from '../../ledger/auditor';
import { cancelSignal, retrySignal, statusQuery, type transferWorkflow } from '../../workflows/transfer';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, balanceOf, createdTransfer, fundedClient, transferRow } from '../support/fixtures';
import { TransferEvent } from '../../db/schema';
import { assertValidAgainstXsd } from '../support/xsd';

describe('bank behaviors drive payouts to their end states (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    ({ env, orm, bank } = runner);
  });

  afterEach(() => runner.clearRules());

  after(async () => {
    assert.equal(bank.sim.submissions.filter((s) => s.duplicate).length, 0, 'the bank saw no duplicate submission');
  });

  async function rule(body: unknown): Promise<void> {
    const res = await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
  }

  const run = (input: TransferWorkflowInput, during?: (handle: WorkflowHandle<typeof transferWorkflow>) => Promise<void>) => runner.run(input, during);

  async function statusReached(handle: WorkflowHandle<typeof transferWorkflow>, status: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await handle.query(statusQuery)).status !== status) {
      if (Date.now() > deadline) throw new Error(`workflow never reached ${status}; it is ${(await handle.query(statusQuery)).status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const events = async (transferId: string) => (await orm.em.fork().find(TransferEvent, { transferId }, { orderBy: { at: 'asc', id: 'asc' } })).map((e) => e.status);

  it('accept: completes', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000001' });
    await rule({ match: { accountNumber: '700000001' }, behavior: 'accept' });
    assert.equal((await run(input)).status, 'completed');
  });

  it('reject: fails with the rail code and releases the hold', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000002' });
    await rule({ match: { accountNumber: '700000002' }, behavior: 'reject', code: 'R04' });
    const state = await run(input);
    assert.equal(state.status, 'failed');
    assert.equal(state.failureCode, 'R04');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
  });

  it('unavailable for a while: retried with backoff, then completes, the file taken once', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000003' });
    await rule({ match: { accountNumber: '700000003' }, behavior: 'unavailable', times: 3 });
    const state = await run(input);
    assert.equal(state.status, 'completed');
    const subs = bank.sim.submissions.filter((s) => s.reference === state.railReference);
    assert.deepEqual(subs.map((s) => s.status), ['unavailable', 'unavailable', 'unavailable', 'pending']);
  });

  it('unavailable beyond the retry budget: needs_attention, then an operator retry signal completes it', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000004' });
    await rule({ match: { accountNumber: '700000004' }, behavior: 'unavailable' });
    const state = await run(input, async (handle) => {
      await env.sleep('30 minutes'); // skip through the retry budget
      await statusReached(handle, 'needs_attention');
      assert.equal((await transferRow(orm, input.transferId)).status, 'needs_attention');
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 1_000 }, 'the hold stands while it waits');
      await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
      await handle.signal(retrySignal, { reason: 'bank is back', operator: 'alice' });
    });
    assert.equal(state.status, 'completed');
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'needs_attention', 'funds_held', 'submitted', 'settled', 'completed']);
  });

  it('unavailable beyond the retry budget, then an operator cancel signal: canceled, the hold voided', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000009' });
    await rule({ match: { accountNumber: '700000009' }, behavior: 'unavailable' });
    const state = await run(input, async (handle) => {
      await env.sleep('30 minutes');
      await statusReached(handle, 'needs_attention');
      await handle.signal(cancelSignal, { reason: 'beneficiary bank down for the week', operator: 'bob' });
    });
    assert.equal(state.status, 'canceled');
    assert.equal((await transferRow(orm, input.transferId)).status, 'canceled');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
  });

  it('timeout_after_accept: unknown, resolved by inquiry under the same reference, never resent', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000005' });
    await rule({ match: { accountNumber: '700000005' }, behavior: 'timeout_after_accept' });
    const state = await run(input);
    assert.equal(state.status, 'completed');
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'unknown', 'submitted', 'settled', 'completed']);
    const subs = bank.sim.submissions.filter((s) => s.reference === state.railReference);
    assert.equal(subs.length, 1, 'submitted exactly once');
  });

  it('hold: stays submitted until the bank releases it, then completes', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000006' });
    await rule({ match: { accountNumber: '700000006' }, behavior: 'hold' });
    const state = await run(input, async (handle) => {
      await statusReached(handle, 'submitted');
      const { railReference } = await handle.query(statusQuery);
      const held = await fetch(`${bank.url}/ach/payments/${railReference}`).then((r) => r.json() as Promise<{ status: string }>);
      assert.equal(held.status, 'held');
      assert.equal((await fetch(`${bank.url}/sim/payments/${railReference}/release`, { method: 'POST' })).status, 200);
    });
    assert.equal(state.status, 'completed');
  });

  it('return_after_settlement, returned before Railyard saw the settlement: failed with the return code, the client keeps its money', async () => {
    // A return after Railyard completed the transfer (`returned`, the client credited back with new
    // postings) is the returns work; here the bank returns before the first inquiry.
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000007' });
    await rule({ match: { accountNumber: '700000007' }, behavior: 'return_after_settlement', code: 'R01', delayMs: 0 });
    const state = await run(input);
    assert.equal(state.status, 'failed');
    assert.equal(state.failureCode, 'R01');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
  });

  it('return_after_settlement after completion: returned, the client credited back with new postings', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000008' });
    await rule({ match: { accountNumber: '700000008' }, behavior: 'return_after_settlement', code: 'R01', delayMs: 1_500 });
    const state = await run(input, async (handle) => {
      await statusReached(handle, 'completed');
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
      await new Promise((r) => setTimeout(r, 1_600)); // the bank's own clock: let the return happen
    });
    assert.equal(state.status, 'returned');
    assert.equal(state.failureCode, 'R01');
    assert.equal((await transferRow(orm, input.transferId)).status, 'returned');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    assert.deepEqual((await events(input.transferId)).slice(-2), ['completed', 'returned']);
  });

  it("reports the day's settlements and returns in a schema-valid camt.053 statement", async () => {
    const last = Math.max(...[...bank.sim.payments.values()].map((p) => p.settledAtMs ?? 0));
    const today = new Date(last).toISOString().slice(0, 10);
    const res = await fetch(`${bank.url}/sim/statements?date=${today}`);
    assert.equal(res.status, 200);
    const xml = await res.text();
    await assertValidAgainstXsd(xml, 'camt.053.001.08');
    const settled = [...bank.sim.payments.values()].filter((p) => p.settledAtMs !== null && new Date(p.settledAtMs).toISOString().startsWith(today));
    assert.ok(settled.length >= 5);
    for (const p of settled) assert.ok(xml.includes(`<EndToEndId>${p.reference}</EndToEndId>`), p.reference);
    assert.ok(xml.includes('<SubFmlyCd>RRTN</SubFmlyCd>'), 'the return is a credit entry');
    assert.equal((await fetch(`${bank.url}/sim/statements?date=yesterday`)).status, 400);
  });

  it('leaves the ledger without a single invariant violation', async () => {
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
