/**
 * Scale: payouts in flight, all waiting at the bank (simulator `hold`), up to a target number within
 * a time budget. While they wait: RSS of the Temporal server, of the worker-and-API process and of
 * the simulator, CPU seconds per minute of each, and the server's actions per minute. Then every
 * held payment is released at once, and the time until every payout completes is taken.
 * A target the budget did not reach is reported as reached-so-far, marked partial.
 */
import type { BenchContext } from '../context';
import { BenchContext as Ctx, sleep } from '../context';
import { clearSimRules, heldReferences, payoutBody, postPayout, releaseHeld, seedClients, simRule, waitForHeld, waitForStatus } from '../payouts';
import { cpuSeconds, rssBytes } from '../proc';
import { round } from '../stats';

const SCALE_AMOUNT_MINOR = 5_505;
const CLIENTS = 16;
/**
 * Held payouts must not outwait the demo settlement timeout (5 minutes, then needs_attention):
 * starting and waiting stay within four.
 */
const START_BUDGET_MAX_MS = 170_000;

export interface ScaleResult {
  target: number;
  /** Payouts recorded (accepted, or answered 503 and running on). */
  reached: number;
  refused: number;
  partial: boolean;
  startS: number;
  startedPerS: number;
  waitingAtBank: number;
  waitWindowS: number;
  rssMiB: Record<string, number | null>;
  cpuSecondsPerMinute: Record<string, number | null>;
  actionsPerMinute: number | null;
  actionsPerHourPerWaitingPayout: number | null;
  release: { released: number; completed: number; secondsToAllCompleted: number | null; completedPerS: number | null; partial: boolean };
}

function mib(bytes: number): number {
  return round(bytes / 1024 / 1024, 1);
}

export async function runScale(ctx: BenchContext, target: number, budgetMs: number): Promise<ScaleResult> {
  const clients = await seedClients(ctx.stack, CLIENTS, 'Bench scale');
  await simRule(ctx.stack, { match: { amountMinor: SCALE_AMOUNT_MINOR, rail: 'rtp' }, behavior: 'hold' });
  // A third of the budget to start payouts, a tenth to watch them wait, the rest (more than half)
  // for them to reach the bank and, once released, to complete.
  const budgetEnd = Date.now() + budgetMs;
  const waitWindowMs = ctx.quick ? 4_000 : Math.min(60_000, Math.max(10_000, budgetMs * 0.1));
  const startEnd = Date.now() + Math.min(START_BUDGET_MAX_MS, budgetMs * 0.3);

  const t0 = Date.now();
  const ids: string[] = [];
  let refused = 0;
  const errors: string[] = [];
  await Promise.all(
    clients.map(async (client) => {
      while (ids.length + errors.length < target && Date.now() < startEnd) {
        try {
          const posted = await postPayout(ctx.stack, client, payoutBody('rtp', SCALE_AMOUNT_MINOR));
          ids.push(posted.id);
          if (posted.refused) refused++;
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }),
  );
  const startMs = Date.now() - t0;
  if (errors.length) ctx.failures.push(`scale: ${errors.length} payouts refused, first: ${errors[0]}`);
  ctx.expect(ids, 'completed');
  const reached = ids.length;
  ctx.log(`scale: ${reached} of ${target} payouts started in ${round(startMs / 1000, 1)} s (${refused} of them answered 503)`);
  const atBank = await waitForHeld(ctx.stack, SCALE_AMOUNT_MINOR, reached, Math.min(budgetEnd, Date.now() + 60_000), 1_000);

  const pids: Record<string, number | undefined> = { temporalServer: ctx.stack.pids.temporalServer, workerAndApi: ctx.stack.pids.workerAndApi, bankSim: ctx.stack.pids.bankSim };
  const read = (f: (pid: number) => number) => Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, pid ? f(pid) : null]));
  // Held at the bank is not yet idle: a payout may still be finishing the workflow task that sent
  // it. The window opens once the server's counter has stood still for a second (at most 20 s).
  const settledBy = Date.now() + 20_000;
  for (let last = await ctx.readCounter(); Date.now() < settledBy; ) {
    await sleep(1_000);
    const now = await ctx.readCounter();
    const moved = Ctx.delta(last, now);
    last = now;
    if (!moved || moved.total === 0) break;
  }
  const cpu0 = read(cpuSeconds);
  const counter0 = await ctx.readCounter();
  const w0 = Date.now();
  await sleep(waitWindowMs);
  const w1 = Date.now();
  const counter1 = await ctx.readCounter();
  const cpu1 = read(cpuSeconds);
  const rss = read(rssBytes);
  const minutes = (w1 - w0) / 60_000;
  const actions = Ctx.delta(counter0, counter1);
  const waiting = atBank.count;

  const released = await releaseHeld(ctx.stack, await heldReferences(ctx.stack, SCALE_AMOUNT_MINOR), 32);
  await clearSimRules(ctx.stack);
  const r0 = Date.now();
  // Released payouts get the rest of the budget, and never less than a floor: a late start must not hide the completion time.
  const done = await waitForStatus(ctx.stack, clients, 'completed', reached, Math.max(budgetEnd, r0 + (ctx.quick ? 40_000 : 120_000)), 1_000);
  const allDone = done.reachedAtMs !== null;
  ctx.log(`scale: released ${released}; ${done.count} completed ${allDone ? `in ${round((done.reachedAtMs! - r0) / 1000, 1)} s` : 'when the budget ended'}`);
  return {
    target,
    reached,
    refused,
    partial: reached < target,
    startS: round(startMs / 1000, 1),
    startedPerS: round((reached * 1000) / startMs, 2),
    waitingAtBank: waiting,
    waitWindowS: round((w1 - w0) / 1000, 1),
    rssMiB: Object.fromEntries(Object.entries(rss).map(([k, v]) => [k, v === null ? null : mib(v)])),
    cpuSecondsPerMinute: Object.fromEntries(Object.keys(pids).map((k) => [k, cpu0[k] === null || cpu1[k] === null ? null : round((cpu1[k]! - cpu0[k]!) / minutes, 2)])),
    actionsPerMinute: actions ? round(actions.total / minutes, 1) : null,
    actionsPerHourPerWaitingPayout: actions && waiting > 0 ? round((actions.total * 60) / minutes / waiting, 1) : null,
    release: {
      released,
      completed: done.count,
      secondsToAllCompleted: allDone ? round((done.reachedAtMs! - r0) / 1000, 1) : null,
      completedPerS: allDone && done.reachedAtMs! > r0 ? round((reached * 1000) / (done.reachedAtMs! - r0), 2) : null,
      partial: !allDone,
    },
  };
}
