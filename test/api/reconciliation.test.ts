/**
 * The daily reconciliation Schedule on the Temporal dev server, with a worker and the bank inboxes, MariaDB (a database
 * of this suite's own, so whole-account balances can be compared with a fresh bank simulator), the
 * simulator's camt.053 statements, and the ops route over real HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../core/config';
import { workflowIdFor } from '../../core/transfer';
import { ReconciliationBreak, Transfer } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { startApiServer, type ApiServer } from '../../api/server';
import { newApiKey } from '../../api/keys';
import { createClient } from '../../services/clients';
import type { DailyReconciliation } from '../../services/reconciliation';
import { buildActivities } from '../../workers/deps';
import { ensureReconciliationSchedule, RECONCILIATION_SCHEDULE_ID } from '../../workers/schedules';
import { reconciliationWorkflow } from '../../workflows/reconciliation';
import { statusQuery, transferWorkflow } from '../../workflows/transfer';
import { devServer, startSim, testDataConverter, workflowBundle, type RunningSim } from '../support/global';
import { scratchMariadbOrm } from '../support/scratch-db';
import { testInboxes } from '../support/inboxes';
import { BENEFICIARY, JP_BENEFICIARY, createdTransfer, fundedClient } from '../support/fixtures';
import { call, until } from '../support/api-stack';

describe('daily reconciliation Schedule, breaks and the ops route (dev server)', function () {
  this.timeout(120_000);
  let orm: MikroORM;
  let bank: RunningSim;
  let temporal: Client;
  let connection: Connection;
  let workerConnection: NativeConnection;
  let worker: Worker;
  let workerRun: Promise<void>;
  let api: ApiServer;
  const opsKey = newApiKey('ops');
  const taskQueue = `recon-${randomUUID()}`;
  const scheduleId = `${RECONCILIATION_SCHEDULE_ID}-${randomUUID()}`;
  /** Transfer workflows still running at the end (waiting for an operator or watching for returns). */
  const stuck: WorkflowHandle<typeof transferWorkflow>[] = [];
  let inboxes: { stop(): Promise<void> };

  before(async () => {
    const dev = await devServer();
    [orm, bank] = await Promise.all([scratchMariadbOrm(), startSim(0)]);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', BANK_SIM_URL: bank.url, TEMPORAL_ADDRESS: dev.address, RAIL_TIME: 'demo' });
    connection = await Connection.connect({ address: dev.address });
    temporal = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
    workerConnection = await NativeConnection.connect({ address: dev.address });
    worker = await Worker.create({ connection: workerConnection, dataConverter: testDataConverter, taskQueue, workflowBundle: await workflowBundle(), activities: buildActivities(orm, config) });
    workerRun = worker.run();
    inboxes = testInboxes(orm, bank.url, temporal);
    api = await startApiServer({ orm, temporal, config, opsApiKey: opsKey });
  });

  after(async () => {
    for (const handle of stuck) await handle.terminate('test over').catch(() => undefined);
    await temporal.schedule.getHandle(scheduleId).delete().catch(() => undefined);
    await api.close();
    await inboxes.stop();
    worker.shutdown();
    await workerRun;
    await workerConnection.close();
    await connection.close();
  });

  async function post(path: string, body: unknown): Promise<void> {
    const res = await fetch(`${bank.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.text());
  }

  async function payout(accountNumber: string, amountMinor: number, swift?: { chargeBearer: 'OUR' }) {
    const clientId = await fundedClient(orm, amountMinor);
    const input = await createdTransfer(orm, clientId, amountMinor, swift ? { ...JP_BENEFICIARY, accountNumber } : { ...BENEFICIARY, accountNumber });
    if (swift) await orm.em.fork().nativeUpdate(Transfer, { id: input.transferId }, { rail: 'swift', chargeBearer: swift.chargeBearer });
    return temporal.workflow.start(transferWorkflow, { workflowId: workflowIdFor(input.transferId), taskQueue, args: [{ ...input, rail: swift ? 'swift' : input.rail }] });
  }

  async function completed(handle: WorkflowHandle<typeof transferWorkflow>): Promise<string> {
    stuck.push(handle);
    // Completed is enough: the workflow then watches the return window, which the test need not wait out.
    const state = await until('completed', () => handle.query(statusQuery), (s) => s.status === 'completed' || s.status === 'needs_attention', 30_000);
    assert.equal(state.status, 'completed', state.reason ?? '');
    return state.railReference!;
  }

  const breaks = () => orm.em.fork().find(ReconciliationBreak, {}, { orderBy: { id: 'asc' } });
  let matchedRef: string;
  let misreportedRef: string;

  it('creates the Schedule once: a second start finds it and creates nothing', async () => {
    assert.equal(await ensureReconciliationSchedule(temporal, { taskQueue, railTime: 'demo', scheduleId }), true);
    assert.equal(await ensureReconciliationSchedule(temporal, { taskQueue, railTime: 'demo', scheduleId }), false);
    const description = await temporal.schedule.getHandle(scheduleId).describe();
    assert.equal(description.action.type, 'startWorkflow');
    assert.equal(description.action.workflowType, 'reconciliationWorkflow');
    assert.equal(description.action.taskQueue, taskQueue);
    assert.deepEqual(description.spec.intervals?.map((i) => i.every), [300_000], 'demo compresses the day to five minutes');
    const ids: string[] = [];
    for await (const s of temporal.schedule.list()) ids.push(s.scheduleId);
    assert.equal(ids.filter((id) => id === scheduleId).length, 1);
  });

  it('runs at 06:00 UTC under RAIL_TIME=real, and a start with other timing updates the existing Schedule', async () => {
    const realId = `${RECONCILIATION_SCHEDULE_ID}-real-${randomUUID()}`;
    try {
      assert.equal(await ensureReconciliationSchedule(temporal, { taskQueue, railTime: 'demo', scheduleId: realId }), true);
      assert.equal(await ensureReconciliationSchedule(temporal, { taskQueue, railTime: 'real', scheduleId: realId }), false);
      const { spec } = await temporal.schedule.getHandle(realId).describe();
      assert.deepEqual(spec.intervals ?? [], []);
      assert.deepEqual(spec.calendars?.map((c) => [c.hour, c.minute]), [[[{ start: 6, end: 6, step: 1 }], [{ start: 0, end: 0, step: 1 }]]]);
    } finally {
      await temporal.schedule.getHandle(realId).delete();
    }
  });

  it('one run of the Schedule matches what agrees and makes breaks of every difference', async () => {
    // A payout the statement shows as sent, and one it shows for 50 more (the workflow stops on it).
    matchedRef = await completed(await payout('720000001', 1_500));
    // A SWIFT wire under OUR: the bank debits 15.00 of charges on top, which the ledger books to bank_fees.
    await post('/sim/rules', { match: { accountNumber: '720000003' }, behavior: 'accept', chargesMinor: 1_500 });
    const wireRef = await completed(await payout('720000003', 40_000, { chargeBearer: 'OUR' }));
    await post('/sim/rules', { match: { accountNumber: '720000002' }, behavior: 'accept', statement: { amountMinor: 2_050 } });
    const bad = await payout('720000002', 2_000);
    stuck.push(bad);
    await until('needs_attention', () => bad.query(statusQuery), (s) => s.status === 'needs_attention', 30_000);
    misreportedRef = (await bad.query(statusQuery)).railReference!;
    // A payout the bank rejected (R03), which its statement nevertheless debits.
    const refused = await payout('000111111116', 900);
    assert.equal((await refused.result()).status, 'failed');
    const refusedRef = (await refused.query(statusQuery)).railReference!;
    await post('/sim/statement-entries', { rail: 'ach', currency: 'USD', amountMinor: 900, direction: 'DBIT', endToEndId: refusedRef });
    // The bank booked a debit we never sent (RTP), and its EUR SEPA account starts 5.00 short.
    await post('/sim/statement-entries', { rail: 'rtp', currency: 'USD', amountMinor: 777, direction: 'DBIT', endToEndId: 'NOT-OURS-1' });
    await post('/sim/balance-adjustments', { rail: 'sepa', currency: 'EUR', amountMinor: -500 });

    const schedule = temporal.schedule.getHandle(scheduleId);
    // The demo Schedule also runs by itself every five minutes: the run to read is the one after the
    // trigger (the most recent, listed last), not one that may have fired before the entries above.
    const runsBefore = (await schedule.describe()).info.recentActions.length;
    await schedule.trigger();
    const description = await until('the triggered run', () => schedule.describe(), (d) => d.info.recentActions.length > runsBefore, 30_000);
    const summary: DailyReconciliation = await temporal.workflow.getHandle(description.info.recentActions.at(-1)!.action.workflow.workflowId).result();

    assert.equal(summary.date, new Date().toISOString().slice(0, 10));
    const rows = await breaks();
    const described = rows.map((b) => [b.kind, b.rail, b.currency, b.railReference, b.expectedMinor, b.actualMinor]);
    assert.deepEqual(
      described.sort(),
      [
        ['amount_mismatch', 'ach', 'USD', misreportedRef, 2_000, 2_050],
        ['amount_mismatch', 'ach', 'USD', refusedRef, 0, 900],
        ['balance_mismatch', 'ach', 'USD', null, -3_500, -4_450],
        ['balance_mismatch', 'rtp', 'USD', null, 0, -777],
        ['balance_mismatch', 'sepa', 'EUR', null, 0, -500],
        ['unknown_reference', 'rtp', 'USD', 'NOT-OURS-1', null, -777],
      ].sort(),
    );
    assert.ok(rows.every((b) => b.status === 'open'));
    assert.ok(!rows.some((b) => b.railReference === matchedRef || b.railReference === wireRef), 'the matched payouts made no break');
    assert.deepEqual(
      summary.balances.find((b) => b.rail === 'swift'),
      { rail: 'swift', currency: 'USD', ledgerMinor: -41_500, statementMinor: -41_500 },
      'the OUR charges booked in the ledger keep the SWIFT account in agreement',
    );
    assert.equal(summary.breaks.length, 6);
    assert.ok(summary.matched >= 2);
    // The run found the workflow's amount break again: the same row, not a second one.
    assert.equal(rows.filter((b) => b.railReference === misreportedRef).length, 1);
    assert.deepEqual(await auditLedger(orm.em), []);
  });

  it('a second run of the same day adds nothing, and a balance that agrees again resolves its break', async () => {
    const before = (await breaks()).map((b) => b.id);
    await post('/sim/balance-adjustments', { rail: 'sepa', currency: 'EUR', amountMinor: 500 });
    await temporal.workflow.execute(reconciliationWorkflow, { workflowId: `recon-rerun-${randomUUID()}`, taskQueue, args: [{}] });
    const after = await breaks();
    assert.deepEqual(after.map((b) => b.id), before);
    const sepa = after.find((b) => b.kind === 'balance_mismatch' && b.rail === 'sepa')!;
    assert.equal(sepa.status, 'resolved');
    assert.match(sepa.resolution ?? '', /balances agree/);
    assert.equal(after.filter((b) => b.status === 'open').length, 5);
  });

  it('lists breaks to ops, newest first, by status, in cursor pages', async () => {
    // The inboxes read every statement the bank sends: stopped, nothing but this test writes breaks while the pages are read.
    await inboxes.stop();
    const all = await call(api.url, 'GET', '/v1/ops/reconciliation/breaks?limit=100', { key: opsKey });
    assert.equal(all.status, 200);
    assert.equal(all.body.object, 'list');
    assert.equal(all.body.data.length, 6);
    assert.equal(all.body.hasMore, false);
    const ids = all.body.data.map((b: { id: string }) => b.id);
    assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
    const amount = all.body.data.find((b: { kind: string; expectedMinor: number }) => b.kind === 'amount_mismatch' && b.expectedMinor === 2_000);
    assert.deepEqual(Object.keys(amount).sort(), ['actualMinor', 'createdAt', 'currency', 'detail', 'expectedMinor', 'id', 'kind', 'object', 'rail', 'railReference', 'resolution', 'resolvedAt', 'resolvedBy', 'statementDate', 'status', 'transferId'].sort());
    assert.equal(amount.object, 'reconciliation_break');
    assert.match(amount.transferId, /^tr_/);
    assert.match(amount.detail, /2050/);

    const open = await call(api.url, 'GET', '/v1/ops/reconciliation/breaks?status=open&limit=100', { key: opsKey });
    assert.equal(open.body.data.length, 5);
    assert.ok(open.body.data.every((b: { status: string }) => b.status === 'open'));
    const resolved = await call(api.url, 'GET', '/v1/ops/reconciliation/breaks?status=resolved', { key: opsKey });
    assert.deepEqual(resolved.body.data.map((b: { rail: string; kind: string }) => [b.kind, b.rail]), [['balance_mismatch', 'sepa']]);
    const unknown = await call(api.url, 'GET', '/v1/ops/reconciliation/breaks?kind=unknown_reference', { key: opsKey });
    assert.deepEqual(unknown.body.data.map((b: { railReference: string }) => b.railReference), ['NOT-OURS-1']);

    const first = await call(api.url, 'GET', '/v1/ops/reconciliation/breaks?limit=2', { key: opsKey });
    assert.equal(first.body.hasMore, true);
    const second = await call(api.url, 'GET', `/v1/ops/reconciliation/breaks?limit=2&startingAfter=${first.body.data[1].id}`, { key: opsKey });
    assert.deepEqual([...first.body.data, ...second.body.data].map((b: { id: string }) => b.id), ids.slice(0, 4));
  });

  it('refuses the route without the ops key, and names a bad filter', async () => {
    const { apiKey } = await createClient(orm.em.fork() as SqlEntityManager, 'Not ops');
    const asClient = await call(api.url, 'GET', '/v1/ops/reconciliation/breaks', { key: apiKey });
    assert.equal(asClient.status, 403);
    assert.equal(asClient.body.error.code, 'forbidden');
    assert.equal((await call(api.url, 'GET', '/v1/ops/reconciliation/breaks')).status, 401);
    for (const [query, param] of [
      ['status=closed', 'status'],
      ['kind=lost', 'kind'],
      ['limit=0', 'limit'],
      ['startingAfter=tr_1', 'startingAfter'],
      ['color=red', 'color'],
    ]) {
      const res = await call(api.url, 'GET', `/v1/ops/reconciliation/breaks?${query}`, { key: opsKey });
      assert.equal(res.status, 400, query);
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.param, param, query);
    }
  });
});
