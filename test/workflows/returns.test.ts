/**
 * Returns after settlement, on the time-skipping server with the real activities, MariaDB and the
 * bank simulator: ACH returns are checked against their NACHA windows on workflow time (days skip),
 * a late one waits, as long as it takes, for an operator's returnDecision (Update or signal,
 * validated and audited like retry and cancel); a SEPA return arrives as a pacs.004 and returns
 * the transfer.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TransferTiming } from '../../core/transfer';
import { addBankingDays, eastern, easternInstant } from '../../core/calendar';
import { OperatorAction, Transfer, TransferEvent } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { cancelUpdate, retryUpdate, statusQuery, type transferWorkflow } from '../../workflows/transfer';
import { returnDecisionSignal, returnDecisionUpdate } from '../../workflows/transfer';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, IBAN_BENEFICIARY, balanceOf, createdTransfer, fundedClient, recordedApproval } from '../support/fixtures';
import { assertValidAgainstXsd } from '../support/xsd';

/** A real-length return window, as RAIL_TIME=real has it, with days skipped. */
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

  /** Waits for the audit log to hold `count` rows for the transfer (a refused Update is written by the worker's sink, just after). */
  async function auditRows(transferId: string, count: number) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await orm.em.fork().find(OperatorAction, { transferId }, { orderBy: { at: 'asc', id: 'asc' } });
      if (rows.length >= count || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function refusedUpdate(promise: Promise<unknown>): Promise<string> {
    const err = await promise.then(
      () => assert.fail('the update was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected a refused update, got ${String(err)}`);
    return (err.cause as Error).message;
  }

  const events = async (transferId: string) => (await orm.em.fork().find(TransferEvent, { transferId }, { orderBy: { at: 'asc', id: 'asc' } })).map((e) => ({ status: e.status, reason: e.reason }));

  it('R10 on day 59 of its 60-day window: returned, the client credited back', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000101' }, LONG_WATCH);
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      await env.sleep('58 days'); // the payout waits out its window at no cost
      assert.equal((await handle.query(statusQuery)).status, 'completed');
      await bankReturns((await handle.query(statusQuery)).railReference!, 'R10');
      // The return file reaches the payout through the ACH inbox, on day 59.
      await statusReached(handle, 'returned');
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
      await env.sleep('1 day'); // the return file reaches it through the ACH inbox meanwhile
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
    const [row] = await auditRows(input.transferId, 1);
    assert.deepEqual([row.action, row.outcome, row.via, row.channel, row.operator, row.statusBefore], ['returnDecision', 'accepted', 'signal', 'temporal', 'alice', 'needs_attention']);
    assert.match(row.detail, /^decision dishonor: accepted while needs_attention/);
  });

  it('a late return waits past 90 days at no cost; retry, cancel and a malformed decision are refused; the returnDecision Update accepts it', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000103' }, LONG_WATCH);
    let result;
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      await env.sleep('10 days');
      await bankReturns((await handle.query(statusQuery)).railReference!, 'R02');
      await env.sleep('1 day');
      await statusReached(handle, 'needs_attention');
      // Longer than the old 90-day limit: still waiting, nothing moved.
      await env.sleep('120 days');
      const parked = await handle.query(statusQuery);
      assert.equal(parked.status, 'needs_attention');
      assert.match(parked.reason!, /^late return R02 \(Account closed\)/);
      assert.equal(parked.waitingFor?.step, 'return decision');
      assert.match(parked.waitingFor?.accept ?? '', /credits the client back with new postings and ends the transfer returned/);
      assert.match(parked.waitingFor?.dishonor ?? '', /payout stays completed, the client is not credited/);
      assert.match(parked.waitingFor?.retry ?? '', /^refused/);
      assert.match(parked.waitingFor?.cancel ?? '', /^refused/);
      const metadata = (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')) ?? {};
      assert.match(metadata.currentDetails ?? '', /waiting for an operator's returnDecision: accept takes the return R02: .*; dishonor refuses the return R02: .*; retry and cancel are refused/);
      const history = (await handle.fetchHistory()).events ?? [];
      const timers = history.filter((e) => e.timerStartedEventAttributes);
      assert.ok(timers.length < 60, `timers in bounded slices, not polling (${timers.length} timers)`);
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });

      assert.match(await refusedUpdate(handle.executeUpdate(retryUpdate, { args: [{ reason: 'try again', operator: 'bob' }] })), /waits for a returnDecision \(accept or dishonor\), not a retry/);
      assert.match(await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'undo', operator: 'bob' }] })), /waits for a returnDecision \(accept or dishonor\), not a cancel/);
      assert.match(await refusedUpdate(handle.executeUpdate(returnDecisionUpdate, { args: [{ decision: 'maybe', reason: 'unsure', operator: 'bob' } as never] })), /decision must be one of "accept", "dishonor"/);
      assert.match(await refusedUpdate(handle.executeUpdate(returnDecisionUpdate, { args: [{ decision: 'accept', reason: '', operator: 'bob' }] })), /reason is required/);
      // Four eyes: accepting credits the client back, so it carries out an approval a second person gave.
      const accept = { decision: 'accept' as const, reason: 'the beneficiary bank proved the account closed', operator: 'bob' };
      assert.match(await refusedUpdate(handle.executeUpdate(returnDecisionUpdate, { args: [accept] })), /needs an approval by a second person \(four eyes\)/);
      const own = await recordedApproval(orm, input.transferId, 'return_accept', { requestedBy: 'bob', decidedBy: 'bob' });
      assert.match((await handle.executeUpdate(returnDecisionUpdate, { args: [{ ...accept, approvalId: own }] })).message, /refused: four eyes: approval apr_\S+ was not decided by a second person/);
      const pending = await recordedApproval(orm, input.transferId, 'return_accept', { status: 'pending' });
      assert.match((await handle.executeUpdate(returnDecisionUpdate, { args: [{ ...accept, approvalId: pending }] })).message, /refused: four eyes: approval apr_\S+ is pending, not approved/);
      const approved = await recordedApproval(orm, input.transferId, 'return_accept', { requestedBy: 'alice', decidedBy: 'bob' });
      result = await handle.executeUpdate(returnDecisionUpdate, { args: [{ ...accept, approvalId: approved }] });
    });
    assert.equal(state.status, 'returned');
    assert.equal(state.failureCode, 'R02');
    assert.deepEqual(result, { action: 'returnDecision', accepted: true, status: 'returned', message: 'returned: late return R02 accepted by bob: the beneficiary bank proved the account closed' });
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    const last = (await events(input.transferId)).slice(-1)[0];
    assert.equal(last.status, 'returned');
    assert.match(last.reason!, /late return R02 accepted by bob/);
    const rows = await auditRows(input.transferId, 8);
    assert.deepEqual(
      rows.map((r) => [r.action, r.outcome, r.via, r.operator, r.statusBefore]).sort(),
      [
        ['cancel', 'refused', 'update', 'bob', 'needs_attention'],
        ['retry', 'refused', 'update', 'bob', 'needs_attention'],
        ['returnDecision', 'accepted', 'update', 'bob', 'needs_attention'],
        ...Array.from({ length: 5 }, () => ['returnDecision', 'refused', 'update', 'bob', 'needs_attention']),
      ],
    );
    const decisions = rows.filter((r) => r.action === 'returnDecision');
    assert.deepEqual(decisions.map((r) => r.detail.replace(/:.*/, '')).sort(), ['decision accept', 'decision accept', 'decision accept', 'decision accept', 'decision accept', 'decision maybe']);
    assert.equal(decisions.filter((r) => /four eyes/.test(r.detail)).length, 3, 'each refusal for want of an approval is audited');
    assert.match(decisions.find((r) => r.outcome === 'accepted')!.detail, /carries out approval apr_/);
  });

  it('returnDecision when no return waits on one is refused (Update and signal), audited, and changes nothing', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000104' }, LONG_WATCH);
    const state = await runner.run(input, async (handle) => {
      await statusReached(handle, 'completed');
      assert.match(
        await refusedUpdate(handle.executeUpdate(returnDecisionUpdate, { args: [{ decision: 'accept', reason: 'client says it came back', operator: 'carol' }] })),
        /is completed and waits on no return decision/,
      );
      await handle.signal(returnDecisionSignal, { decision: 'dishonor', reason: 'by signal', operator: 'dan' });
      assert.equal((await auditRows(input.transferId, 2)).length, 2);
      await env.sleep('63 days'); // through the return window: nothing came back
    });
    assert.equal(state.status, 'completed');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
    const rows = await auditRows(input.transferId, 2);
    assert.deepEqual(rows.map((r) => [r.action, r.outcome, r.via, r.operator, r.statusBefore]).sort(), [
      ['returnDecision', 'refused', 'signal', 'dan', 'completed'],
      ['returnDecision', 'refused', 'update', 'carol', 'completed'],
    ]);
    assert.ok(rows.every((r) => /waits on no return decision/.test(r.detail)), rows.map((r) => r.detail).join('\n'));
    assert.deepEqual((await events(input.transferId)).map((e) => e.status).slice(-1), ['completed']);
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
      await statusReached(handle, 'returned'); // the pacs.004 reaches it through the SEPA inbox
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
