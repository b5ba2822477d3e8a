/**
 * `npm run bench`: measures the stack on the machine at hand, beside its no-op twins, and writes the
 * figures to bench/results/<date>-<mode>.json with one printed table.
 *
 *   --quick           a short run (under two minutes): small counts, short windows
 *   --db mysql        the stack on MySQL/MariaDB (a scratch database on 127.0.0.1:3306 unless DATABASE_URL)
 *   --scale N         payouts to hold waiting at the bank (default 10000; 20 with --quick)
 *   --budget-s S      the whole run's time budget (default 840, 115 with --quick); scale gets what is left
 *   --out DIR         where the JSON goes (default bench/results)
 * TEMPORAL_ADDRESS / DATABASE_URL, when set, are used instead of the bench's own server and database.
 *
 * Exits non-zero when any payout ended other than expected, a twin did not complete, or a scenario failed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchContext, sleep } from './context';
import { BenchDb } from './payouts';
import { renderTable } from './report';
import { runAchWindow, type AchWindowResult } from './scenarios/ach-window';
import { runCost, type CostResult } from './scenarios/cost';
import { runLedger, type LedgerResult } from './scenarios/ledger';
import { runScale, type ScaleResult } from './scenarios/scale';
import { runLatency, runThroughput, type LatencyResult, type ThroughputResult } from './scenarios/throughput';
import { startStack, type Stack } from './stack';

const ROOT = path.resolve(__dirname, '..');
const TERMINAL = new Set(['completed', 'failed', 'canceled', 'returned']);

export interface BenchOptions {
  quick: boolean;
  db: 'sqlite' | 'mysql';
  scale: number;
  budgetS: number;
  out: string;
}

export function parseArgs(argv: readonly string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const opts: BenchOptions = { quick, db: 'sqlite', scale: quick ? 20 : 10_000, budgetS: quick ? 115 : 840, out: path.join(ROOT, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, not ${v}`);
      return n;
    };
    if (flag === '--quick') continue;
    else if (flag === '--db') {
      const v = value();
      if (v !== 'sqlite' && v !== 'mysql') throw new Error(`--db must be sqlite or mysql, not ${v}`);
      opts.db = v;
    } else if (flag === '--scale') opts.scale = positive(value());
    else if (flag === '--budget-s') opts.budgetS = positive(value());
    else if (flag === '--out') opts.out = path.resolve(value());
    else throw new Error(`unknown option ${flag} (see bench/main.ts)`);
  }
  if (process.env.DATABASE_URL) opts.db = 'mysql';
  return opts;
}

export interface BenchResults {
  date: string;
  command: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; os: string; loadavgBefore: number[]; loadavgAfter: number[] | null };
  versions: { node: string; temporalSdk: string; temporalCli: string; railyardCommit: string };
  configuration: { quick: boolean; db: string; scaleTarget: number; budgetS: number; railTime: 'demo'; temporal: string; environment: Record<string, string> };
  durationS: number | null;
  idleActionsPerMinute: number | null;
  throughput?: ThroughputResult;
  latency?: LatencyResult;
  cost?: CostResult;
  scale?: ScaleResult;
  ledger?: LedgerResult;
  achWindow?: AchWindowResult;
  outcomes: { expected: number; asExpected: number; unfinished: number; wrong: number; wrongExamples: string[]; unfinishedByStatus: Record<string, number> };
  failures: string[];
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<number> {
  const opts = parseArgs(process.argv.slice(2));
  const startedMs = Date.now();
  const deadlineMs = startedMs + opts.budgetS * 1000;
  const results: BenchResults = {
    date: new Date(startedMs).toISOString(),
    command: `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, loadavgBefore: os.loadavg(), loadavgAfter: null },
    versions: {
      node: process.version,
      temporalSdk: (JSON.parse(readFileSync(require.resolve('@temporalio/worker/package.json'), 'utf8')) as { version: string }).version,
      temporalCli: tryRun(path.join(ROOT, '.tools', 'venv', 'bin', 'temporal'), ['--version']),
      railyardCommit: tryRun('git', ['rev-parse', '--short', 'HEAD']),
    },
    configuration: { quick: opts.quick, db: opts.db, scaleTarget: opts.scale, budgetS: opts.budgetS, railTime: 'demo', temporal: process.env.TEMPORAL_ADDRESS ? 'TEMPORAL_ADDRESS' : 'dev server started by the bench', environment: {} },
    durationS: null,
    idleActionsPerMinute: null,
    outcomes: { expected: 0, asExpected: 0, unfinished: 0, wrong: 0, wrongExamples: [], unfinishedByStatus: {} },
    failures: [],
  };

  let stack: Stack | undefined;
  // What a scenario leaves to undo outside the stack (the ledger's scratch database).
  const undo = new Set<() => Promise<void>>();
  const shutdown = async () => {
    for (const u of undo) await u().catch((err) => console.error('bench cleanup:', err));
    await stack?.cleanup();
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: stopping the bench stack…`);
      void shutdown().finally(() => process.exit(130));
    });
  }

  try {
    console.log(`bench: starting its stack (${opts.db}${opts.quick ? ', quick' : ''})…`);
    stack = await startStack({ db: opts.db, rateLimitPerSecond: 10_000 });
    results.configuration.environment = stack.environment;
    const ctx = new BenchContext(stack, opts.quick, deadlineMs, startedMs);
    ctx.log(`stack up: API ${stack.apiUrl}, Temporal ${stack.temporalAddress}`);

    const scenario = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
      if (interrupted) return undefined;
      try {
        return await run();
      } catch (err) {
        ctx.failures.push(`${name}: ${(err as Error).message}`);
        ctx.log(`${name} FAILED: ${(err as Error).message}`);
        return undefined;
      }
    };

    const idle0 = await ctx.readCounter();
    await sleep(3_000);
    const idle = BenchContext.delta(idle0, await ctx.readCounter());
    results.idleActionsPerMinute = idle ? idle.total * 20 : null;

    const cost = await scenario('cost', () => runCost(ctx));
    const throughput = await scenario('throughput', () => runThroughput(ctx, opts.quick ? 8 : 100));
    results.throughput = throughput?.result;
    if (throughput) results.latency = await scenario('latency', () => runLatency(ctx, throughput.result.payouts.acceptedPerS, throughput.twins));
    if (cost) results.cost = await scenario('cost (return windows)', () => cost.finish());

    // One ACH window of 50,000 entries (500 with --quick), accepted and then refused whole.
    results.achWindow = await scenario('ach window', () => runAchWindow(ctx, opts.quick ? 500 : 50_000, opts.quick ? 40_000 : 420_000, opts.db, undo));

    const ledgerMs = opts.quick ? 2_000 : 10_000;
    const ledgerReserveMs = 3 * ledgerMs + 20_000;
    // Scale takes what the budget has left, but never less than a floor: a run late on its budget
    // still measures it (smaller, marked partial) and says how long it took in all.
    const scaleBudgetMs = Math.max(opts.quick ? 30_000 : 90_000, deadlineMs - Date.now() - ledgerReserveMs);
    results.scale = await scenario('scale', () => runScale(ctx, opts.scale, scaleBudgetMs));
    results.ledger = await scenario('ledger', () => runLedger(ledgerMs, undo));

    // Every payout the bench started, against the status it had to end in: read from the database
    // once the stack has stopped.
    await stack.stop();
    const db = await BenchDb.open(stack);
    const ids = [...ctx.expected.keys()];
    const statuses = await db.statuses(ids).finally(() => db.close());
    for (const id of ids) {
      const status = statuses.get(id) ?? 'missing';
      const want = ctx.expected.get(id)!;
      if (status === want) results.outcomes.asExpected++;
      else if (!TERMINAL.has(status) && status !== 'needs_attention' && status !== 'missing') results.outcomes.unfinishedByStatus[status] = (results.outcomes.unfinishedByStatus[status] ?? 0) + 1;
      else {
        results.outcomes.wrong++;
        if (results.outcomes.wrongExamples.length < 10) results.outcomes.wrongExamples.push(`${id}: ${status}, expected ${want}`);
      }
    }
    results.outcomes.expected = ids.length;
    results.outcomes.unfinished = Object.values(results.outcomes.unfinishedByStatus).reduce((s, n) => s + n, 0);
    results.failures = ctx.failures;
  } catch (err) {
    results.failures.push(`bench: ${(err as Error).stack ?? err}`);
  } finally {
    if (!interrupted) await shutdown();
  }
  results.durationS = Math.round((Date.now() - startedMs) / 1000);
  results.machine.loadavgAfter = os.loadavg();

  mkdirSync(opts.out, { recursive: true });
  const file = path.join(opts.out, `${results.date.slice(0, 19).replace(/:/g, '-')}${opts.quick ? '-quick' : ''}-${opts.db}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  console.log(`\n${renderTable(results)}\n`);
  console.log(`machine: ${results.machine.cpus} × ${results.machine.cpuModel}, load ${results.machine.loadavgBefore.map((x) => x.toFixed(2)).join(' ')} before, ${results.machine.loadavgAfter.map((x) => x.toFixed(2)).join(' ')} after; ${results.durationS} s; ${path.relative(process.cwd(), file)}`);
  const bad = results.outcomes.wrong > 0 || results.failures.length > 0;
  if (bad) console.log(`FAILED: ${results.outcomes.wrong} payouts ended wrong; ${results.failures.length} failures:\n  ${[...results.outcomes.wrongExamples, ...results.failures].join('\n  ')}`);
  return bad ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
