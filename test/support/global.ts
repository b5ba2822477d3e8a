/**
 * Shared, lazily started test infrastructure, torn down once after all suites:
 * a scratch MariaDB database per run, the Temporal dev server, the time-skipping test server,
 * and the bank simulator on a free port.
 */
import { newApiKey } from '../../api/keys';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import mysql from 'mysql2/promise';
import type { MikroORM } from '@mikro-orm/core';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { migrate, openOrm } from '../../db/orm';
import { createBankSim } from '../../banksim/sim';
import { findBinary, freePort, startDevServer, type DevServer } from '../../devtools/temporal';
import { workflowInterceptorModules, workflowsPath } from '../../workers/worker';
import { ensureSearchAttributes } from '../../workers/search-attributes';
import { createDataConverter, parseCodecKeys } from '../../core/payload-codec';

const teardowns: (() => Promise<void>)[] = [];

// Workers in tests log errors only; expected activity failures (a bank that is down) would drown the output.
Runtime.install({
  logger: new DefaultLogger((process.env.TEST_LOG_LEVEL ?? 'ERROR') as 'ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: (process.env.TEST_LOG_LEVEL ?? 'ERROR') as 'ERROR' }) } },
});

/**
 * The payload codec keys of every test's Temporal clients and workers, and of the recorded
 * histories under test/histories/ (recorded and replayed with them). A test-only key, never used
 * anywhere else: the histories hold nothing secret.
 */
export const TEST_PAYLOAD_CODEC_KEYS = 'test-1:hwo6wh6LMNIkzq2MV1qxpjVAoqD72hjs+chANyHMMoM=';
export const testDataConverter = createDataConverter(parseCodecKeys(TEST_PAYLOAD_CODEC_KEYS));

export function onTeardown(fn: () => Promise<void>): void {
  teardowns.push(fn);
}

export function memo<T>(make: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= make());
}

/**
 * The bootstrap admin's key (OPS_API_KEY) of every test API on the shared MariaDB database: an API
 * brings the `bootstrap` operator's key in line with its own at start, so two stacks with two keys
 * on one database would lock each other out.
 */
export const TEST_OPS_KEY = newApiKey('ops');

export const MARIADB_URL = process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** A fresh, migrated MariaDB database for this test run; dropped at the end. Fails loudly when unreachable. */
export const mariadbOrm = memo(async (): Promise<MikroORM> => {
  const server = new URL(MARIADB_URL);
  const name = `railyard_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  let admin;
  try {
    admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
  } catch (err) {
    throw new Error(
      `MariaDB/MySQL is not reachable at ${server.host} (${(err as Error).message}). ` +
        'The database tests need it: set DATABASE_URL or start MariaDB on 127.0.0.1:3306.',
    );
  }
  await admin.query(`create database \`${name}\``);
  const url = new URL(MARIADB_URL);
  url.pathname = `/${name}`;
  const orm = await openOrm({ databaseUrl: url.toString(), dataDir: '' });
  await migrate(orm);
  teardowns.push(async () => {
    await orm.close();
    await admin.query(`drop database \`${name}\``);
    await admin.end();
  });
  return orm;
});

export const devServer = memo(async (): Promise<DevServer> => {
  const server = await startDevServer({ port: await freePort(), logLevel: 'error' });
  teardowns.push(() => server.stop());
  return server;
});

export const timeSkippingEnv = memo(async (): Promise<TestWorkflowEnvironment> => {
  const path = findBinary('temporal-test-server');
  if (!path) console.warn('temporal-test-server is not installed: falling back to the SDK download (needs internet)');
  const env = await TestWorkflowEnvironment.createTimeSkipping({ client: { dataConverter: testDataConverter }, ...(path ? { server: { executable: { type: 'existing-path', path } } } : {}) });
  teardowns.push(() => env.teardown());
  await ensureSearchAttributes(env.connection, 'default');
  return env;
});

export const workflowBundle = memo(async (): Promise<WorkflowBundleWithSourceMap> => bundleWorkflowCode({ workflowsPath: workflowsPath(), workflowInterceptorModules: workflowInterceptorModules(), logger: quietLogger }));

export const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export interface RunningSim {
  url: string;
  sim: ReturnType<typeof createBankSim>;
}

/** A bank simulator on its own port for one suite. */
const sims: RunningSim[] = [];

export async function startSim(settlementDelayMs: number): Promise<RunningSim> {
  const sim = createBankSim({ settlementDelayMs, hangMs: 2_000 });
  const server = await new Promise<Server>((resolve) => {
    const s = sim.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as { port: number };
  sims.push({ url: `http://127.0.0.1:${port}`, sim });
  teardowns.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, sim };
}

/** Statuses of a submission the simulator booked as a payment. */
const BOOKED = new Set(['pending', 'held', 'settled', 'returned']);

/**
 * Every payment this simulator was asked for twice: a duplicate submission of a reference, or an
 * ACH entry booked from two different files (the bank pays both, as a real ODFI would). Left out
 * by design: a repeated recall request (answered with its first resolution) and the same ACH file
 * sent again byte for byte after a lost answer (the bank de-duplicates whole files).
 */
export function duplicatePayments(running: RunningSim): string[] {
  const subs = running.sim.submissions;
  const firstRaws = new Set(subs.filter((x) => x.rail === 'ach' && !x.duplicate).map((x) => x.raw));
  const duplicates = subs.filter((x) => x.duplicate && !x.status.startsWith('recall_') && !(x.rail === 'ach' && firstRaws.has(x.raw)));
  const achBooked = new Map<string, number>();
  for (const x of subs) if (x.rail === 'ach' && !x.duplicate && BOOKED.has(x.status)) achBooked.set(x.reference, (achBooked.get(x.reference) ?? 0) + 1);
  const paidTwice = [...achBooked].filter(([, n]) => n > 1).map(([reference]) => `ach ${reference} booked from two files`);
  return [...duplicates.map((x) => `${x.rail} ${x.reference}`), ...paidTwice];
}

/**
 * After every suite: no bank simulator of the whole run was asked to pay anything twice.
 * (A root hook, so a duplicate fails the run.)
 */
export const mochaHooks = {
  afterAll(): void {
    const duplicates = sims.flatMap((s) => duplicatePayments(s));
    if (duplicates.length > 0) throw new Error(`the bank simulator received duplicate submissions: ${duplicates.join(', ')}`);
  },
};

export async function mochaGlobalTeardown(): Promise<void> {
  for (const teardown of teardowns.reverse()) {
    await teardown().catch((err) => console.error('teardown failed:', err));
  }
}
