/**
 * The API over real HTTP on the time-skipping Temporal test server, with a worker on its own task
 * queue, the bank inboxes, a MariaDB database of its own and the bank simulator: the stack for operator tests, where a transfer must get
 * stuck (a bank outage through a ten-minute retry budget) in a second of wall-clock time.
 *
 * Transfers are written as the API writes them and their workflows started here; the routes under
 * test (ops retry/cancel, client cancel, lists, audit) are the API's own.
 */
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createApp } from '../../api/app';
import { railTiming, workflowIdFor, type TransferWorkflowInput } from '../../core/transfer';
import { createRatesSource } from '../../fx/rates';
import { auditSinks } from '../../workers/audit-sink';
import { buildActivities } from '../../workers/deps';
import { transferWorkflow } from '../../workflows/transfer';
import { PRICING } from './fixtures';
import { testInboxes } from './inboxes';
import { scratchMariadbOrm } from './scratch-db';
import { TEST_OPS_KEY, memo, onTeardown, startSim, testDataConverter, timeSkippingEnv, workflowBundle, type RunningSim } from './global';

export interface OpsStack {
  url: string;
  opsKey: string;
  env: TestWorkflowEnvironment;
  orm: MikroORM;
  bank: RunningSim;
  taskQueue: string;
  start(input: TransferWorkflowInput): Promise<WorkflowHandle<typeof transferWorkflow>>;
}

export const opsStack = memo(async (): Promise<OpsStack> => {
  const [env, orm, bank, bundle] = await Promise.all([timeSkippingEnv(), scratchMariadbOrm(), startSim(0), workflowBundle()]);
  const taskQueue = `ops-${randomUUID()}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    dataConverter: testDataConverter,
    taskQueue,
    workflowBundle: bundle,
    activities: buildActivities(orm, { BANK_SIM_URL: bank.url }),
    sinks: auditSinks(orm),
  });
  const workerRun = worker.run();
  const inboxes = testInboxes(orm, bank.url, env.client);
  const opsKey = TEST_OPS_KEY;
  const app = createApp({ orm, temporal: env.client, opsApiKey: opsKey, taskQueue, timing: railTiming('demo'), rates: createRatesSource(), pricing: PRICING, rateLimit: { ratePerSecond: 1_000, burst: 1_000 }, codecCorsOrigins: [] });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  onTeardown(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await inboxes.stop();
    worker.shutdown();
    await workerRun;
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    opsKey,
    env,
    orm,
    bank,
    taskQueue,
    start: (input) => env.client.workflow.start(transferWorkflow, { workflowId: workflowIdFor(input.transferId), taskQueue, args: [input] }),
  };
});
