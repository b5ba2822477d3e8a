/**
 * Throughput and accept latency, payouts beside their twins on the same server.
 *
 * Throughput: N RTP payouts posted by CLIENTS concurrent clients, each posting its next as soon as
 * the last was accepted; accepted per second (the saturation rate) and completed per second end to
 * end (first request to last `completed`). Then N of each twin the same way (update-with-start from
 * CLIENTS concurrent callers), to workflow completion. The command-for-command twin copies the
 * shape of one of these payouts' own histories, recorded in this run.
 *
 * Accept latency: requests arriving at a fixed interval, at half the saturation rate, for a while:
 * `POST /v1/transfers` p50/p90/p99, and the twins' bare update-with-start at the same rate.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type WorkflowHandle } from '@temporalio/client';
import { SEARCH_ATTRIBUTES, workflowIdFor } from '../../core/transfer';
import type { BenchContext } from '../context';
import { historyOf, payoutBody, pool, postPayout, seedClients, waitForStatus } from '../payouts';
import { latencySummary, perSecond, ratio, round, type Percentiles } from '../stats';
import { twinShape, type TwinShape } from '../twin/shape';
import { minimalTwin, shapedTwin, twinSignal, twinStartedUpdate, TWIN_TASK_QUEUE } from '../twin/workflows';

export const CLIENTS = 8;
const THROUGHPUT_AMOUNT_MINOR = 2_000;
const LATENCY_AMOUNT_MINOR = 2_500;

export type TwinKind = 'shaped' | 'minimal';

interface TwinRun {
  ms: number;
  handle: WorkflowHandle;
}

export interface Twins {
  shape: TwinShape;
  run(kind: TwinKind): Promise<TwinRun>;
}

function twins(ctx: BenchContext, shape: TwinShape): Twins {
  const signals = shape.counts.signals;
  return {
    shape,
    async run(kind) {
      const workflowId = `bench-twin-${kind}-${randomUUID()}`;
      const started = performance.now();
      const options = {
        workflowId,
        taskQueue: TWIN_TASK_QUEUE,
        workflowIdConflictPolicy: 'USE_EXISTING' as const,
        workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
        // The payout's start carries these five; so does its twin's.
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.status, value: 'created' },
          { key: SEARCH_ATTRIBUTES.rail, value: 'rtp' },
          { key: SEARCH_ATTRIBUTES.clientId, value: 'bench-twin' },
          { key: SEARCH_ATTRIBUTES.currency, value: 'USD' },
          { key: SEARCH_ATTRIBUTES.amountMinor, value: THROUGHPUT_AMOUNT_MINOR },
        ],
      };
      const op =
        kind === 'shaped'
          ? new WithStartWorkflowOperation(shapedTwin, { ...options, args: [{ steps: shape.steps }] })
          : new WithStartWorkflowOperation(minimalTwin, { ...options, args: [{ localSteps: Math.max(1, shape.counts.activities) }] });
      await ctx.stack.temporal.workflow.executeUpdateWithStart(twinStartedUpdate, { startWorkflowOperation: op as WithStartWorkflowOperation<typeof shapedTwin> });
      const ms = performance.now() - started;
      const handle = await op.workflowHandle();
      for (let i = 0; i < (kind === 'shaped' ? signals : 1); i++) await handle.signal(twinSignal);
      return { ms, handle };
    },
  };
}

export interface SideResult {
  n: number;
  /** Answered 503 (recorded, hold not confirmed within the API's deadline); twins: none. */
  refused: number;
  acceptedPerS: number;
  completedPerS: number;
  acceptLatency: Percentiles;
  wallS: number;
}

export interface ThroughputResult {
  clients: number;
  payouts: SideResult;
  shapedTwin: SideResult;
  minimalTwin: SideResult;
  shape: TwinShape['counts'] & { fromTransfer: string };
  payoutsPerSOverShapedTwin: number | null;
  payoutsPerSOverMinimalTwin: number | null;
}

