/**
 * The bench's own stack, on its own ports and data directory under a temporary folder: a Temporal
 * dev server with its metrics endpoint (unless TEMPORAL_ADDRESS names one), the processes
 * `npm start` runs (scripts/start.ts: worker and API in one process, the bank simulator as its
 * child), and the twins' worker. Every process it starts, it stops; the scratch MySQL database it
 * creates for `--db mysql`, it drops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { Client, Connection } from '@temporalio/client';
import { devServerArgs, findBinary, freePort, waitForTemporal } from '../devtools/temporal';
import { createDataConverter, generateCodecKey, parseCodecKeys } from '../core/payload-codec';
import { newApiKey } from '../api/keys';

const ROOT = path.resolve(__dirname, '..');
const START_TIMEOUT_MS = 180_000;

export interface StackOptions {
  db: 'sqlite' | 'mysql';
  /** Rate limits of the API: raised so that the bench measures the engine, not the limiter. */
  rateLimitPerSecond: number;
}

export interface Stack {
  temporalAddress: string;
  /** The dev server's Prometheus endpoint; absent on a server the bench did not start. */
  temporalMetricsUrl?: string;
  apiUrl: string;
  simUrl: string;
  opsKey: string;
  databaseUrl?: string;
  dataDir: string;
  temporal: Client;
  /** Processes whose memory and CPU the bench reads. */
  pids: { temporalServer?: number; workerAndApi: number; bankSim?: number; twinWorker: number };
  environment: Record<string, string>;
  /** Stops every process (the database stays, to be read for the verdict). */
  stop(): Promise<void>;
  /** Then drops the scratch database and removes the temporary folder. */
  cleanup(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${seen.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      // Keeps reading for the process's whole life (a full pipe would block it), remembering only the tail.
      seen = (seen + chunk.toString()).slice(-8000);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-8000);
      process.stderr.write(`[${what}] ${chunk}`);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (code ${code}) before it was ready:\n${seen.slice(-2000)}`));
    });
  });
}

function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The children of a process, from /proc (the simulator is a child of the start process). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // The process is gone: no children.
  }
  return out;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'railyard-bench-'));
  const children: ChildProcess[] = [];
  const closers: (() => Promise<void>)[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let stopped = false;
  let cleaned = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const close of closers) await close().catch((err) => console.error('bench stop:', err));
    for (const child of [...children].reverse()) await stopChild(child);
  };
  const cleanup = async () => {
    await stop();
    if (cleaned) return;
    cleaned = true;
    for (const c of cleanups.reverse()) await c().catch((err) => console.error('bench cleanup:', err));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const codecKey = generateCodecKey('bench');
    const opsKey = newApiKey('ops');
    const env: Record<string, string> = {
      HOST: '127.0.0.1',
      RAIL_TIME: 'demo',
      LOG_LEVEL: 'warn',
      DATA_DIR: path.join(dir, 'data'),
      OPS_API_KEY: opsKey,
      PAYLOAD_CODEC_KEYS: codecKey,
      CODEC_LOCAL_UI_DECODE: 'false',
      RATE_LIMIT_PER_SECOND: String(options.rateLimitPerSecond),
      RATE_LIMIT_BURST: String(options.rateLimitPerSecond),
    };

    // Temporal: the given server, or a dev server of our own with its metrics endpoint.
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalMetricsUrl: string | undefined;
    let temporalServer: ChildProcess | undefined;
    if (!temporalAddress) {
      const binary = findBinary('temporal');
      if (!binary) throw new Error('the temporal CLI is not installed: run `bash scripts/bootstrap-tools.sh`');
      const [port, metricsPort] = [await freePort(), await freePort()];
      const args = devServerArgs({ port, metricsPort, dbFile: path.join(dir, 'temporal.sqlite') });
      temporalServer = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      // Its errors are shown while the bench runs; those of its own shutdown (workers gone) are not news.
      temporalServer.stderr?.on('data', (chunk: Buffer) => void (stopped || process.stderr.write(`[temporal] ${chunk}`)));
      children.push(temporalServer);
      temporalAddress = `127.0.0.1:${port}`;
      temporalMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
      await waitForTemporal(temporalAddress, 60_000);
    }
    env.TEMPORAL_ADDRESS = temporalAddress;
    if (process.env.TEMPORAL_NAMESPACE) env.TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE;

    // Database: the given MySQL, a scratch database on the local MariaDB for --db mysql, else SQLite under the data dir.
    let databaseUrl = process.env.DATABASE_URL;
    if (!databaseUrl && options.db === 'mysql') {
      const name = `railyard_bench_${Date.now()}`;
      const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      await admin.query(`CREATE DATABASE \`${name}\``);
      await admin.end();
      databaseUrl = `mysql://root@127.0.0.1:3306/${name}`;
      cleanups.push(async () => {
        const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await c.end();
      });
    }
    if (databaseUrl) env.DATABASE_URL = databaseUrl;

    const [apiPort, simPort, workerMetricsPort, sdkMetricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    Object.assign(env, {
      PORT: String(apiPort),
      BANK_SIM_PORT: String(simPort),
      BANK_SIM_URL: `http://127.0.0.1:${simPort}`,
      WORKER_METRICS_PORT: String(workerMetricsPort),
      TEMPORAL_METRICS_PORT: String(sdkMetricsPort),
    });
    // scripts/start.ts writes its demo client and keys there, and creates it only for SQLite.
    mkdirSync(env.DATA_DIR, { recursive: true });
    // Only what the bench sets, plus what node needs: nothing of the caller's Railyard settings leaks in.
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...env };
    const app = spawn(process.execPath, ['-r', '@swc-node/register', path.join(ROOT, 'scripts', 'start.ts')], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(app);
    const twin = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, 'twin', 'worker.ts')], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(twin);
    await Promise.all([waitForLine(app, /Railyard is running/, 'npm start', START_TIMEOUT_MS), waitForLine(twin, /twin worker running/, 'twin worker', START_TIMEOUT_MS)]);
    const sim = childPids(app.pid!)[0];

    const connection = await Connection.connect({ address: temporalAddress });
    closers.push(() => connection.close());
    const temporal = new Client({ connection, namespace: env.TEMPORAL_NAMESPACE ?? 'default', dataConverter: createDataConverter(parseCodecKeys(codecKey)) });
    return {
      temporalAddress,
      temporalMetricsUrl,
      apiUrl: `http://127.0.0.1:${apiPort}`,
      simUrl: env.BANK_SIM_URL,
      opsKey,
      databaseUrl,
      dataDir: env.DATA_DIR,
      temporal,
      pids: { temporalServer: temporalServer?.pid, workerAndApi: app.pid!, bankSim: sim, twinWorker: twin.pid! },
      environment: Object.fromEntries(Object.entries(env).filter(([k]) => !['OPS_API_KEY', 'PAYLOAD_CODEC_KEYS'].includes(k))),
      stop,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
