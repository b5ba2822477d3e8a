/**
 * The payout workflow of workflows/transfer/ on real Temporal servers with the real activities
 * (MariaDB, the bank simulator over HTTP). The bank's own messages are sent as `bankMessage`
 * signals by the test, where the bank inboxes would send them.
 *
 *   - a happy path per rail costs at most 8 billable actions (bench/actions.ts counts them from the
 *     recorded history; SPEC §8), reconciliation included;
 *   - Temporal's cancellation request (`handle.cancel()`, the CLI's `temporal workflow cancel`) on a
 *     submitted payout is refused like the cancel command, and the payout goes on to completed; the
 *     same request before submission cancels it and voids the hold;
 *   - Reset (`temporal workflow reset --type FirstWorkflowTask`, the UI's Reset) of a payout with the
 *     bank, or of one already completed, converges on the same end: held once, sent once, posted once.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/core';
import { Client, Connection, WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { countActions, type HistoryEvent } from '../../bench/actions';
import { SEARCH_ATTRIBUTES, railTiming, workflowIdFor, type Rail, type TransferWorkflowInput } from '../../core/transfer';
import type { BankMessage } from '../../core/bank-message';
import { Attempt, OperatorAction, Transfer, TransferEvent } from '../../db/schema';
import { buildActivities } from '../../workers/deps';
import { auditSinks } from '../../workers/audit-sink';
import { approvalDecisionSignal, bankMessageSignal, fundsHeldUpdate, statusQuery, type transferWorkflow } from '../../workflows/transfer/index';
import { findBinary } from '../../devtools/temporal';
import { until } from '../support/api-stack';
import { devServer, mariadbOrm, onTeardown, startSim, testDataConverter, timeSkippingEnv, workflowBundle, type RunningSim } from '../support/global';
import { BENEFICIARY, IBAN_BENEFICIARY, JP_BENEFICIARY, balanceOf, createdTransfer, fundedClient, postingsOf, recordedApproval, transferRow } from '../support/fixtures';

type Handle = WorkflowHandle<typeof transferWorkflow>;

/** A payout in `created` on `rail`, in the currency the rail carries, as the API records it. */
async function createdOn(orm: MikroORM, rail: Rail, amountMinor: number): Promise<{ clientId: string; input: TransferWorkflowInput; currency: string }> {
  const currency = rail === 'sepa' || rail === 'sepa_instant' ? 'EUR' : 'USD';
  const beneficiary = rail === 'sepa' || rail === 'sepa_instant' ? IBAN_BENEFICIARY : rail === 'swift' ? JP_BENEFICIARY : BENEFICIARY;
  const clientId = await fundedClient(orm, 100_000, currency);
  const base = await createdTransfer(orm, clientId, amountMinor, beneficiary, railTiming('demo'), rail === 'ach' ? 'ach' : 'rtp');
  await orm.em.fork().nativeUpdate(Transfer, { id: base.transferId }, { rail, currency, targetCurrency: currency });
  return { clientId, currency, input: { ...base, rail, currency, targetCurrency: currency } };
}

/** The start the API makes: update-with-start, answered once the hold is placed. */
async function startPayout(client: Client, taskQueue: string, input: TransferWorkflowInput): Promise<Handle> {
  const start = new WithStartWorkflowOperation<typeof transferWorkflow>('transferWorkflow', {
    workflowId: workflowIdFor(input.transferId),
    taskQueue,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.status, value: 'created' },
      { key: SEARCH_ATTRIBUTES.rail, value: input.rail },
      { key: SEARCH_ATTRIBUTES.clientId, value: input.clientId },
      { key: SEARCH_ATTRIBUTES.currency, value: input.currency },
      { key: SEARCH_ATTRIBUTES.amountMinor, value: input.amountMinor },
    ],
  });
  const hold = await client.workflow.executeUpdateWithStart(fundsHeldUpdate, { startWorkflowOperation: start });
  assert.equal(hold.held, true);
  return start.workflowHandle();
}

