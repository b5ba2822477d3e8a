/**
 * A window of any size stays inside Temporal's limits (time-skipping server, MariaDB, the
 * simulator): the batch workflow's send hands back counts, not a row per entry; the answers are
 * read from the entry rows a page at a time and each payout is told once; and the workflow
 * continues as new before its history grows large. Listeners stand in for the payouts
 * (test/support/ach-answer-recorder.ts), so a window can hold many entries cheaply; the page and
 * history bounds are made small so a few dozen entries cross them several times.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createAchWindowActivities, queueEntry, type AchWindowDeps } from '../../activities/ach-windows';
import { newId } from '../../core/ids';
import { workflowIdFor } from '../../core/transfer';
import { Attempt } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { ACH_ORIGINATOR } from '../../workers/deps';
import type { AchBatchResult } from '../../workflows/ach-batch';
import { answersQuery } from '../support/ach-answer-recorder';
import { BENEFICIARY, createdTransfer, fundedClient } from '../support/fixtures';
import { mariadbOrm, onTeardown, startSim, timeSkippingEnv, type RunningSim } from '../support/global';

const WINDOW_MS = 10_000;

describe('the ACH batch workflow pages a large window (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let orm: MikroORM;
  let bank: RunningSim;
  let taskQueue: string;
  let trace = 0;

  before(async () => {
    [env, orm, bank] = await Promise.all([timeSkippingEnv(), mariadbOrm(), startSim(0)]);
    taskQueue = `ach-batch-${randomUUID()}`;
    const deps: AchWindowDeps = { orm, baseUrl: bank.url, originator: ACH_ORIGINATOR, railTime: 'demo', demoWindowMs: WINDOW_MS, requestTimeoutMs: 5_000 };
    const { sendAchWindow, achWindowAnswers } = createAchWindowActivities(deps);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      dataConverter: env.options.client.dataConverter,
      workflowsPath: require.resolve('../support/ach-answer-recorder'),
      activities: { sendAchWindow, achWindowAnswers },
    });
    const running = worker.run();
    onTeardown(async () => {
      worker.shutdown();
      await running;
    });
  });

  afterEach(() => fetch(`${bank.url}/sim/rules`, { method: 'DELETE' }));

  /**
   * `n` ACH payouts queued in one window that closed in the past (so the batch sends at once),
   * each with a listener running as its workflow; accounts `<prefix>NN`.
   */
  async function window(n: number, prefix: string, slot: number) {
    const owner = await fundedClient(orm, 0);
    const atMs = Date.now() - 3_600_000 + slot * WINDOW_MS;
    const deps = { orm, baseUrl: bank.url, originator: ACH_ORIGINATOR, railTime: 'demo' as const, demoWindowMs: WINDOW_MS };
    const payouts: { transferId: string; traceNumber: string }[] = [];
    let windowId = '';
    for (let i = 0; i < n; i++) {
      const input = await createdTransfer(orm, owner, 1_000 + i, { ...BENEFICIARY, accountNumber: `${prefix}${String(i).padStart(2, '0')}` });
      const traceNumber = `99999998${String(++trace).padStart(7, '0')}`;
      const now = new Date();
      await orm.em.fork().insert(Attempt, { id: newId('att'), transferId: input.transferId, attemptNo: 1, rail: 'ach', railReference: traceNumber, status: 'pending', failureCode: null, createdAt: now, updatedAt: now });
      ({ windowId } = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, deps, traceNumber, atMs)));
      await env.client.workflow.start('achAnswerRecorder', { taskQueue, workflowId: workflowIdFor(input.transferId) });
      payouts.push({ transferId: input.transferId, traceNumber });
    }
    const cutoffAtMs = (Math.floor(atMs / WINDOW_MS) + 1) * WINDOW_MS;
    return { payouts, windowId, cutoffAtMs };
  }

  /** Runs the window's batch workflow to its end, following its continued runs; its runs' histories, first to last. */
  async function runBatch(windowId: string, cutoffAtMs: number, bounds: { pageSize: number; historyEventsMax: number }) {
    const workflowId = `ach-batch-${windowId}`;
    const handle = await env.client.workflow.start('achBatchWorkflow', { taskQueue, workflowId, args: [{ windowId, cutoffAtMs, ...bounds }] });
    const result = (await handle.result()) as AchBatchResult;
    const runs = [];
    let runId: string | undefined = handle.firstExecutionRunId;
    while (runId) {
      const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      runs.push(history.events ?? []);
      runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return { result, runs };
  }

  /** The answers a payout's listener received, whether it still runs or the server's clock has passed its deadline. */
  function answersOf(transferId: string) {
    return env.client.workflow.getHandle(workflowIdFor(transferId)).query(answersQuery);
  }

  it('a refused file: every payout told once, a page at a time, over several runs; no run carries a row per entry', async () => {
    const { payouts, windowId, cutoffAtMs } = await window(23, '7000070', 1);
    await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber: '700007000' }, behavior: 'reject_file' }) });
    const { result, runs } = await runBatch(windowId, cutoffAtMs, { pageSize: 4, historyEventsMax: 20 });
    assert.deepEqual(result, { entries: 23, accepted: 0, rejected: 23, outcome: 'file_rejected' });
    assert.ok(runs.length >= 3, `continued as new: ${runs.length} runs`);
    for (const events of runs) assert.ok(events.length <= 20 + 2 * 4 + 12, `a run of ${events.length} events stays near its bound`);
    const completed = runs.flat().filter((e) => e.activityTaskCompletedEventAttributes);
    assert.equal(completed.length, 1 + Math.floor(23 / 4) + 1, 'one send, then one read per page (the last one short)');
    const sendResultBytes = completed[0].activityTaskCompletedEventAttributes!.result?.payloads?.[0]?.data?.length ?? 0;
    assert.ok(sendResultBytes > 0 && sendResultBytes < 1_000, `the send's result is counts, not 23 rows: ${sendResultBytes} bytes`);
    for (const p of payouts) {
      const answers = await answersOf(p.transferId);
      assert.equal(answers.length, 1, `${p.transferId} told once`);
      assert.deepEqual([answers[0].traceNumber, answers[0].outcome, answers[0].windowId], [p.traceNumber, 'file_rejected', windowId]);
      assert.match(answers[0].message, /the bank refused file .* whole/);
    }
  });

  it('the bank never answers: after the send budget every payout still in the file is told file_unconfirmed, paged the same way', async () => {
    const { payouts, windowId, cutoffAtMs } = await window(9, '7000080', 2);
    await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber: '700008000' }, behavior: 'unavailable' }) });
    const { result, runs } = await runBatch(windowId, cutoffAtMs, { pageSize: 4, historyEventsMax: 10 });
    assert.deepEqual(result, { entries: 9, accepted: 0, rejected: 9, outcome: 'file_unconfirmed' });
    assert.ok(runs.length >= 2, `continued as new: ${runs.length} runs`);
    for (const p of payouts) {
      const answers = await answersOf(p.transferId);
      assert.equal(answers.length, 1, `${p.transferId} told once`);
      assert.deepEqual([answers[0].traceNumber, answers[0].outcome], [p.traceNumber, 'file_unconfirmed']);
      assert.match(answers[0].message, /did not confirm file .* within its retry budget/);
    }
  });

  it('an accepted window tells nobody and hands back its counts only', async () => {
    const { payouts, windowId, cutoffAtMs } = await window(6, '7000090', 3);
    const { result, runs } = await runBatch(windowId, cutoffAtMs, { pageSize: 4, historyEventsMax: 20 });
    assert.deepEqual(result, { entries: 6, accepted: 6, rejected: 0, outcome: 'sent' });
    assert.equal(runs.length, 1);
    assert.equal(runs[0].filter((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes).length, 0, 'no signal');
    for (const p of payouts) assert.deepEqual(await answersOf(p.transferId), []);
  });
});
