/**
 * Each bank simulator behavior drives a payout to its expected end state, on the time-skipping
 * server with the real activities, MariaDB and the simulator over HTTP. The simulator's duplicate
 * count stays zero: no behavior makes Railyard pay the same reference twice.
 *
 * ACH payouts go out in window files (2 s demo windows; 10 min ones where a test steers a queued
 * payout in real time): the bank's outages, silences and whole-file refusals meet the window's
 * batch workflow and come to each payout as its file's answer; per-entry answers (R-codes, holds,
 * returns) stay per payout.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { TransferWorkflowInput } from '../../core/transfer';
import { auditLedger } from '../../ledger/auditor';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { cancelSignal, cancelUpdate, retrySignal, retryUpdate, statusQuery, type transferWorkflow } from '../../workflows/transfer';
import { duplicatePayments, type RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, balanceOf, createdTransfer, fundedClient, transferRow } from '../support/fixtures';
import { until } from '../support/api-stack';
import { AchEntry, AchFile, Attempt, TransferEvent } from '../../db/schema';
import { assertValidAgainstXsd } from '../support/xsd';

describe('bank behaviors drive payouts to their end states (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;
  /** Ten-minute windows: a queued payout stays queued while the test steers it (time skips only when asked). */
  let slow: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    slow = await transferRunner({ achDemoWindowMs: 600_000, alongside: runner });
    ({ env, orm, bank } = runner);
  });

  afterEach(() => Promise.all([runner.clearRules(), slow.clearRules()]));

  after(async () => {
    assert.deepEqual(duplicatePayments(bank), [], 'the bank was asked to pay nothing twice');
    assert.deepEqual(duplicatePayments(slow.bank), [], 'the bank was asked to pay nothing twice');
  });

  async function rule(body: unknown, sim = bank): Promise<void> {
    const res = await fetch(`${sim.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
  }

  async function refusedUpdate(promise: Promise<unknown>): Promise<string> {
    const err = await promise.then(
      () => assert.fail('the update was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected a refused update, got ${String(err)}`);
    return (err.cause as Error).message;
  }

  const reasons = async (transferId: string) => (await orm.em.fork().find(TransferEvent, { transferId }, { orderBy: { at: 'asc', id: 'asc' } })).map((e) => e.reason ?? '');

  const run = (input: TransferWorkflowInput, during?: (handle: WorkflowHandle<typeof transferWorkflow>) => Promise<void>) => runner.run(input, during);

  async function statusReached(handle: WorkflowHandle<typeof transferWorkflow>, status: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await handle.query(statusQuery)).status !== status) {
      if (Date.now() > deadline) throw new Error(`workflow never reached ${status}; it is ${(await handle.query(statusQuery)).status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function reasonReached(handle: WorkflowHandle<typeof transferWorkflow>, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test((await handle.query(statusQuery)).reason ?? '')) {
      if (Date.now() > deadline) throw new Error(`the reason never matched ${pattern}; it is ${(await handle.query(statusQuery)).reason}`);
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

  it('unavailable beyond the file retry budget: needs_attention naming the window and file, then an operator retry sends that same file again and it completes; a late copy pays nothing more', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000004' });
    await rule({ match: { accountNumber: '700000004' }, behavior: 'unavailable' });
    const state = await run(input, async (handle) => {
      await env.sleep('3 hours'); // skip through the window file's two-hour retry budget
      await statusReached(handle, 'needs_attention');
      const parked = await handle.query(statusQuery);
      assert.match(parked.reason ?? '', /the bank did not confirm file ach-demo-\d+-\w of window ach-demo-\d+ within its retry budget/);
      assert.equal(parked.waitingFor?.step, 'achFile');
      // The file's fate is unknown: cancel waits for the bank's word by trace number.
      assert.match(await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'give up', operator: 'alice' }] })), /may have reached the bank; retry asks the bank about trace \d{15} first/);
      assert.equal((await transferRow(orm, input.transferId)).status, 'needs_attention');
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 1_000 }, 'the hold stands while it waits');
      await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
      await handle.signal(retrySignal, { reason: 'bank is back', operator: 'alice' });
    });
    assert.equal(state.status, 'completed');
    const attempts = await orm.em.fork().find(Attempt, { transferId: input.transferId });
    assert.equal(attempts.length, 1, 'one attempt, one trace number');
    assert.ok(!(await reasons(input.transferId)).some((r) => r.includes('re-queued')), 'never moved to another window');
    assert.equal((await orm.em.fork().find(AchEntry, { transferId: input.transferId })).length, 1);
    const subs = bank.sim.submissions.filter((s) => s.reference === state.railReference);
    assert.deepEqual([...new Set(subs.map((s) => s.status))], ['unavailable', 'pending'], 'refused while down, then taken once');
    assert.equal(new Set(subs.map((s) => s.raw)).size, 1, 'every send the same file, byte for byte');
    // A copy of the file that was in flight when the bank went down lands after all: the same file, not paid again.
    const late = await fetch(`${bank.url}/ach/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: subs[0].raw });
    assert.equal(late.status, 202);
    assert.equal(bank.sim.submissions.filter((s) => s.reference === state.railReference && s.status === 'pending' && !s.duplicate).length, 1, 'paid once');
  });

  it('queued: cancel withdraws the entry from its open window, canceled, the hold voided, nothing sent', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000009' });
    let result;
    const state = await slow.run(input, async (handle) => {
      await statusReached(handle, 'funds_held');
      await reasonReached(handle, /^queued for the .* window \(ach-demo-\d+\)/);
      result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'client changed its mind', operator: 'bob' }] });
    });
    assert.equal(state.status, 'canceled');
    assert.deepEqual(result, { action: 'cancel', accepted: true, status: 'canceled', message: 'canceled: canceled by bob: client changed its mind' });
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    const [entry] = await orm.em.fork().find(AchEntry, { transferId: input.transferId });
    assert.equal(entry.status, 'canceled');
    assert.equal(slow.bank.sim.submissions.filter((s) => s.reference === entry.traceNumber).length, 0, 'its window sent no file with it');
  });

  it('queued, the window closed while the bank is down: cancel is refused naming the window; the file goes once the bank is back', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000010' });
    await rule({ match: { accountNumber: '700000010' }, behavior: 'unavailable' }, slow.bank);
    const state = await slow.run(input, async (handle) => {
      await reasonReached(handle, /^queued for the .* window/);
      await env.sleep('11 minutes'); // past the cut-off: the file is being retried
      const refusal = await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'too late?', operator: 'bob' }] }));
      assert.match(refusal, /the .* window \(ach-demo-\d+\) has closed and its file carries the payment under trace \d{15}; ach cannot recall it/);
      await slow.clearRules();
    });
    assert.equal(state.status, 'completed');
    assert.equal(slow.bank.sim.submissions.filter((s) => s.reference === state.railReference && s.status !== 'unavailable').length, 1);
  });

  it('no answer from the batch workflow (terminated): the payout reads its entry after the bounded wait, parks, and a retry sends it', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000013' });
    const state = await slow.run(input, async (handle) => {
      await reasonReached(handle, /^queued for the .* window/);
      const [entry] = await orm.em.fork().find(AchEntry, { transferId: input.transferId });
      await env.client.workflow.getHandle(`ach-batch-${entry.windowId}`).terminate('the test takes the batch away');
      await env.sleep('3 hours'); // the cut-off plus the file's whole budget
      await statusReached(handle, 'needs_attention');
      assert.match((await handle.query(statusQuery)).reason ?? '', /no answer from the batch workflow of ach-demo-\d+ within \d+ ms of its cut-off; the entry is queued/);
      await handle.executeUpdate(retryUpdate, { args: [{ reason: 'batch restarted', operator: 'dora' }] });
    });
    assert.equal(state.status, 'completed');
    assert.equal(slow.bank.sim.submissions.filter((s) => s.reference === state.railReference).length, 1, 'sent once');
  });

  it('the bank refuses the whole file: needs_attention naming the window and file; cancel allowed, retry re-queues under the same trace and it completes', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000011' });
    await rule({ match: { accountNumber: '700000011' }, behavior: 'reject_file', times: 1 });
    const state = await run(input, async (handle) => {
      await statusReached(handle, 'needs_attention');
      const parked = await handle.query(statusQuery);
      assert.match(parked.reason ?? '', /the bank refused file ach-demo-\d+-\w whole \(its reason is recorded on the file, for operators\); trace \d{15} was in file ach-demo-\d+-\w of the .* window \(ach-demo-\d+\)/);
      assert.match(parked.waitingFor?.cancel ?? '', /undoes what was done/, 'nothing was taken, so cancel is offered');
      // The bank's own words are on the file, for operators; the client's events never carry them.
      const [file] = await orm.em.fork().find(AchFile, { id: /file (ach-demo-\d+-\w) whole/.exec(parked.reason ?? '')![1] });
      const bankWords = file.refusal!.replace(/^the bank refused file \S+: /, '');
      assert.ok(bankWords.length > 0 && !(await reasons(input.transferId)).some((r) => r.includes(bankWords)), `the events do not quote the bank: ${bankWords}`);
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 1_000 }, 'the hold stands while it waits');
      await handle.executeUpdate(retryUpdate, { args: [{ reason: 'bank fixed its edits', operator: 'carol' }] });
    });
    assert.equal(state.status, 'completed');
    assert.equal((await orm.em.fork().find(Attempt, { transferId: input.transferId })).length, 1, 'one attempt, one trace number');
    const subs = bank.sim.submissions.filter((s) => s.reference === state.railReference);
    assert.deepEqual(subs.map((s) => s.status), ['file_rejected', 'pending'], 'refused in one file, taken once in a later one');
    assert.notEqual(subs[0].raw, subs[1].raw);
  });

  it('the bank refuses the whole file, then an operator cancel: canceled, the hold voided', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000012' });
    await rule({ match: { accountNumber: '700000012' }, behavior: 'reject_file' });
    const state = await run(input, async (handle) => {
      await statusReached(handle, 'needs_attention');
      await handle.signal(cancelSignal, { reason: 'beneficiary details under review', operator: 'bob' });
    });
    assert.equal(state.status, 'canceled');
    assert.equal((await transferRow(orm, input.transferId)).status, 'canceled');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
  });

  it('timeout_after_accept on the window file: the batch sends the same file again and the bank answers it as the first; submitted, paid once', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000005' });
    await rule({ match: { accountNumber: '700000005' }, behavior: 'timeout_after_accept' });
    const state = await run(input);
    assert.equal(state.status, 'completed');
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'funds_held', 'submitted', 'settled', 'completed']);
    const subs = bank.sim.submissions.filter((s) => s.reference === state.railReference);
    assert.deepEqual(subs.map((s) => s.duplicate), [false, true], 'the file sent again after the lost answer, recognised as the same');
    assert.equal(new Set(subs.map((s) => s.raw)).size, 1, 'byte for byte');
  });

  it('hold: stays submitted until the bank releases it, then completes', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000006' });
    await rule({ match: { accountNumber: '700000006' }, behavior: 'hold' });
    const state = await run(input, async (handle) => {
      // The window's send records the accepted entry submitted; the payout waits for the bank's word.
      await until('submitted', () => transferRow(orm, input.transferId), (t) => t.status === 'submitted', 30_000);
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