async function phaseReached(handle: Handle, phase: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await handle.query(statusQuery);
    if (s.phase === phase) return;
    if (Date.now() > deadline) throw new Error(`never reached phase ${phase}; it is ${s.phase} (${s.status}: ${s.reason})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** What the bank inbox would send: a fact about the payout's attempt. */
async function bankSays(handle: Handle, orm: MikroORM, transferId: string, kind: BankMessage['kind'], extra: Partial<BankMessage> = {}): Promise<void> {
  const [attempt] = await orm.em.fork().find(Attempt, { transferId }, { orderBy: { attemptNo: 'desc' }, limit: 1 });
  await handle.signal(bankMessageSignal, { messageId: `msg-${randomUUID()}`, rail: attempt.rail as Rail, kind, railReference: attempt.railReference, ...extra });
}

async function historyOf(handle: Handle): Promise<HistoryEvent[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).map((e) => ({ eventType: String(e.eventType), ...JSON.parse(JSON.stringify(e)) }));
}

/**
 * SPEC §8's budget: 8 on every rail. An ACH payout is told nothing when its file is accepted (the
 * window's send records it submitted): it hears the bank's settlement and statement like the others
 * (start 1, update 1, local steps in 2 tasks, timer 1, signals 2, upsert 1).
 */
const BUDGET: Record<Rail, number> = { rtp: 8, sepa_instant: 8, sepa: 8, swift: 8, ach: 8 };

describe('payout engine (workflows/transfer/) on the time-skipping server', () => {
  let orm: MikroORM;
  let bank: RunningSim;

  before(async () => {
    [orm, bank] = await Promise.all([mariadbOrm(), startSim(0)]);
  });

  for (const rail of ['rtp', 'sepa_instant', 'sepa', 'swift', 'ach'] as const) {
    it(`${rail}: a happy path, reconciliation and return window included, costs at most ${BUDGET[rail]} billable actions`, async () => {
      const env = await timeSkippingEnv();
      const taskQueue = `engine-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        dataConverter: testDataConverter,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: buildActivities(orm, { BANK_SIM_URL: bank.url }),
        sinks: auditSinks(orm),
      });
      const { clientId, currency, input } = await createdOn(orm, rail, 2_500);
      const events = await worker.runUntil(async () => {
        const handle = await startPayout(env.client, taskQueue, input);
        // ACH: the window's batch workflow sends the file and records it submitted; the payout waits queued for the bank's word.
        await phaseReached(handle, rail === 'ach' ? 'queued' : 'following');
        if (rail === 'ach') await until('the file accepted', () => transferRow(orm, input.transferId), (t) => t.status === 'submitted', 30_000);
        await bankSays(handle, orm, input.transferId, 'settled', { amountMinor: 2_500, currency });
        await bankSays(handle, orm, input.transferId, 'statement_matched', { amountMinor: 2_500, currency });
        const state = await handle.result();
        assert.equal(state.status, 'completed');
        return historyOf(handle);
      });
      assert.equal((await transferRow(orm, input.transferId)).status, 'completed');
      assert.deepEqual(await balanceOf(orm, clientId, currency), { currency, availableMinor: 97_500, heldMinor: 0 });
      assert.deepEqual(
        (await postingsOf(orm, input.transferId)).map((p) => p.code),
        ['payout_hold', 'payout_hold_posted', 'payout_settled'],
      );
      const actions = countActions(events);
      assert.ok(actions.total <= BUDGET[rail], `${rail}: ${actions.total} actions ${JSON.stringify(actions.byKind)}`);
    });
  }
});

