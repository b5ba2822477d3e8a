/**
 * The transfer saga under operators and failing compensations, on the time-skipping server with
 * the real activities, MariaDB and the bank simulator over HTTP.
 *
 * A compensation is made to fail for real: a MariaDB trigger refuses the one posting it writes.
 * Operators act through the `retry` and `cancel` Updates and signals; every action, accepted or
 * refused, is checked in the audit log.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TransferWorkflowInput } from '../../core/transfer';
import { auditLedger } from '../../ledger/auditor';
import { Attempt, OperatorAction, TransferEvent } from '../../db/schema';
import { cancelSignal, cancelUpdate, retrySignal, retryUpdate, statusQuery, type transferWorkflow } from '../../workflows/transfer';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, balanceOf, createdFxTransfer, createdTransfer, fundedClient, postingsOf, transferRow } from '../support/fixtures';
import { until } from '../support/api-stack';

type Handle = WorkflowHandle<typeof transferWorkflow>;

describe('transfer saga and operator actions (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;
  /** The same stack with ten-minute ACH windows: a queued payout stays queued while a test steers it in real time. */
  let slowWindows: TransferRunner;
  let accountSeq = 0;

  before(async () => {
    runner = await transferRunner();
    slowWindows = await transferRunner({ achDemoWindowMs: 600_000, alongside: runner });
    ({ env, orm, bank } = runner);
  });

  afterEach(() => runner.clearRules());

  async function rule(body: unknown): Promise<void> {
    const res = await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
  }

  async function statusReached(handle: Handle, status: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await handle.query(statusQuery)).status !== status) {
      if (Date.now() > deadline) throw new Error(`workflow never reached ${status}; it is ${(await handle.query(statusQuery)).status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Moves the test server's clock ten minutes at a time until the payout reaches `status`: each
   * step waits for the work the clock set off (the bank's hang is real time), so however slowly
   * the machine runs, the payout's timers all come due.
   */
  async function skipUntilStatus(handle: Handle, status: string, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await handle.query(statusQuery)).status !== status) {
      if (Date.now() > deadline) throw new Error(`workflow never reached ${status}; it is ${(await handle.query(statusQuery)).status}`);
      await env.sleep('10 minutes');
    }
  }

  const audit = (transferId: string) => orm.em.fork().find(OperatorAction, { transferId }, { orderBy: { at: 'asc', id: 'asc' } });

  /** Waits for the audit log to hold `count` rows for the transfer (a refused Update is written by the worker's sink, just after). */
  async function auditRows(transferId: string, count: number) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const rows = await audit(transferId);
      if (rows.length >= count || Date.now() > deadline) return rows;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const transferViewsOf = async (transferId: string) => (await orm.em.fork().find(Attempt, { transferId })).map((a) => a.railReference);

  const events = async (transferId: string) => (await orm.em.fork().find(TransferEvent, { transferId }, { orderBy: { at: 'asc', id: 'asc' } })).map((e) => e.status);

  /**
   * A transfer to an account the bank refuses (503) until the rules are cleared. Over RTP, one
   * instruction per payout, so the payout's own submit step meets the outage (an ACH payout's
   * window file meets it instead: bank-behaviors.test.ts).
   */
  async function stuckTransfer(amountMinor = 1_000): Promise<{ clientId: string; input: TransferWorkflowInput }> {
    const accountNumber = `71${String(++accountSeq).padStart(7, '0')}`;
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, amountMinor, { ...BENEFICIARY, accountNumber }, undefined, 'rtp');
    await rule({ match: { accountNumber }, behavior: 'unavailable' });
    return { clientId, input };
  }

  async function parkedByBank(handle: Handle): Promise<void> {
    await env.sleep('30 minutes'); // through BANK_SUBMIT's ten-minute budget
    await statusReached(handle, 'needs_attention');
  }

  async function refusedUpdate(promise: Promise<unknown>): Promise<string> {
    const err = await promise.then(
      () => assert.fail('the update was accepted'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof WorkflowUpdateFailedError, `expected a refused update, got ${String(err)}`);
    return (err.cause as Error).message;
  }

  /** A MariaDB trigger that refuses postings of one kind for one transfer: a compensation that cannot complete. */
  async function refusePostings(transferId: string, column: 'kind' | 'code', value: string): Promise<() => Promise<void>> {
    const name = `refuse_${value}_${transferId.slice(-8)}`;
    const connection = orm.em.getConnection();
    await connection.execute(
      `create trigger ${name} before insert on postings for each row begin ` +
        `if new.transfer_id = '${transferId}' and new.${column} = '${value}' then signal sqlstate '45000' set message_text = 'posting refused by the test trigger'; end if; end`,
    );
    return async () => {
      await connection.execute(`drop trigger if exists ${name}`);
    };
  }

  it('a compensation that cannot complete parks the transfer in needs_attention, naming it; a retry finishes it', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_500, { ...BENEFICIARY, accountNumber: '000111111116' }); // rejected with R03
    const allowVoid = await refusePostings(input.transferId, 'kind', 'void_pending');
    let result;
    try {
      const state = await runner.run(input, async (handle) => {
        await env.sleep('1 hour'); // through LEDGER_COMPENSATION's fifteen minutes
        await statusReached(handle, 'needs_attention');
        const parked = await handle.query(statusQuery);
        assert.match(parked.reason ?? '', /compensation voidHold could not complete: .*posting refused by the test trigger/);
        assert.equal(parked.waitingFor?.step, 'compensation voidHold');
        const row = await transferRow(orm, input.transferId);
        assert.equal(row.status, 'needs_attention', `the database says so too (${parked.reason})`);
        assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 3_500, heldMinor: 1_500 }, 'the hold still stands');
        // Cancel cannot skip a compensation: refused, with the reason.
        assert.match(await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'give up', operator: 'carol' }] })), /compensations are in progress/);
        await allowVoid();
        result = await handle.executeUpdate(retryUpdate, { args: [{ reason: 'trigger removed', operator: 'carol' }] });
      });
      assert.equal(state.status, 'failed');
      assert.equal(state.failureCode, 'R03');
    } finally {
      await allowVoid();
    }
    assert.deepEqual(result, { action: 'retry', accepted: true, status: 'failed', message: 'failed: rejected by the bank with R03' });
    assert.deepEqual(await postingsOf(orm, input.transferId), [
      { kind: 'pending', code: 'payout_hold', amountMinor: 1_500 },
      { kind: 'void_pending', code: 'payout_hold_voided', amountMinor: 1_500 },
    ]);
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    // The second funds_held is the entry queued in its window (the status does not change until the file's answer).
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'funds_held', 'needs_attention', 'failed']);
    const rows = await auditRows(input.transferId, 2);
    assert.deepEqual(
      rows.map((r) => [r.action, r.outcome, r.via, r.channel, r.operator, r.statusBefore]).sort(),
      [
        ['cancel', 'refused', 'update', 'temporal', 'carol', 'needs_attention'],
        ['retry', 'accepted', 'update', 'temporal', 'carol', 'needs_attention'],
      ],
    );
    const reference = (await transferViewsOf(input.transferId))[0];
    assert.equal(bank.sim.submissions.filter((s) => s.reference === reference).length, 1, 'submitted once, rejected once');
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('compensations run last-first: a failing FX unwind parks the transfer before the hold is touched; a retry finishes both', async () => {
    const clientId = await fundedClient(orm, 50_000, 'EUR');
    const { input } = await createdFxTransfer(orm, clientId, 20_000, 'EUR', 'USD', { ...BENEFICIARY, accountNumber: '000111111116' });
    const allowUnwind = await refusePostings(input.transferId, 'code', 'fx_unwind_target_leg');
    try {
      const state = await runner.run(input, async (handle) => {
        await env.sleep('1 hour');
        await statusReached(handle, 'needs_attention');
        assert.match((await handle.query(statusQuery)).reason ?? '', /compensation unwindFx could not complete/);
        const codes = (await postingsOf(orm, input.transferId)).map((p) => p.code);
        assert.ok(!codes.some((c) => c.startsWith('fx_unwind') || c === 'payout_refund'), 'nothing of the unwind was written');
        assert.deepEqual(await balanceOf(orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 30_000, heldMinor: 0 }, 'the money is still out with the conversion');
        await allowUnwind();
        await handle.signal(retrySignal, { reason: 'trigger removed', operator: 'ivan' });
      });
      assert.equal(state.status, 'failed');
    } finally {
      await allowUnwind();
    }
    assert.deepEqual(await balanceOf(orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 50_000, heldMinor: 0 });
    const [row] = await auditRows(input.transferId, 1);
    assert.deepEqual([row.action, row.outcome, row.via, row.operator], ['retry', 'accepted', 'signal', 'ivan']);
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('retry through the Update: a transfer stuck on a bank outage resumes and completes, submitted once', async () => {
    const { clientId, input } = await stuckTransfer();
    let result;
    const state = await runner.run(input, async (handle) => {
      await parkedByBank(handle);
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 1_000 }, 'the hold stands while it waits');
      await runner.clearRules();
      result = await handle.executeUpdate(retryUpdate, { args: [{ reason: 'bank is back', operator: 'alice' }] });
    });
    assert.equal(state.status, 'completed');
    assert.deepEqual(result, { action: 'retry', accepted: true, status: 'submitted', message: `submitted` });
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'needs_attention', 'funds_held', 'submitted', 'settled', 'completed']);
    assert.equal(bank.sim.submissions.filter((s) => s.reference === state.railReference && s.status !== 'unavailable').length, 1, 'the bank took it once');
    const [row] = await auditRows(input.transferId, 1);
    assert.deepEqual([row.action, row.outcome, row.via, row.channel, row.operator, row.reason, row.statusBefore], ['retry', 'accepted', 'update', 'temporal', 'alice', 'bank is back', 'needs_attention']);
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('cancel through the Update: a stuck transfer that never reached the bank is canceled, the hold voided', async () => {
    const { clientId, input } = await stuckTransfer();
    let result;
    const state = await runner.run(input, async (handle) => {
      await parkedByBank(handle);
      // The Temporal UI's current details say what is stuck and what each operator action would do.
      const metadata = (await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata')) ?? {};
      assert.match(metadata.currentDetails ?? '', /\*\*needs_attention\*\* — submitPayout failed after its retries/);
      assert.match(metadata.currentDetails ?? '', /waiting for an operator: retry runs submitPayout again; cancel asks the bank first; undoes what was done only if the bank has no record of the payment/);
      result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'beneficiary bank down for the week', operator: 'bob' }] });
    });
    assert.equal(state.status, 'canceled');
    assert.deepEqual(result, { action: 'cancel', accepted: true, status: 'canceled', message: `canceled: canceled by bob: beneficiary bank down for the week; the bank has no record of ${state.railReference}` });
    assert.equal((await transferRow(orm, input.transferId)).status, 'canceled');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    assert.equal(bank.sim.submissions.filter((s) => s.reference === state.railReference && s.status !== 'unavailable').length, 0, 'nothing reached the bank');
    const [row] = await auditRows(input.transferId, 1);
    assert.deepEqual([row.action, row.outcome, row.operator], ['cancel', 'accepted', 'bob']);
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('validators refuse what the state does not allow, and each refusal is in the audit log once', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '720000001' });
    await rule({ match: { accountNumber: '720000001' }, behavior: 'hold' });
    const state = await runner.run(input, async (handle) => {
      // The window's send records the accepted entry submitted; the payout hears the bank's settlement next.
      await until('the file accepted', () => transferRow(orm, input.transferId), (t) => t.status === 'submitted', 30_000);
      const { railReference } = await handle.query(statusQuery);
      assert.match(await refusedUpdate(handle.executeUpdate(retryUpdate, { args: [{ reason: 'why not', operator: 'dave' }] })), /retry applies to a transfer in needs_attention or unknown; .* is in the file of the .* window \(ach-demo-\d+\), which went to the bank at its cut-off/);
      assert.match(await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'client asked', operator: 'dave' }] })), /window \(ach-demo-\d+\) has closed and its file carries the payment under trace \d{15}; ach cannot recall it/);
      assert.match(await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: '', operator: 'dave' }] })), /reason is required/);
      assert.match(await refusedUpdate(handle.executeUpdate(retryUpdate, { args: [{ reason: 'x' } as never] })), /operator is required/);
      // The same update ID sent twice is one action in the log.
      for (let i = 0; i < 2; i++) await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'again', operator: 'erin' }], updateId: 'the-same-update' }));
      // A refused signal is recorded by the workflow itself.
      await handle.signal(cancelSignal, { reason: 'by signal', operator: 'frank' });
      await fetch(`${bank.url}/sim/payments/${railReference}/release`, { method: 'POST' });
    });
    assert.equal(state.status, 'completed');
    const rows = await auditRows(input.transferId, 6);
    assert.equal(rows.length, 6);
    assert.ok(rows.every((r) => r.outcome === 'refused'));
    assert.equal(rows.filter((r) => r.id === 'the-same-update').length, 1);
    const bySignal = rows.find((r) => r.via === 'signal')!;
    assert.deepEqual([bySignal.action, bySignal.operator, bySignal.statusBefore], ['cancel', 'frank', 'submitted']);
    assert.match(bySignal.detail, /cannot recall it/);
    assert.equal(bank.sim.submissions.filter((s) => s.reference === state.railReference).length, 1);
  });

  it('retry while the outcome is unknown inquires at once under the same reference, never resubmitting', async () => {
    const clientId = await fundedClient(orm, 5_000);
    // Over RTP: an ACH payout's lost answer is met by its window's batch workflow, not the payout.
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '720000002' }, undefined, 'rtp');
    await rule({ match: { accountNumber: '720000002' }, behavior: 'timeout_after_accept' });
    // The bank's own reports held back (no inbox collects them): only an inquiry can learn the outcome.
    const silent = await transferRunner({ alongside: runner, bankInboxes: false });
    let result;
    const state = await silent.run({ ...input, timing: { ...input.timing, pollIntervalMs: 3_600_000 } }, async (handle) => {
      await statusReached(handle, 'unknown');
      result = await handle.executeUpdate(retryUpdate, { args: [{ reason: 'ask the bank now', operator: 'gina' }] });
    });
    assert.equal(state.status, 'completed');
    assert.equal((result as unknown as { status: string }).status, 'submitted', 'the inquiry found the payment');
    assert.equal(bank.sim.submissions.filter((s) => s.reference === state.railReference).length, 1, 'submitted exactly once');
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'unknown', 'submitted', 'settled', 'completed']);
  });

  it("a bank's 429 Retry-After sets the next retry's delay instead of the 2 s backoff", async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '720000003' });
    await rule({ match: { accountNumber: '720000003' }, behavior: 'rate_limited', delayMs: 300_000, times: 1 });
    const seen = () => bank.sim.submissions.filter((s) => s.raw.includes('720000003')).map((s) => s.status);
    const state = await runner.run(input, async () => {
      const deadline = Date.now() + 10_000;
      while (seen().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(seen(), ['rate_limited']);
      // Five real seconds and two skipped minutes: a 2 s backoff would have retried long ago.
      await new Promise((r) => setTimeout(r, 5_000));
      await env.sleep('2 minutes');
      assert.deepEqual(seen(), ['rate_limited'], 'no retry before the Retry-After of 300 s');
      await env.sleep('4 minutes');
    });
    assert.equal(state.status, 'completed');
    assert.deepEqual(seen(), ['rate_limited', 'pending']);
  });

  it('cancel while the hold is still being placed: taken before submission, the hold voided, nothing sent', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '720000004' });
    // A slow ledger: the hold's posting takes three seconds, long enough for an operator to act.
    const name = `slow_hold_${input.transferId.slice(-8)}`;
    const connection = orm.em.getConnection();
    await connection.execute(`create trigger ${name} before insert on postings for each row begin if new.transfer_id = '${input.transferId}' and new.kind = 'pending' then set @slept = sleep(3); end if; end`);
    let result;
    try {
      // Ten-minute windows: the cancel meets the entry queued however slowly the machine runs.
      const state = await slowWindows.run(input, async (handle) => {
        await new Promise((r) => setTimeout(r, 1_000));
        // (A query would wait for the workflow task running the hold: the database says where it is.)
        assert.equal((await transferRow(orm, input.transferId)).status, 'created', 'the hold is still being placed');
        result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'wrong beneficiary', operator: 'judy' }] });
      });
      assert.equal(state.status, 'canceled');
    } finally {
      await connection.execute(`drop trigger if exists ${name}`);
    }
    assert.equal((result as unknown as { status: string }).status, 'canceled');
    assert.deepEqual(await postingsOf(orm, input.transferId), [
      { kind: 'pending', code: 'payout_hold', amountMinor: 1_000 },
      { kind: 'void_pending', code: 'payout_hold_voided', amountMinor: 1_000 },
    ]);
    assert.equal(bank.sim.submissions.filter((s) => s.raw.includes('720000004')).length, 0, 'nothing reached the bank');
    // The hold and the queueing run in one workflow task (local steps): the cancel meets the entry queued in its window and withdraws it.
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'funds_held', 'canceled']);
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('an outcome the bank never confirms: inquiries and resends under the same reference, then needs_attention; a retry resolves it, never under a new reference', async () => {
    const clientId = await fundedClient(orm, 5_000);
    // Over RTP: an ACH window file the bank never confirms is the batch workflow's (bank-behaviors.test.ts).
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '720000005' }, undefined, 'rtp');
    await rule({ match: { accountNumber: '720000005' }, behavior: 'timeout_before_accept' });
    let result;
    const state = await runner.run(input, async (handle) => {
      await skipUntilStatus(handle, 'needs_attention');
      const parked = await handle.query(statusQuery);
      assert.match(parked.reason ?? '', /the bank has no record of \S+ after 2 resends under the same reference/);
      assert.match(await refusedUpdate(handle.executeUpdate(cancelUpdate, { args: [{ reason: 'give up', operator: 'kim' }] })), /has not confirmed that \S+ is dead/);
      await runner.clearRules();
      result = await handle.executeUpdate(retryUpdate, { args: [{ reason: 'bank fixed its intake', operator: 'kim' }] });
    });
    assert.equal(state.status, 'completed');
    assert.deepEqual(result, { action: 'retry', accepted: true, status: 'unknown', message: 'unknown: retry by kim: bank fixed its intake' });
    const attempts = await orm.em.fork().find(Attempt, { transferId: input.transferId });
    assert.equal(attempts.length, 1, 'one attempt, one reference');
    assert.deepEqual(
      bank.sim.submissions.filter((s) => s.reference === attempts[0].railReference).map((s) => [s.status, s.duplicate]),
      [['dropped', false], ['dropped', false], ['dropped', false], ['pending', false]],
      'sent three times into the void, then once taken: never paid twice',
    );
    assert.deepEqual(await events(input.transferId), ['created', 'funds_held', 'unknown', 'needs_attention', 'unknown', 'submitted', 'settled', 'completed']);
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('cancel before submission while parked on a failing hold: canceled, nothing held, nothing sent', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000);
    const allowHold = await refusePostings(input.transferId, 'kind', 'pending');
    try {
      const state = await runner.run(input, async (handle) => {
        await env.sleep('1 hour'); // through LEDGER_STEP's five minutes
        await statusReached(handle, 'needs_attention');
        assert.match((await handle.query(statusQuery)).reason ?? '', /holdFunds failed after its retries/);
        await handle.signal(cancelSignal, { reason: 'ledger outage, client will resend', operator: 'hank' });
      });
      assert.equal(state.status, 'canceled');
    } finally {
      await allowHold();
    }
    assert.deepEqual(await postingsOf(orm, input.transferId), []);
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    const [row] = await auditRows(input.transferId, 1);
    assert.deepEqual([row.action, row.outcome, row.via], ['cancel', 'accepted', 'signal']);
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
