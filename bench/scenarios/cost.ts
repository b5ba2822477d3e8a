/**
 * Cost: billable actions of a happy-path payout on every rail, and of a payout that waits.
 *
 * One phase, so that the server's counter and the histories can be compared over the same windows:
 *   1. payouts that will wait for an operator: ACH entries whose window file the bank refuses whole
 *      (simulator `reject_file`) park in needs_attention; the rule is cleared once they have;
 *   2. K happy-path payouts per rail, and payouts the bank holds pending (simulator `hold`), together;
 *   3. once every happy payout is completed (now in its return window), every held one submitted and
 *      every parked one parked: a quiet window in which all of them only wait;
 *   4. the held ones are released, the parked ones canceled by an operator; the happy ones run out
 *      their return window (collected at the end of the run, see `finish`).
 * Per payout, from its own history: actions up to `completed`, and up to the end of its workflow.
 * Per waiting payout: actions per hour inside the quiet window (hold, needs_attention), and over its
 * whole return window (from `completed` to the end of the workflow).
 * Cross-checks: the counter's rise over the phase and over the quiet window against the actions
 * counted from the histories of every workflow in the namespace over the same spans.
 */
import { countActions, upsertTimeMs, type HistoryEvent } from '../actions';
import { BenchContext, sleep, type CounterReading } from '../context';
import { call, clearSimRules, heldReferences, historyOf, payoutBody, pool, postPayout, RAILS, releaseHeld, seedClients, simRule, waitForHeld, waitForStatus, type BenchRail } from '../payouts';
import { round } from '../stats';
import { workflowIdFor } from '../../core/transfer';

const HOLD_AMOUNT_MINOR = 3_303;
const ATTENTION_AMOUNT_MINOR = 4_404;
const HAPPY_AMOUNT_MINOR = 1_000;

