/**
 * The deployment of a chaos run, on this machine: a MariaDB server of its own (own port, own data
 * directory under the run's folder: the shared server on 3306 is never touched), the Temporal dev
 * server (file-backed, so it survives kill -9), the bank simulator, two workers and two API
 * processes, each started from the project's own entry points exactly as a deployment runs them.
 *
 * Every process writes its stdout and stderr to `<run>/logs/<name>.log` (appended across restarts),
 * so the auditor can read everything any process ever printed. `kill()` is kill -9; `start()` after
 * it brings the process back on the same ports and state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import mysql from 'mysql2/promise';
import { newApiKey } from '../api/keys';
import { generateCodecKey } from '../core/payload-codec';
import { devServerArgs, findBinary, portInUse, waitForTemporal } from '../devtools/temporal';
import { workflowInterceptorModules, workflowsPath } from '../workers/worker';
import type { ProcessName } from './schedule';

const ROOT = path.resolve(__dirname, '..');
const NODE_ARGS = ['-r', '@swc-node/register'];
const READY_TIMEOUT_MS = 180_000;
/** How long the supervisor waits before starting again a process that exited on its own. */
const RESTART_DELAY_MS = 1_000;
/** A calendar day of the simulated bank's settlement lasts this long (RAIL_TIME=demo). */
const SETTLEMENT_DAY_MS = 1_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ready().catch(() => false)) return;
    await sleep(200);
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return res.ok;
}

/** Every process this harness started, so an interrupted run can still stop them all. */
const everyProc = new Set<Proc>();

/** Stops every process the harness started (on SIGINT/SIGTERM: nothing is left running). */
export async function stopEverything(): Promise<void> {
  await Promise.all([...everyProc].map((p) => p.kill()));
}

/**
 * One supervised process: started, killed with SIGKILL, started again. Like an orchestrator with a
 * restart policy, it brings back a process that exits on its own (a worker that cannot reach the
 * database at start exits, and is started again a second later), and counts those exits.
 */