describe('payout engine: Temporal cancellation requests and Reset (real dev server)', () => {
  let orm: MikroORM;
  let bank: RunningSim;
  let client: Client;
  let worker: Worker;
  let running: Promise<void>;
  let address: string;
  const taskQueue = `engine-cancel-${randomUUID()}`;

  before(async () => {
    const server = await devServer();
    address = server.address;
    [orm, bank] = await Promise.all([mariadbOrm(), startSim(0)]);
    client = new Client({ connection: await Connection.connect({ address: server.address }), dataConverter: testDataConverter });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    onTeardown(() => nativeConnection.close());
    worker = await Worker.create({
      connection: nativeConnection,
      dataConverter: testDataConverter,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: buildActivities(orm, { BANK_SIM_URL: bank.url }),
      sinks: auditSinks(orm),
    });
    running = worker.run();
  });

  after(async () => {
    worker.shutdown();
    await running;
  });

  it('refuses a cancellation request once the payout is with the bank, and the payout goes on to completed', async () => {
    const { clientId, input } = await createdOn(orm, 'rtp', 1_200);
    const handle = await startPayout(client, taskQueue, input);
    await phaseReached(handle, 'following');
    await handle.cancel();
    // The request is audited as refused, and the workflow keeps following the bank.
    const deadline = Date.now() + 20_000;
    let refused;
    while (!(refused = (await orm.em.fork().find(OperatorAction, { transferId: input.transferId }))[0]) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(refused?.outcome, 'refused');
    assert.equal(refused?.operator, 'temporal');
    assert.match(refused!.detail, /rtp cannot recall it/);
    assert.equal((await handle.query(statusQuery)).phase, 'following');
    await bankSays(handle, orm, input.transferId, 'settled');
    await bankSays(handle, orm, input.transferId, 'statement_matched');
    await phaseReached(handle, 'watching');
    assert.equal((await transferRow(orm, input.transferId)).status, 'completed');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 98_800, heldMinor: 0 });
    // The workflow was not closed by the request: it follows the return window, then completes.
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await handle.terminate('test done: the return window is not waited out in real time');
  });

  it('a cancellation request while the payout waits for an approval cancels it and voids the hold', async () => {
    const { clientId, input } = await createdOn(orm, 'rtp', 1_300);
    const handle = await startPayout(client, taskQueue, { ...input, approvalRequired: true });
    await phaseReached(handle, 'approval');
    assert.equal((await transferRow(orm, input.transferId)).status, 'needs_approval');
    await handle.cancel();
    const state = await handle.result();
    assert.equal(state.status, 'canceled');
    assert.equal((await transferRow(orm, input.transferId)).status, 'canceled');
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 100_000, heldMinor: 0 });
    assert.equal(bank.sim.submissions.filter((s) => s.amountMinor === 1_300).length, 0, 'nothing reached the bank');
  });

  it('an approvalDecision the approvals table does not stand behind is ignored: the payout keeps waiting until a second person\'s approval', async () => {
    const { input } = await createdOn(orm, 'rtp', 1_350);
    const handle = await startPayout(client, taskQueue, { ...input, approvalRequired: true });
    await phaseReached(handle, 'approval');
    await handle.signal(approvalDecisionSignal, { approvalId: 'apr_made_up', decision: 'approve', operator: 'mallory', reason: 'trust me' });
    const own = await recordedApproval(orm, input.transferId, 'payout', { requestedBy: 'client:x', decidedBy: 'client:x' });
    await handle.signal(approvalDecisionSignal, { approvalId: own, decision: 'approve', operator: 'client:x', reason: 'mine' });
    const denied = await recordedApproval(orm, input.transferId, 'payout', { status: 'denied' });
    await handle.signal(approvalDecisionSignal, { approvalId: denied, decision: 'approve', operator: 'bob', reason: 'says approve, row says denied' });
    // A query is answered after the workflow task that took the signals: all three were looked at.
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal((await handle.query(statusQuery)).phase, 'approval');
    assert.equal((await transferRow(orm, input.transferId)).status, 'needs_approval');
    const approved = await recordedApproval(orm, input.transferId, 'payout', { requestedBy: 'client:x', decidedBy: 'bob' });
    await handle.signal(approvalDecisionSignal, { approvalId: approved, decision: 'approve', operator: 'bob', reason: 'checked' });
    await phaseReached(handle, 'following');
    await handle.terminate('test done: the approval let it go on');
  });

  /** What an operator runs from a shell (the UI's Reset does the same): the workflow re-runs from its first task. */
  async function resetToFirstTask(handle: Handle): Promise<string> {
    const temporal = findBinary('temporal');
    if (!temporal) throw new Error('the temporal CLI is not installed: run `bash scripts/bootstrap-tools.sh`');
    const before = (await handle.describe()).runId;
    await promisify(execFile)(temporal, ['workflow', 'reset', '--address', address, '--workflow-id', handle.workflowId, '--type', 'FirstWorkflowTask', '--reason', 'operator pressed Reset']);
    const after = (await client.workflow.getHandle(handle.workflowId).describe()).runId;
    assert.notEqual(after, before, 'the reset started a new run');
    return after;
  }

  /** The payout's attempt as the bank has it: what it received under the reference, and how often it paid. */
  function atBank(railReference: string): { received: number; paid: number } {
    const subs = bank.sim.submissions.filter((s) => s.reference === railReference);
    return { received: subs.length, paid: subs.filter((s) => !s.duplicate && !['rejected', 'dropped', 'unavailable', 'rate_limited'].includes(s.status)).length };
  }

  it('Reset while the bank has the payout: the new run holds nothing again, sends nothing again, and completes on the bank\'s word', async () => {
    const { clientId, input } = await createdOn(orm, 'rtp', 1_400);
    const first = await startPayout(client, taskQueue, input);
    await phaseReached(first, 'following');
    const [attempt] = await orm.em.fork().find(Attempt, { transferId: input.transferId });
    await resetToFirstTask(first);
    const handle = client.workflow.getHandle<typeof transferWorkflow>(first.workflowId);
    await phaseReached(handle, 'following');
    assert.equal((await transferRow(orm, input.transferId)).status, 'submitted');
    await bankSays(handle, orm, input.transferId, 'settled');
    await bankSays(handle, orm, input.transferId, 'statement_matched');
    await phaseReached(handle, 'watching');
    assert.equal((await transferRow(orm, input.transferId)).status, 'completed');
    assert.deepEqual((await postingsOf(orm, input.transferId)).map((p) => p.code), ['payout_hold', 'payout_hold_posted', 'payout_settled']);
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 98_600, heldMinor: 0 });
    assert.equal(await orm.em.fork().count(Attempt, { transferId: input.transferId }), 1, 'one attempt, one reference');
    assert.deepEqual(atBank(attempt.railReference), { received: 1, paid: 1 });
    await handle.terminate('test done: the return window is not waited out in real time');
  });

  it('Reset of a completed payout: the new run finds the payment settled and the transfer completed, and moves nothing backwards', async () => {
    const { clientId, input } = await createdOn(orm, 'rtp', 1_500);
    const first = await startPayout(client, taskQueue, input);
    await phaseReached(first, 'following');
    await bankSays(first, orm, input.transferId, 'settled');
    await bankSays(first, orm, input.transferId, 'statement_matched');
    await phaseReached(first, 'watching');
    const eventsBefore = await orm.em.fork().count(TransferEvent, { transferId: input.transferId });
    const [attempt] = await orm.em.fork().find(Attempt, { transferId: input.transferId });
    await resetToFirstTask(first);
    // The bank's word reaches the new run again: Reset re-applies the signals received after the
    // reset point. The run re-takes each step; the writes an earlier run made are made again as no-ops.
    const handle = client.workflow.getHandle<typeof transferWorkflow>(first.workflowId);
    await phaseReached(handle, 'watching');
    assert.equal((await handle.query(statusQuery)).status, 'completed');
    const row = await transferRow(orm, input.transferId);
    assert.equal(row.status, 'completed');
    assert.equal(await orm.em.fork().count(TransferEvent, { transferId: input.transferId }), eventsBefore, 'no status written again, none backwards');
    assert.deepEqual((await postingsOf(orm, input.transferId)).map((p) => p.code), ['payout_hold', 'payout_hold_posted', 'payout_settled']);
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 98_500, heldMinor: 0 });
    assert.deepEqual(atBank(attempt.railReference), { received: 1, paid: 1 });
    await handle.terminate('test done: the return window is not waited out in real time');
  });
});
