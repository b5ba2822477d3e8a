/**
 * The recovery sweep and the transfers it must leave alone, against MariaDB and the Temporal dev
 * server with a worker: a transfer the client canceled while it was still `created` (its workflow
 * never started) stays canceled; the sweep is not starved by transfers whose workflows ended, and
 * never starts one whose workflow existed or that is older than its bound, Temporal's memory of it
 * or not. Transfers are made through a real API whose Temporal is unreachable (503 after the
 * transfer is recorded), or inserted as that API records them.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { loadConfig } from '../../core/config';
import { railTiming, TASK_QUEUE_TRANSFERS, workflowIdFor } from '../../core/transfer';
import { OperatorAction, Posting, Transfer } from '../../db/schema';
import { startApiServer, type ApiServer } from '../../api/server';
import { recoverStalledTransfers } from '../../services/recover-transfers';
import { workflowStartOptions } from '../../services/start-transfer';
import { transferWorkflow } from '../../workflows/transfer';
import { freePort } from '../../devtools/temporal';
import { BENEFICIARY, createdTransfer, fundedClient, transferRow } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient } from '../support/api-clients';
import { testDataConverter } from '../support/global';

describe('recovery sweep: what it starts, and what it must never start', () => {
  let stack: ApiStack;
  let broken: ApiServer;
  let brokenConnection: Connection;

  before(async () => {
    stack = await apiStack();
    // Nothing listens on this port: every Temporal call fails at once, after the transfer is recorded.
    brokenConnection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', BANK_SIM_URL: stack.bank.url, TEMPORAL_ADDRESS: '127.0.0.1:1', RAIL_TIME: 'demo' });
    broken = await startApiServer({ orm: stack.orm, temporal: new Client({ connection: brokenConnection, dataConverter: testDataConverter }), config, opsApiKey: stack.opsKey });
  });

  after(async () => {
    await broken.close();
    await brokenConnection.close();
  });

  const deps = () => ({ orm: stack.orm, temporal: stack.temporal, taskQueue: TASK_QUEUE_TRANSFERS, timing: railTiming('demo') });
  const body = (amountMinor: number) => ({ amountMinor, currency: 'USD', beneficiary: BENEFICIARY, reference: 'sweep test' });
  const backdate = (transferId: string, ageMs: number) => stack.orm.em.fork().nativeUpdate(Transfer, { id: transferId }, { createdAt: new Date(Date.now() - ageMs) });

  async function workflowExists(transferId: string): Promise<boolean> {
    try {
      await stack.temporal.workflow.getHandle(workflowIdFor(transferId)).describe();
      return true;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  it("a client's cancel of a transfer left created by a failed start cancels it, and the sweep never starts it", async () => {
    const client = await apiClient(stack, 'Cancels Early', 10_000);
    const failed = await call(broken.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_500) });
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    const [recorded] = await stack.orm.em.fork().find(Transfer, { clientId: client.id });
    assert.equal(recorded.status, 'created');

    const canceled = await call(stack.url, 'POST', `/v1/transfers/${recorded.id}/cancel`, { key: client.key, body: { reason: 'sent by mistake' } });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.cancellation.accepted, true);
    assert.equal((await transferRow(stack.orm, recorded.id)).status, 'canceled');
    const audit = await stack.orm.em.fork().find(OperatorAction, { transferId: recorded.id });
    assert.deepEqual(audit.map((a) => [a.action, a.outcome, a.operator, a.statusBefore]), [['cancel', 'accepted', `client:${client.id}`, 'created']]);

    // Past its grace period the sweep looks at it, and leaves it canceled.
    await backdate(recorded.id, 5 * 60_000);
    const started = await recoverStalledTransfers(deps(), { graceMs: 60_000, maxAgeMs: 3_600_000, limit: 100 });
    assert.ok(!started.includes(recorded.id), 'the sweep started a canceled transfer');
    assert.equal(await workflowExists(recorded.id), false);
    assert.equal(await stack.orm.em.fork().count(Posting, { transferId: recorded.id }), 0, 'nothing was held or paid');
    assert.equal((await transferRow(stack.orm, recorded.id)).status, 'canceled');
    assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: client.key })).body.data[0].availableMinor, 10_000);

    // Canceling again is answered from the record: nothing left to cancel.
    const again = await call(stack.url, 'POST', `/v1/transfers/${recorded.id}/cancel`, { key: client.key, body: {} });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
  });

  it('is not starved by 100 older transfers whose workflows ended: it ends those in the database and starts the newer one', async () => {
    const clientId = await fundedClient(stack.orm, 1_000_000);
    const parked = `unpolled-${randomUUID()}`;
    const ended: string[] = [];
    for (let i = 0; i < 100; i++) {
      const input = await createdTransfer(stack.orm, clientId, 100);
      // Its workflow started where no worker polls, then was terminated before it held anything.
      const handle = await stack.temporal.workflow.start(transferWorkflow, workflowStartOptions(await transferRow(stack.orm, input.transferId), parked, input.timing));
      await handle.terminate('terminated by an operator before it ran');
      await backdate(input.transferId, 3 * 60_000);
      ended.push(input.transferId);
    }
    const fresh = await createdTransfer(stack.orm, clientId, 2_500);
    await backdate(fresh.transferId, 40_000);

    const started = await recoverStalledTransfers(deps(), { graceMs: 30_000, maxAgeMs: 3_600_000, limit: 100 });
    assert.ok(started.includes(fresh.transferId), 'the transfer without a workflow was started');
    for (const id of ended) {
      assert.ok(!started.includes(id));
      const row = await transferRow(stack.orm, id);
      assert.equal(row.status, 'failed', `${id} is ${row.status}`);
      assert.equal(row.failureCode, 'workflow_ended');
      assert.match(row.failureMessage ?? '', /ended \(TERMINATED\) before the funds were held; nothing was held or sent/);
    }
    const paid = await until('the started transfer to complete', () => transferRow(stack.orm, fresh.transferId), (t) => t.status === 'completed');
    assert.equal(paid.status, 'completed');

    // From here the database decides: with Temporal's memory of those workflows gone (a namespace
    // past its retention knows none of them), nothing brings them back.
    const namespace = `forgot-${randomUUID()}`;
    await stack.temporal.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
    const forgetful = new Client({ connection: stack.temporal.connection, namespace, dataConverter: testDataConverter });
    await until('the new namespace to answer', () => forgetful.workflow.getHandle('none').describe().then(() => 'found', (err) => (err instanceof WorkflowNotFoundError ? 'ready' : 'not yet')), (v) => v === 'ready', 30_000);
    const again = await recoverStalledTransfers({ ...deps(), temporal: forgetful }, { graceMs: 30_000, maxAgeMs: 3_600_000, limit: 100 });
    assert.deepEqual(again.filter((id) => ended.includes(id)), []);
  });

  it('never starts a created transfer older than its bound: it fails it with the reason, nothing held', async () => {
    const clientId = await fundedClient(stack.orm, 5_000);
    const input = await createdTransfer(stack.orm, clientId, 1_000);
    // Seven hours old: whether Temporal still remembers a workflow of it or not, it is not started.
    await backdate(input.transferId, 7 * 3_600_000);
    const started = await recoverStalledTransfers(deps(), { graceMs: 60_000, maxAgeMs: 3_600_000, limit: 100 });
    assert.ok(!started.includes(input.transferId));
    assert.equal(await workflowExists(input.transferId), false);
    const row = await transferRow(stack.orm, input.transferId);
    assert.equal(row.status, 'failed');
    assert.equal(row.failureCode, 'not_started');
    assert.match(row.failureMessage ?? '', /not started within 1 h of its creation; nothing was held or sent/);
    assert.equal(await stack.orm.em.fork().count(Posting, { transferId: input.transferId }), 0);
  });
});
