/**
 * The payout workflow on the real time-skipping Temporal test server, with the real activities
 * against MariaDB and the bank simulator over HTTP.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { workflowIdFor, type TransferWorkflowInput } from '../../core/transfer';
import { buildActivities } from '../../workers/deps';
import { transferWorkflow } from '../../workflows/transfer';
import { mariadbOrm, startSim, timeSkippingEnv, workflowBundle, type RunningSim } from '../support/global';
import { BENEFICIARY, balanceOf, createdTransfer, fundedClient, postingsOf, transferRow } from '../support/fixtures';

describe('transfer workflow (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let orm: MikroORM;
  let bank: RunningSim;

  before(async () => {
    [env, orm, bank] = await Promise.all([timeSkippingEnv(), mariadbOrm(), startSim(0)]);
  });

  afterEach(async () => {
    await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
  });

  async function run(input: TransferWorkflowInput) {
    const taskQueue = `test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: buildActivities(orm, { BANK_SIM_URL: bank.url }),
    });
    return worker.runUntil(
      env.client.workflow.execute(transferWorkflow, { workflowId: workflowIdFor(input.transferId), taskQueue, args: [input] }),
    );
  }

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
});