/** Waits for every twin workflow to complete; returns the last completion time, and records the ones that did not. */
async function twinsDone(ctx: BenchContext, handles: WorkflowHandle[], deadlineMs: number): Promise<number> {
  let last = 0;
  await Promise.all(
    handles.map(async (h) => {
      try {
        await Promise.race([h.result(), new Promise((_, reject) => setTimeout(() => reject(new Error('not completed in time')), Math.max(1, deadlineMs - Date.now())))]);
        last = Math.max(last, Date.now());
      } catch (err) {
        ctx.failures.push(`twin ${h.workflowId}: ${(err as Error).message}`);
      }
    }),
  );
  return last;
}

export async function runThroughput(ctx: BenchContext, n: number): Promise<{ result: ThroughputResult; twins: Twins }> {
  const clients = await seedClients(ctx.stack, CLIENTS, 'Bench throughput');
  const deadline = () => Date.now() + 300_000;

  const t0 = Date.now();
  const posted = await pool(Array.from({ length: n }), CLIENTS, (_, i) => postPayout(ctx.stack, clients[i % CLIENTS], payoutBody('rtp', THROUGHPUT_AMOUNT_MINOR)));
  if (posted.errors.length) throw new Error(`throughput: ${posted.errors.length} payouts refused, first: ${posted.errors[0]}`);
  const accepted = posted.results.map((p) => p!);
  const refused = accepted.filter((p) => p.refused).length;
  const acceptedAt = Math.max(...accepted.map((p) => p.acceptedAtMs));
  ctx.expect(accepted.map((p) => p.id), 'completed');
  const done = await waitForStatus(ctx.stack, clients, 'completed', n, deadline(), 250);
  if (done.reachedAtMs === null) throw new Error(`throughput: ${n - done.count} of ${n} payouts did not complete in time`);
  const completedAt = done.reachedAtMs;
  const payouts: SideResult = {
    n,
    refused,
    acceptedPerS: round(perSecond(n - refused, acceptedAt - t0), 2),
    completedPerS: round(perSecond(n, completedAt - t0), 2),
    acceptLatency: latencySummary(accepted.map((p) => p.ms)),
    wallS: round((completedAt - t0) / 1000, 1),
  };
  ctx.log(`throughput: ${n} payouts accepted at ${payouts.acceptedPerS}/s, completed at ${payouts.completedPerS}/s`);

  // The twin copies a payout of this very run, up to the point the payouts were measured to.
  const sample = (accepted.find((p) => !p.refused) ?? accepted[0]).id;
  const shape = twinShape(await historyOf(ctx.stack, workflowIdFor(sample)), { key: 'TransferStatus', value: 'completed' });
  const tw = twins(ctx, shape);

  const side = async (kind: TwinKind): Promise<SideResult> => {
    const s0 = Date.now();
    const runs = await pool(Array.from({ length: n }), CLIENTS, async () => {
      const r = await tw.run(kind);
      return { ...r, at: Date.now() };
    });
    if (runs.errors.length) throw new Error(`${kind} twin: ${runs.errors.length} starts failed, first: ${runs.errors[0]}`);
    const ok = runs.results.map((r) => r!);
    const last = await twinsDone(ctx, ok.map((r) => r.handle), deadline());
    return {
      n,
      refused: 0,
      acceptedPerS: round(perSecond(n, Math.max(...ok.map((r) => r.at)) - s0), 2),
      completedPerS: round(perSecond(n, last - s0), 2),
      acceptLatency: latencySummary(ok.map((r) => r.ms)),
      wallS: round((last - s0) / 1000, 1),
    };
  };
  const shapedTwinResult = await side('shaped');
  ctx.log(`throughput: shaped twin completed at ${shapedTwinResult.completedPerS}/s`);
  const minimalTwinResult = await side('minimal');
  ctx.log(`throughput: minimal twin completed at ${minimalTwinResult.completedPerS}/s`);
  return {
    result: {
      clients: CLIENTS,
      payouts,
      shapedTwin: shapedTwinResult,
      minimalTwin: minimalTwinResult,
      shape: { ...shape.counts, fromTransfer: sample },
      payoutsPerSOverShapedTwin: ratio(payouts.completedPerS, shapedTwinResult.completedPerS),
      payoutsPerSOverMinimalTwin: ratio(payouts.completedPerS, minimalTwinResult.completedPerS),
    },
    twins: tw,
  };
}

