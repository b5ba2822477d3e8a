/**
 * ACH file windows: payouts queued in one cut-off window go out as exactly one NACHA file
 * with all their entries, sent once, each entry answered and settled (or rejected) on its own.
 * On the Temporal dev server in real time (demo windows of a few seconds), with the real
 * activities, the bank inboxes, a MariaDB database of its own and the simulator over HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { workflowIdFor, type TransferTiming, type TransferWorkflowInput } from '../../core/transfer';
import { AchEntry, AchWindow } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { parseNacha } from '../../rails/ach/nacha';
import { buildActivities } from '../../workers/deps';
import { statusQuery, transferWorkflow, type TransferState } from '../../workflows/transfer';
import { until } from '../support/api-stack';
import { devServer, duplicatePayments, onTeardown, startSim, testDataConverter, workflowBundle, type RunningSim } from '../support/global';
import { BENEFICIARY, balanceOf, createdTransfer, fundedClient } from '../support/fixtures';
import { testInboxes } from '../support/inboxes';
import { scratchMariadbOrm } from '../support/scratch-db';

const WINDOW_MS = 4_000;
/** Demo pace with a short return watch, so that each payout ends soon after its file. */
const TIMING: TransferTiming = { pollIntervalMs: 500, settlementTimeoutMs: 60_000, returnWindowMs: 1_000, returnPollIntervalMs: 500, reconcileWindowMs: 30_000, reconcilePollIntervalMs: 500 };

describe('ACH files per cut-off window (dev server)', () => {
  let orm: MikroORM;
  let bank: RunningSim;
  let client: Client;
  let address: string;

  before(async () => {
    const [dev, db, sim] = await Promise.all([devServer(), scratchMariadbOrm(), startSim(0)]);
    [orm, bank, address] = [db, sim, dev.address];
    const connection = await Connection.connect({ address });
    client = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
    onTeardown(() => connection.close());
  });

  after(() => {
    assert.deepEqual(duplicatePayments(bank), [], 'the bank was asked to pay nothing twice');
  });

  /** Runs payouts together on a worker with 4 s windows, started just after a window opens. */
  async function runTogether(inputs: TransferWorkflowInput[]): Promise<TransferState[]> {
    const taskQueue = `test-${randomUUID()}`;
    const connection = await NativeConnection.connect({ address });
    try {
      const worker = await Worker.create({
        connection,
        dataConverter: testDataConverter,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: buildActivities(orm, { BANK_SIM_URL: bank.url, RAIL_TIME: 'demo', ACH_DEMO_WINDOW_MS: WINDOW_MS }),
      });
      const inboxes = testInboxes(orm, bank.url, client);
      return await worker.runUntil(async () => {
        await new Promise((r) => setTimeout(r, WINDOW_MS - (Date.now() % WINDOW_MS) + 100));
        const handles = await Promise.all(inputs.map((input) => client.workflow.start(transferWorkflow, { workflowId: workflowIdFor(input.transferId), taskQueue, args: [input] })));
        // Each payout to its end state; its workflow then waits out the return window (under demo
        // timing on one timer that fires hours later: workflows/transfer/workflow.ts), so the test ends it.
        return Promise.all(
          handles.map(async (h) => {
            const state = await until(`${h.workflowId} completed or failed`, () => h.query(statusQuery), (s) => s.status === 'completed' || s.status === 'failed', 90_000);
            await h.terminate('the test has seen its end').catch(() => undefined);
            return state;
          }),
        );
      }).finally(() => inboxes.stop());
    } finally {
      await connection.close();
    }
  }

  it('sends five payouts of one window as one file, once; each entry settles or is rejected on its own', async () => {
    const clientId = await fundedClient(orm, 100_000);
    const accounts = ['700000301', '700000302', '700000303', '700000304', '000111111116'];
    const inputs = [];
    for (const [i, accountNumber] of accounts.entries()) inputs.push(await createdTransfer(orm, clientId, 1_000 * (i + 1), { ...BENEFICIARY, accountNumber }, TIMING));
    const states = await runTogether(inputs);

    assert.deepEqual(states.map((s) => s.status), ['completed', 'completed', 'completed', 'completed', 'failed']);
    assert.equal(states[4].failureCode, 'R03');
    // 1,000 + 2,000 + 3,000 + 4,000 paid; the rejected 5,000 released.
    assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 90_000, heldMinor: 0 });

    const traces = states.map((s) => s.railReference!);
    const subs = bank.sim.submissions.filter((s) => traces.includes(s.reference));
    assert.equal(subs.length, 5, 'each entry received once');
    assert.equal(new Set(subs.map((s) => s.raw)).size, 1, 'all in one file');
    const file = parseNacha(subs[0].raw);
    assert.equal(file.batches.length, 1, 'one PPD batch for the one effective date');
    assert.deepEqual(file.batches[0].entries.map((e) => e.record.fields.traceNumber), [...traces].sort());
    assert.equal(Number(file.control.fields.totalCreditEntryDollarAmountInFile), 15_000);

    const entries = await orm.em.fork().find(AchEntry, { traceNumber: { $in: traces } });
    assert.equal(new Set(entries.map((e) => e.windowId)).size, 1);
    assert.deepEqual(entries.map((e) => e.status).sort(), ['accepted', 'accepted', 'accepted', 'accepted', 'rejected']);
    const window = await orm.em.fork().findOneOrFail(AchWindow, { id: entries[0].windowId });
    assert.equal(window.status, 'sent');
    assert.equal(window.entryCount, 5);
  });

  it('payouts of two windows go out as two files', async () => {
    const clientId = await fundedClient(orm, 10_000);
    const first = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000311' }, TIMING);
    const second = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000312' }, TIMING);
    const [a] = await runTogether([first]);
    const [b] = await runTogether([second]);
    assert.deepEqual([a.status, b.status], ['completed', 'completed']);
    const raws = bank.sim.submissions.filter((s) => s.reference === a.railReference || s.reference === b.railReference).map((s) => s.raw);
    assert.equal(raws.length, 2);
    assert.notEqual(raws[0], raws[1]);
  });

  it('leaves the ledger without a single invariant violation', async () => {
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
