/**
 * Finding and running the Temporal binaries installed by scripts/bootstrap-tools.sh: the dev
 * server (for `npm start` and the API tests) and the time-skipping test server (workflow tests).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_TYPES } from '../core/transfer';

const ROOT = path.resolve(__dirname, '..');

function onPath(name: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Path of a Temporal binary: the project's .tools venv first, then PATH. */
export function findBinary(name: 'temporal' | 'temporal-test-server'): string | undefined {
  const local = path.join(ROOT, '.tools', 'venv', 'bin', name);
  return existsSync(local) ? local : onPath(name);
}

export function bootstrapTools(): void {
  execFileSync('bash', [path.join(ROOT, 'scripts', 'bootstrap-tools.sh')], { stdio: 'inherit' });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitForTemporal(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${(lastError as Error)?.message}`);
}

export interface DevServer {
  address: string;
  uiPort?: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  uiPort?: number;
  /** File-backed state; omitted means in-memory. */
  dbFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Where the Web UI sends payloads to be decoded (the API's codec server). */
  uiCodecEndpoint?: string;
  startTimeoutMs?: number;
}

/**
 * The SQLite pragmas the file-backed dev server runs with, as Temporal's own SQLite load tests do.
 * WAL lets the server's readers and its one writer work at once instead of taking turns on a file
 * lock; measured by `npm run bench` (README, Performance). `synchronous=NORMAL` syncs the WAL at
 * checkpoints rather than at every commit: state stays durable across a killed process (kill -9 of
 * the server loses nothing), but a power loss or an OS crash may roll back the last moments of
 * history. Railyard's steps are idempotent by business keys, so a rolled-back workflow re-runs them
 * to the same outcome; production runs Temporal on MySQL (docker-compose.yml), not on this file.
 */
export const DEV_SERVER_SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=NORMAL'] as const;

export interface DevServerArgs {
  port: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** File-backed state; omitted means in-memory (no pragmas apply). */
  dbFile?: string;
  uiPort?: number;
  uiCodecEndpoint?: string;
  metricsPort?: number;
}

/** The `temporal server start-dev` command line every Railyard dev server uses (npm start, tests, bench, chaos). */
export function devServerArgs(options: DevServerArgs): string[] {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', options.logLevel ?? 'error'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  if (options.uiPort && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  else args.push('--headless');
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    for (const pragma of DEV_SERVER_SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTE_TYPES)) args.push('--search-attribute', `${name}=${type}`);
  return args;
}

/** Starts `temporal server start-dev` with Railyard's search attributes registered. */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const binary = findBinary('temporal');
  if (!binary) throw new Error('the temporal CLI is not installed: run `bash scripts/bootstrap-tools.sh`');
  if (options.dbFile) mkdirSync(path.dirname(options.dbFile), { recursive: true });
  const args = devServerArgs(options);
  const child = spawn(binary, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', () => { exited = true; resolve(); }));
  const address = `127.0.0.1:${options.port}`;
  try {
    await Promise.race([
      waitForTemporal(address, options.startTimeoutMs ?? 60_000),
      exitPromise.then(() => {
        throw new Error(`temporal server start-dev exited early (code ${child.exitCode})`);
      }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    address,
    uiPort: options.uiPort,
    process: child,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exitPromise;
      clearTimeout(killTimer);
    },
  };
}