export interface LatencyResult {
  ratePerS: number;
  durationS: number;
  /** Every request's time, the 503s included (they waited out the API's deadline). */
  payout: Percentiles;
  payoutRefused: number;
  shapedTwin: Percentiles;
  minimalTwin: Percentiles;
  payoutP99OverShapedTwinP99: number | null;
  payoutP99OverMinimalTwinP99: number | null;
}

/** Fires `task` every 1/rate seconds for durationMs, not waiting for one to finish before the next. */
async function openLoop<R>(ratePerS: number, durationMs: number, task: () => Promise<R>): Promise<{ results: R[]; errors: string[] }> {
  const intervalMs = 1000 / ratePerS;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  const results: R[] = [];
  const errors: string[] = [];
  for (let i = 0; i * intervalMs < durationMs; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(task().then((r) => void results.push(r), (err) => void errors.push((err as Error).message)));
  }
  await Promise.all(inflight);
  return { results, errors };
}

export async function runLatency(ctx: BenchContext, saturationPerS: number, tw: Twins): Promise<LatencyResult> {
  const ratePerS = saturationPerS / 2;
  const clients = await seedClients(ctx.stack, CLIENTS, 'Bench latency');
  const durationMs = ctx.quick ? 3_000 : 30_000;
  let k = 0;
  const payouts = await openLoop(ratePerS, durationMs, () => postPayout(ctx.stack, clients[k++ % clients.length], payoutBody('rtp', LATENCY_AMOUNT_MINOR)));
  if (payouts.errors.length) throw new Error(`latency: ${payouts.errors.length} payouts refused, first: ${payouts.errors[0]}`);
  ctx.expect(payouts.results.map((p) => p.id), 'completed');
  // The next side starts on a quiet stack: the payouts above finish first.
  const done = await waitForStatus(ctx.stack, clients, 'completed', payouts.results.length, Date.now() + 180_000);
  if (done.reachedAtMs === null) throw new Error(`latency: ${payouts.results.length - done.count} payouts did not complete in time`);
  const side = async (kind: TwinKind) => {
    const runs = await openLoop(ratePerS, durationMs, () => tw.run(kind));
    if (runs.errors.length) throw new Error(`latency: ${runs.errors.length} ${kind} twin starts failed, first: ${runs.errors[0]}`);
    await twinsDone(ctx, runs.results.map((r) => r.handle), Date.now() + 120_000);
    return latencySummary(runs.results.map((r) => r.ms));
  };
  const shaped = await side('shaped');
  const minimal = await side('minimal');
  const payout = latencySummary(payouts.results.map((p) => p.ms));
  ctx.log(`latency at ${round(ratePerS, 2)}/s: payout p99 ${payout.p99Ms} ms, shaped twin p99 ${shaped.p99Ms} ms, minimal twin p99 ${minimal.p99Ms} ms`);
  return {
    ratePerS: round(ratePerS, 2),
    durationS: durationMs / 1000,
    payout,
    payoutRefused: payouts.results.filter((p) => p.refused).length,
    shapedTwin: shaped,
    minimalTwin: minimal,
    payoutP99OverShapedTwinP99: ratio(payout.p99Ms, shaped.p99Ms),
    payoutP99OverMinimalTwinP99: ratio(payout.p99Ms, minimal.p99Ms),
  };
}