export interface CostResult {
  perRail: Record<BenchRail, { payouts: number; actionsToCompleted: number; actionsToClose: number | null; byKindToClose: Record<string, number> | null; returnWindowActionsPerHour: number | null; returnWindowS: number | null; openAtEnd?: number }>;
  waitingActionsPerHour: { settlementHold: number; needsAttention: number; returnWindow: number | null };
  crossCheck: {
    phase: { fromIso: string; toIso: string; counter: number | null; histories: number; workflows: number; counterByType: Record<string, number> | null; historiesByKind: Record<string, number> };
    quietWindow: { seconds: number; counter: number | null; histories: number; counterByType: Record<string, number> | null; historiesByKind: Record<string, number> };
  };
  windowS: number;
  counts: { perRail: number; hold: number; needsAttention: number };
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Actions of every workflow in the namespace inside [fromMs, toMs), from their histories. */
async function namespaceActions(ctx: BenchContext, fromMs: number, toMs: number): Promise<{ total: number; byKind: Record<string, number>; workflows: number }> {
  const byKind: Record<string, number> = {};
  let total = 0;
  let workflows = 0;
  const query = `CloseTime >= "${new Date(fromMs).toISOString()}" OR ExecutionStatus = "Running"`;
  for await (const wf of ctx.stack.temporal.workflow.list({ query })) {
    if (wf.startTime.getTime() >= toMs) continue;
    const count = countActions(await historyOf(ctx.stack, wf.workflowId, wf.runId), { fromMs, toMs });
    workflows++;
    total += count.total;
    for (const [k, v] of Object.entries(count.byKind)) byKind[k] = (byKind[k] ?? 0) + v;
  }
  return { total, byKind, workflows };
}

export async function runCost(ctx: BenchContext): Promise<{ result: Omit<CostResult, 'perRail'> & { perRail: Partial<CostResult['perRail']> }; finish: () => Promise<CostResult> }> {
  const perRailCount = ctx.quick ? 1 : 3;
  const waitingCount = ctx.quick ? 2 : 5;
  const windowMs = ctx.quick ? 5_000 : 20_000;
  // One client per group, so that each group's progress is one visibility count.
  const [parkClient, happyClient, holdClient] = await seedClients(ctx.stack, 3, 'Bench cost');
  const stepDeadline = () => Date.now() + 150_000;

  // 1. Payouts that will wait for an operator.
  // History windows are those of the counter's readings, so that both count the same span.
  const before: CounterReading | undefined = await ctx.readCounter();
  const phaseFromMs = before?.atMs ?? Date.now();
  await simRule(ctx.stack, { match: { amountMinor: ATTENTION_AMOUNT_MINOR, rail: 'ach' }, behavior: 'reject_file' });
  const parkedPosts = await pool(Array.from({ length: waitingCount }), 4, () => postPayout(ctx.stack, parkClient, payoutBody('ach', ATTENTION_AMOUNT_MINOR)));
  if (parkedPosts.errors.length) throw new Error(`payouts refused: ${parkedPosts.errors[0]}`);
  const parked = parkedPosts.results.map((p) => p!.id);
  ctx.expect(parked, 'canceled');
  const parkedWait = await waitForStatus(ctx.stack, [parkClient], 'needs_attention', parked.length, stepDeadline());
  if (parkedWait.reachedAtMs === null) throw new Error(`${parked.length - parkedWait.count} ACH payouts with a refused file never reached needs_attention`);
  await clearSimRules(ctx.stack);
  ctx.log(`cost: ${parked.length} payouts parked in needs_attention`);

  // 2. Happy payouts on every rail, and payouts the bank holds.
  await simRule(ctx.stack, { match: { amountMinor: HOLD_AMOUNT_MINOR, rail: 'rtp' }, behavior: 'hold' });
  const happy: { id: string; rail: BenchRail }[] = [];
  const jobs: { rail: BenchRail; amountMinor: number }[] = [];
  for (const rail of RAILS) for (let i = 0; i < perRailCount; i++) jobs.push({ rail, amountMinor: HAPPY_AMOUNT_MINOR + i });
  for (let i = 0; i < waitingCount; i++) jobs.push({ rail: 'rtp', amountMinor: HOLD_AMOUNT_MINOR });
  const posted = await pool(jobs, 4, (job) => postPayout(ctx.stack, job.amountMinor === HOLD_AMOUNT_MINOR ? holdClient : happyClient, payoutBody(job.rail, job.amountMinor)));
  if (posted.errors.length) throw new Error(`cost payouts refused: ${posted.errors[0]}`);
  const held: string[] = [];
  posted.results.forEach((p, i) => (jobs[i].amountMinor === HOLD_AMOUNT_MINOR ? held.push(p!.id) : happy.push({ id: p!.id, rail: jobs[i].rail })));
  ctx.expect(happy.map((h) => h.id), 'completed');
  ctx.expect(held, 'completed');
  const [happyDone, heldWait] = await Promise.all([
    waitForStatus(ctx.stack, [happyClient], 'completed', happy.length, stepDeadline()),
    waitForHeld(ctx.stack, HOLD_AMOUNT_MINOR, held.length, stepDeadline()),
  ]);
  if (happyDone.reachedAtMs === null) throw new Error(`${happy.length - happyDone.count} happy-path payouts did not complete in time`);
  if (heldWait.reachedAtMs === null) throw new Error(`${held.length - heldWait.count} held payouts never reached submitted`);
  ctx.log(`cost: ${happy.length} happy payouts completed, ${held.length} held at the bank`);

  // 3. The quiet window: everything only waits.
  await sleep(500);
  const quietBefore = await ctx.readCounter();
  const quietFromMs = quietBefore?.atMs ?? Date.now();
  await sleep(windowMs);
  const quietAfter = await ctx.readCounter();
  const quietToMs = quietAfter?.atMs ?? Date.now();

  const perHour = (ids: string[], histories: Map<string, HistoryEvent[]>) =>
    mean(ids.map((id) => (countActions(histories.get(id)!, { fromMs: quietFromMs, toMs: quietToMs }).total * 3_600_000) / (quietToMs - quietFromMs)));
  const waitingHistories = new Map<string, HistoryEvent[]>();
  for (const id of [...held, ...parked]) waitingHistories.set(id, await historyOf(ctx.stack, workflowIdFor(id)));
  const quietHistories = await namespaceActions(ctx, quietFromMs, quietToMs);
  const phaseHistories = await namespaceActions(ctx, phaseFromMs, quietToMs);
  const quietCounter = BenchContext.delta(quietBefore, quietAfter);
  const phaseCounter = BenchContext.delta(before, quietAfter);

  const perRail: Partial<CostResult['perRail']> = {};
  for (const rail of RAILS) {
    const mine = happy.filter((h) => h.rail === rail);
    const toCompleted = [];
    for (const h of mine) {
      const events = await historyOf(ctx.stack, workflowIdFor(h.id));
      const completedAtMs = upsertTimeMs(events, 'TransferStatus', 'completed');
      if (completedAtMs === undefined) throw new Error(`payout ${h.id} completed in the database but its workflow never set TransferStatus=completed`);
      toCompleted.push(countActions(events, { toMs: completedAtMs + 1 }).total);
    }
    perRail[rail] = { payouts: mine.length, actionsToCompleted: round(mean(toCompleted), 2), actionsToClose: null, byKindToClose: null, returnWindowActionsPerHour: null, returnWindowS: null };
  }

  // 4. Release the held, cancel the parked (nothing left the bank: the operator's cancel undoes the hold).
  const released = await releaseHeld(ctx.stack, await heldReferences(ctx.stack, HOLD_AMOUNT_MINOR));
  if (released !== held.length) ctx.failures.push(`cost: released ${released} of ${held.length} held payments`);
  await clearSimRules(ctx.stack);
  for (const id of parked) {
    const res = await call(`${ctx.stack.apiUrl}/v1/ops/transfers/${id}/cancel`, 'POST', ctx.stack.opsKey, { reason: 'the refused file is not sent again' });
    if (res.status !== 200) ctx.failures.push(`cost: the operator cancel of parked ${id} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 200)}`);
  }

  const partial = {
    perRail,
    waitingActionsPerHour: { settlementHold: round(perHour(held, waitingHistories), 1), needsAttention: round(perHour(parked, waitingHistories), 1), returnWindow: null },
    crossCheck: {
      phase: { fromIso: new Date(phaseFromMs).toISOString(), toIso: new Date(quietToMs).toISOString(), counter: phaseCounter?.total ?? null, histories: phaseHistories.total, workflows: phaseHistories.workflows, counterByType: phaseCounter?.byType ?? null, historiesByKind: phaseHistories.byKind },
      quietWindow: { seconds: round((quietToMs - quietFromMs) / 1000, 1), counter: quietCounter?.total ?? null, histories: quietHistories.total, counterByType: quietCounter?.byType ?? null, historiesByKind: quietHistories.byKind },
    },
    windowS: round(windowMs / 1000, 1),
    counts: { perRail: perRailCount, hold: held.length, needsAttention: parked.length },
  };

  /**
   * Waits a bounded time for the happy payouts' workflows to end (their return window), then fills
   * in the figures that needed it. Under demo timing one timer serves all of a payout's waits and
   * may fire hours after its return window (workflows/transfer/workflow.ts): a workflow still open
   * then, its transfer completed, is counted up to now (what it cost so far) and marked open.
   */
  const finish = async (): Promise<CostResult> => {
    const returnRates: number[] = [];
    const waitUntilMs = Math.min(ctx.deadlineMs, Date.now() + 60_000);
    for (const rail of RAILS) {
      const mine = happy.filter((h) => h.rail === rail);
      const toClose: number[] = [];
      const byKind: Record<string, number> = {};
      const windows: number[] = [];
      let open = 0;
      for (const h of mine) {
        const handle = ctx.stack.temporal.workflow.getHandle(workflowIdFor(h.id));
        await Promise.race([handle.result(), sleep(Math.max(1, waitUntilMs - Date.now()))]).catch(() => undefined);
        const events = await historyOf(ctx.stack, workflowIdFor(h.id));
        const last = events.at(-1)!.eventType;
        const closed = /WORKFLOW_EXECUTION_(COMPLETED|FAILED|TIMED_OUT|TERMINATED|CANCELED|CONTINUED_AS_NEW)$/.test(last);
        if (closed && !/COMPLETED$/.test(last)) {
          ctx.failures.push(`cost: the workflow of ${h.id} (${rail}) ended ${last}`);
          continue;
        }
        const completedAtMs = upsertTimeMs(events, 'TransferStatus', 'completed')!;
        const endMs = closed ? Date.parse(events.at(-1)!.eventTime!) : Date.now();
        const during = countActions(events, { fromMs: completedAtMs + 1, toMs: endMs + 1 }).total;
        windows.push((endMs - completedAtMs) / 1000);
        returnRates.push((during * 3_600_000) / (endMs - completedAtMs));
        if (!closed) {
          open++;
          continue;
        }
        const all = countActions(events);
        toClose.push(all.total);
        for (const [k, v] of Object.entries(all.byKind)) byKind[k] = (byKind[k] ?? 0) + v / mine.length;
      }
      Object.assign(perRail[rail]!, {
        openAtEnd: open,
        returnWindowS: windows.length ? round(mean(windows), 1) : null,
        returnWindowActionsPerHour: windows.length ? round(mean(returnRates.slice(-windows.length)), 1) : null,
      });
      if (toClose.length === mine.length) {
        Object.assign(perRail[rail]!, {
          actionsToClose: round(mean(toClose), 2),
          byKindToClose: Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, round(v, 2)])),
        });
      }
    }
    return { ...partial, perRail: perRail as CostResult['perRail'], waitingActionsPerHour: { ...partial.waitingActionsPerHour, returnWindow: returnRates.length ? round(mean(returnRates), 1) : null } };
  };
  return { result: partial, finish };
}
