/**
 * The chaos harness (chaos/) on a few fixed seeds: each seed's whole deployment — its own MariaDB,
 * the Temporal dev server, the bank simulator, two workers, two APIs — under its seeded schedule of
 * crashes, bank faults, cancels and retries, then the auditor's verdict. Seeds run side by side (two
 * at a time by default), each in a process of its own. `CHAOS_SEEDS=1,2,3` runs those seeds instead,
 * `CHAOS_TRANSFERS` sets the payouts per seed, `CHAOS_PARALLEL` how many run at once.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SEEDS = (process.env.CHAOS_SEEDS ?? '5,9').split(',').map((s) => Number(s.trim()));
const TRANSFERS = Number(process.env.CHAOS_TRANSFERS ?? 60);
const PARALLEL = Number(process.env.CHAOS_PARALLEL ?? 2);
/** A seed of 60 payouts takes about four minutes here; a run past this is stuck, not slow. */
const RUN_TIMEOUT_MS = 12 * 60_000;

interface Run {
  code: number | null;
  output: string;
}

function runSeed(seed: number): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'chaos/main.ts', '--seed', String(seed), '--transfers', String(TRANSFERS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGINT'), RUN_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Runs the seeds, at most PARALLEL at once, each lane one seed after the other. */
function runAll(seeds: number[]): Map<number, Promise<Run>> {
  const lanes: Promise<unknown>[] = Array.from({ length: Math.max(1, PARALLEL) }, () => Promise.resolve());
  return new Map(
    seeds.map((seed, i) => {
      const lane = i % lanes.length;
      const run = lanes[lane].then(() => runSeed(seed));
      lanes[lane] = run;
      return [seed, run] as const;
    }),
  );
}

describe('chaos: seeded fault simulation of the whole deployment', function () {
  this.timeout(RUN_TIMEOUT_MS * Math.ceil(SEEDS.length / Math.max(1, PARALLEL)) + 60_000);
  let runs: Map<number, Promise<Run>>;

  before(() => {
    runs = runAll(SEEDS);
  });

  for (const seed of SEEDS) {
    it(`seed ${seed}: ${TRANSFERS} payouts under crashes and bank faults end with the auditor's PASS`, async () => {
      const { code, output } = await runs.get(seed)!;
      const lines = output.trim().split('\n');
      const verdict = lines.at(-1) ?? '';
      const violations = lines.filter((l) => l.includes('VIOLATION')).slice(0, 20);
      // A harness error's detail follows its first line: the run's last lines carry it.
      const detail = (violations.length > 0 ? violations : lines.slice(-30)).join('\n');
      assert.match(verdict, new RegExp(`^VERDICT seed=${seed} PASS`), `${verdict}\n${detail}`);
      assert.equal(code, 0);
    });
  }
});
