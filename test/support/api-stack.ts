/**
 * The API over real HTTP on an ephemeral port, with a worker on the Temporal dev server, the bank
 * inboxes, a MariaDB database of its own and the bank simulator: everything real, in one process for the tests.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { MikroORM } from '@mikro-orm/core';
import { loadConfig } from '../../core/config';
import { TASK_QUEUE_TRANSFERS } from '../../core/transfer';
import { startApiServer, type ApiServer } from '../../api/server';
import { buildActivities } from '../../workers/deps';
import { createWorker } from '../../workers/worker';
import { assertReplyDocumented } from './openapi-check';
import { auditSinks } from '../../workers/audit-sink';
import { testInboxes } from './inboxes';
import { scratchMariadbOrm } from './scratch-db';
import { TEST_OPS_KEY, devServer, memo, onTeardown, startSim, testDataConverter, workflowBundle, type RunningSim } from './global';

export interface ApiStack {
  url: string;
  opsKey: string;
  orm: MikroORM;
  temporal: Client;
  bank: RunningSim;
  close(): Promise<void>;
}

/** One stack for every API suite: a single worker polls the `transfers` queue of the dev server. */
export const apiStack = memo(async (): Promise<ApiStack> => {
  const stack = await startApiStack(300);
  onTeardown(() => stack.close());
  return stack;
});

async function startApiStack(settlementDelayMs: number): Promise<ApiStack> {
  const [dev, orm, bank, bundle] = await Promise.all([devServer(), scratchMariadbOrm(), startSim(settlementDelayMs), workflowBundle()]);
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', BANK_SIM_URL: bank.url, TEMPORAL_ADDRESS: dev.address, RAIL_TIME: 'demo' });
  const connection = await Connection.connect({ address: dev.address });
  const temporal = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
  const workerConnection = await NativeConnection.connect({ address: dev.address });
  const worker: Worker = await createWorker({
    connection: workerConnection,
    dataConverter: testDataConverter,
    namespace: 'default',
    taskQueue: TASK_QUEUE_TRANSFERS,
    activities: buildActivities(orm, config),
    sinks: auditSinks(orm),
    workflowBundle: bundle,
  });
  const workerRun = worker.run();
  const inboxes = testInboxes(orm, bank.url, temporal);
  const opsKey = TEST_OPS_KEY;
  const api: ApiServer = await startApiServer({ orm, temporal, config, opsApiKey: opsKey });
  return {
    url: api.url,
    opsKey,
    orm,
    temporal,
    bank,
    async close() {
      await api.close();
      await inboxes.stop();
      worker.shutdown();
      await workerRun;
      await workerConnection.close();
      await connection.close();
    },
  };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
}

/**
 * A small HTTP client for tests: JSON in, JSON out, an Idempotency-Key on every POST unless given.
 * Every answer on a documented route is checked against /openapi.json (`undocumentedServer` for a
 * test's own server that is not the Railyard API).
 */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; rawBody?: string; idempotencyKey?: string | null; headers?: Record<string, string>; undocumentedServer?: boolean } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.body !== undefined || options.rawBody !== undefined) headers['content-type'] = 'application/json';
  if (method === 'POST' && options.idempotencyKey !== null) headers['idempotency-key'] = options.idempotencyKey ?? randomUUID();
  const res = await fetch(url + path, {
    method,
    headers,
    body: options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  });
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  // A test's own small server (not the Railyard API) has no document to check against.
  if (!options.undocumentedServer) await assertReplyDocumented(url, method, path, res.status, body);
  return { status: res.status, headers: res.headers, body };
}

export async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