export class Proc {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  /** False once the run killed or stopped it on purpose: its exit is then not restarted. */
  private wanted = false;
  starts = 0;
  kills = 0;
  /** Exits nobody asked for, restarted by the supervisor. */
  unexpectedExits = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: Record<string, string>,
    readonly logFile: string,
    private readonly ready: () => Promise<boolean>,
  ) {}

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  private spawn(): void {
    everyProc.add(this);
    const fd = openSync(this.logFile, 'a');
    writeSync(fd, `\n=== chaos: start #${this.starts + 1} of ${this.name} at ${new Date().toISOString()}\n`);
    const child = spawn(this.command, this.args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...this.env }, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    this.child = child;
    this.starts += 1;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.exited.then(() => {
      if (!this.wanted || this.child !== child) return;
      this.unexpectedExits += 1;
      setTimeout(() => {
        if (this.wanted && !this.running) this.spawn();
      }, RESTART_DELAY_MS);
    });
  }

  /** Starts it (again) and waits until it answers; a process that exits meanwhile is started again. */
  async start(): Promise<void> {
    this.wanted = true;
    if (!this.running) this.spawn();
    await waitFor(this.name, () => this.ready());
  }

  /** kill -9: no shutdown hooks, no flushing, whatever was in flight is cut. */
  async kill(): Promise<void> {
    this.wanted = false;
    if (!this.running) return;
    this.kills += 1;
    this.child!.kill('SIGKILL');
    await this.exited;
  }

  /** The end of the run: a polite stop, then SIGKILL if it lingers. */
  async stop(): Promise<void> {
    this.wanted = false;
    if (!this.running) return;
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface Topology {
  dir: string;
  logDir: string;
  opsKey: string;
  apiUrls: string[];
  simUrl: string;
  temporalAddress: string;
  databaseUrl: string;
  /** The processes the schedule may kill, by name. */
  processes: Record<ProcessName, Proc>;
  bank: Proc;
  /** Environment of the project's scripts against this deployment (migrations, the ledger audit). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Brings the whole deployment up under `dir`; on a failure to start, stops what it started. */
export async function startTopology(dir: string): Promise<Topology> {
  const logDir = path.join(dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const port = listeningPorts();
  const ports = { db: await port(), temporal: await port(), sim: await port(), api: [await port(), await port()], health: [await port(), await port()], metrics: [await port(), await port(), await port(), await port()] };
  const databaseUrl = `mysql://root@127.0.0.1:${ports.db}/railyard`;
  const temporalAddress = `127.0.0.1:${ports.temporal}`;
  const simUrl = `http://127.0.0.1:${ports.sim}`;
  const opsKey = newApiKey('ops');
  const env: Record<string, string> = {
    RAIL_TIME: 'demo',
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    DATA_DIR: path.join(dir, 'data'),
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    BANK_SIM_URL: simUrl,
    BANK_SIM_PORT: String(ports.sim),
    BANK_SIM_SETTLEMENT_DELAY_MS: String(SETTLEMENT_DAY_MS),
    PAYLOAD_CODEC_KEYS: generateCodecKey('chaos-1'),
    OPS_API_KEY: opsKey,
    // One bundle for every worker start of the run: restarts come back in seconds, not after a rebuild.
    WORKFLOW_BUNDLE_PATH: await writeWorkflowBundle(path.join(dir, 'workflow-bundle.js')),
  };
  const started: Proc[] = [];
  const log = (name: string) => path.join(logDir, `${name}.log`);

  const mariadb = await mariadbProc(dir, ports.db, log('mariadb'));
  const temporalBinary = findBinary('temporal');
  if (!temporalBinary) throw new Error('the temporal CLI is not installed: run `bash scripts/bootstrap-tools.sh`');
  const temporalArgs = devServerArgs({ port: ports.temporal, logLevel: 'warn', dbFile: path.join(dir, 'temporal.sqlite') });
  const temporal = new Proc('temporal', temporalBinary, temporalArgs, {}, log('temporal'), () => waitForTemporal(temporalAddress, 2_000).then(() => true));
  const bank = new Proc('banksim', process.execPath, [...NODE_ARGS, 'banksim/main.ts'], env, log('banksim'), () => httpOk(`${simUrl}/healthz`));
  const workers = [0, 1].map(
    (i) =>
      new Proc(`worker-${i + 1}`, process.execPath, [...NODE_ARGS, 'workers/main.ts'], { ...env, WORKER_HEALTH_PORT: String(ports.health[i]), WORKER_METRICS_PORT: String(ports.metrics[2 * i]), TEMPORAL_METRICS_PORT: String(ports.metrics[2 * i + 1]) }, log(`worker-${i + 1}`), () =>
        httpOk(`http://127.0.0.1:${ports.health[i]}/healthz`),
      ),
  );
  const apis = [0, 1].map((i) => new Proc(`api-${i + 1}`, process.execPath, [...NODE_ARGS, 'api/main.ts'], { ...env, PORT: String(ports.api[i]) }, log(`api-${i + 1}`), () => httpOk(`http://127.0.0.1:${ports.api[i]}/readyz`)));

  const stop = async () => {
    for (const p of [...started].reverse()) await p.stop().catch(() => undefined);
  };
  try {
    started.push(mariadb, temporal, bank);
    await Promise.all([mariadb.start(), temporal.start(), bank.start()]);
    await createDatabase(ports.db);
    await runScript('scripts/migrate.ts', env, log('migrate'));
    started.push(...workers, ...apis);
    await Promise.all([...workers, ...apis].map((p) => p.start()));
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    dir,
    logDir,
    opsKey,
    apiUrls: ports.api.map((p) => `http://127.0.0.1:${p}`),
    simUrl,
    temporalAddress,
    databaseUrl,
    processes: { 'worker-1': workers[0], 'worker-2': workers[1], 'api-1': apis[0], 'api-2': apis[1], temporal, mariadb },
    bank,
    env,
    stop,
  };
}

/**
 * Ports for the run's servers, below the kernel's ephemeral range (32768–60999 here): a port the
 * kernel may hand to an outgoing connection could be taken while its server is down between a
 * kill and the restart, and the restart would fail with EADDRINUSE.
 */
function listeningPorts(): () => Promise<number> {
  const taken = new Set<number>();
  return async () => {
    for (let tries = 0; tries < 200; tries++) {
      const candidate = 20_000 + Math.floor(Math.random() * 12_000);
      if (taken.has(candidate) || (await portInUse(candidate))) continue;
      taken.add(candidate);
      return candidate;
    }
    throw new Error('no free port between 20000 and 32000');
  };
}

/** A `mariadbd` of the run's own, initialised once in `<dir>/mariadb`; grants are skipped (loopback, a throwaway datadir). */
async function mariadbProc(dir: string, port: number, logFile: string): Promise<Proc> {
  const datadir = path.join(dir, 'mariadb');
  await installDatadir(datadir, logFile);
  const server = whichSync('mariadbd') ?? whichSync('mysqld') ?? '/usr/sbin/mariadbd';
  const args = [
    '--no-defaults',
    `--datadir=${datadir}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${path.join(datadir, 'mysqld.sock')}`,
    `--pid-file=${path.join(datadir, 'mysqld.pid')}`,
    '--user=root',
    '--skip-grant-tables',
    '--skip-name-resolve',
    '--innodb-buffer-pool-size=64M',
    // Durable commits: a crash must not lose a committed transaction, or the run proves nothing.
    '--innodb-flush-log-at-trx-commit=1',
    '--max-connections=500',
  ];
  return new Proc('mariadb', server, args, {}, logFile, async () => {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: 1_000 });
    await connection.end();
    return true;
  });
}

/** Install attempts for the run's datadir: a bootstrap that fails once is retried on an empty datadir. */
const INSTALL_ATTEMPTS = 2;

/**
 * Initialises an empty datadir with the system tables. A failed bootstrap (seen once in CI, its
 * cause in a log the run deleted) is retried once from scratch, and a second failure quotes the
 * installer's last lines, so the reason reaches the test's output.
 */
async function installDatadir(datadir: string, logFile: string): Promise<void> {
  const installer = ['mariadb-install-db', 'mysql_install_db'].map((name) => whichSync(name)).find(Boolean);
  if (!installer) throw new Error('neither mariadb-install-db nor mysql_install_db is installed');
  for (let attempt = 1; ; attempt++) {
    rmSync(datadir, { recursive: true, force: true });
    mkdirSync(datadir, { recursive: true });
    const code = await runCommand(installer, ['--no-defaults', `--datadir=${datadir}`, '--user=root', '--skip-test-db', '--auth-root-authentication-method=normal'], {}, logFile, true);
    if (code === 0) return;
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-15).join('\n');
    if (attempt >= INSTALL_ATTEMPTS) throw new Error(`${path.basename(installer)} exited ${code} ${attempt} times; its last lines:\n${tail}`);
    writeFileSync(logFile, `\n--- ${path.basename(installer)} exited ${code}: installing again on an empty datadir\n`, { flag: 'a' });
  }
}

async function createDatabase(port: number): Promise<void> {
  const connection = await mysql.createConnection({ host: '127.0.0.1', port, user: 'root' });
  await connection.query('create database if not exists railyard');
  await connection.end();
}

function whichSync(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Runs a project script (TypeScript) to its end, its output appended to `logFile`. */
export function runScript(script: string, env: Record<string, string>, logFile: string): Promise<number> {
  return runCommand(process.execPath, [...NODE_ARGS, script], env, logFile, true);
}

function runCommand(command: string, args: string[], env: Record<string, string>, logFile: string, allowFailure = false): Promise<number> {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0 && !allowFailure) reject(new Error(`${path.basename(command)} ${args.slice(-1)[0]} exited ${code} (see ${logFile})`));
      else resolve(code ?? 1);
    });
  });
}

async function writeWorkflowBundle(file: string): Promise<string> {
  const quiet = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => console.error(m) };
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), workflowInterceptorModules: workflowInterceptorModules(), logger: quiet });
  writeFileSync(file, code);
  return file;
}
