/**
 * The worker process as deployed (`workers/main.ts` in a child process) on the Temporal dev server
 * and MariaDB: its Prometheus endpoint counts failed activity attempts by type, the Temporal SDK's
 * exporter answers on its own port, and its JSON log lines for the workflow and for the activity
 * carry the request ID the workflow was started with.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { newId } from '../../core/ids';
import { railTiming, type TransferWorkflowInput } from '../../core/transfer';
import { freePort } from '../../devtools/temporal';
import { devServer, mariadbOrm, TEST_PAYLOAD_CODEC_KEYS, testDataConverter } from '../support/global';

const ROOT = path.join(__dirname, '..', '..');

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, describe: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined as T);
    if (value !== undefined && done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; ${describe()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('worker process: metrics and request IDs in logs', function () {
  this.timeout(180_000);
  let child: ChildProcess;
  let connection: Connection;
  let temporal: Client;
  const stdout: string[] = [];
  let stderr = '';
  const ports = { health: 0, metrics: 0, sdk: 0 };
  const taskQueue = `obs-${randomBytes(4).toString('hex')}`;
  const requestId = `req-worker-${randomBytes(4).toString('hex')}`;
  const workflowId = `obs-${randomBytes(6).toString('hex')}`;

  const logs = () => stdout.join('').split('\n').filter(Boolean).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
  const explain = () => `worker stderr: ${stderr.slice(-2000)}\nworker stdout (last lines): ${stdout.join('').slice(-3000)}`;

  before(async () => {
    const [dev, orm] = await Promise.all([devServer(), mariadbOrm()]);
    ports.health = await freePort();
    ports.metrics = await freePort();
    ports.sdk = await freePort();
    child = spawn(process.execPath, ['-r', '@swc-node/register', path.join(ROOT, 'workers', 'main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOST: '127.0.0.1',
        DATABASE_URL: orm.config.get('clientUrl'),
        TEMPORAL_ADDRESS: dev.address,
        PAYLOAD_CODEC_KEYS: TEST_PAYLOAD_CODEC_KEYS,
        TASK_QUEUES: taskQueue,
        WORKER_HEALTH_PORT: String(ports.health),
        WORKER_METRICS_PORT: String(ports.metrics),
        TEMPORAL_METRICS_PORT: String(ports.sdk),
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await until('the worker process to be healthy', () => fetch(`http://127.0.0.1:${ports.health}/healthz`).then((r) => r.status), (s) => s === 200, 120_000, explain);
    connection = await Connection.connect({ address: dev.address });
    temporal = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
  });

  after(async () => {
    await temporal?.workflow.getHandle(workflowId).terminate('test over').catch(() => undefined);
    await connection?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('counts failed activity attempts by type, logs them with the request ID, and exports the Temporal SDK metrics', async () => {
    // A transfer that is not in the database: holdFunds fails on every attempt, a failure the counter must see.
    const input: TransferWorkflowInput = {
      transferId: newId('tr'),
      clientId: newId('cl'),
      amountMinor: 100,
      currency: 'USD',
      targetCurrency: 'USD',
      rail: 'ach',
      timing: railTiming('demo'),
    };
    await temporal.workflow.start('transferWorkflow', { taskQueue, workflowId, args: [input], memo: { requestId } });

    const metricsText = await until(
      'railyard_activity_failures_total for holdFunds',
      () => fetch(`http://127.0.0.1:${ports.metrics}/metrics`).then((r) => r.text()),
      (text) => /^railyard_activity_failures_total\{activity_type="holdFunds"\} [1-9]/m.test(text),
      60_000,
      explain,
    );
    assert.match(metricsText, /^process_cpu_user_seconds_total /m);

    const sdkText = await until(
      'the Temporal SDK exporter',
      () => fetch(`http://127.0.0.1:${ports.sdk}/metrics`).then((r) => r.text()),
      (text) => /^temporal_local_activity_execution_failed_total\{/m.test(text), // holdFunds is a local activity
      30_000,
      explain,
    );
    assert.match(sdkText, new RegExp(`task_queue="${taskQueue}"`));

    const lines = await until(
      'workflow and activity log lines with the request ID',
      async () => logs().filter((l) => l.requestId === requestId),
      (found) => found.some((l) => l.workflowId === workflowId && l.activityType === undefined) && found.some((l) => l.activityType === 'holdFunds'),
      30_000,
      explain,
    );
    const workflowLine = lines.find((l) => l.workflowId === workflowId && l.activityType === undefined)!;
    assert.equal(workflowLine.workflowType, 'transferWorkflow');
    const activityLine = lines.find((l) => l.activityType === 'holdFunds')!;
    assert.equal(activityLine.workflowId, workflowId);
    assert.equal(activityLine.taskQueue, taskQueue);
    // The SDK logs "Activity started" before any interceptor has seen the activity's headers, so
    // that one line cannot carry the request ID; every other line of this workflow must.
    const without = logs().filter((l) => l.workflowId === workflowId && l.requestId !== requestId && l.msg !== 'Activity started');
    assert.deepEqual(without, [], 'every log line of this workflow carries its request ID');
  });
});
