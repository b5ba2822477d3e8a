/** The printed table: one markdown table, the same one the README quotes. Absent figures show as `n/a`, partial ones say so. */
import type { BenchResults } from './main';
import { RAILS } from './payouts';
import { round } from './stats';

function fmt(value: number | null | undefined, digits = 2, unit = ''): string {
  return value == null ? 'n/a' : `${round(value, digits)}${unit}`;
}

function times(value: number | null | undefined): string {
  return value == null ? 'n/a' : `${round(value, 2)}×`;
}

/** The counter's action types beside the history kinds they correspond to: where the two counts part, this says in what. */
function kinds(counter: Record<string, number> | null, histories: Record<string, number>): string {
  if (!counter) return 'no counter on this server';
  const pairs: [string, string[], string[]][] = [
    ['activities', ['command_ScheduleActivityTask'], ['activity_attempt']],
    ['timers', ['command_StartTimer'], ['timer_started']],
    ['upserts', ['command_UpsertWorkflowSearchAttributes'], ['search_attribute_upsert']],
    ['starts', ['grpc_StartWorkflowExecution', 'grpc_ExecuteMultiOperation', 'grpc_SignalWithStartWorkflowExecution'], ['workflow_started']],
    ['signals', ['command_SignalExternalWorkflowExecution', 'grpc_SignalWorkflowExecution'], ['signal']],
    ['updates', ['message_UpdateWorkflowExecution_Acceptance'], ['update']],
  ];
  const sum = (m: Record<string, number>, keys: string[]) => keys.reduce((s, k) => s + (m[k] ?? 0), 0);
  return pairs
    .map(([name, c, h]) => [name, sum(counter, c), sum(histories, h)] as const)
    .filter(([, c, h]) => c !== 0 || h !== 0)
    .map(([name, c, h]) => `${name} ${c}/${h}`)
    .join(', ');
}

export function renderTable(r: BenchResults): string {
  const rows: [string, string, string][] = [];
  const t = r.throughput;
  if (t) {
    rows.push([`Throughput, RTP, ${t.payouts.n} at ${t.clients} clients: payouts/s end to end (accepted/s; answered 503)`, `${fmt(t.payouts.completedPerS)} (${fmt(t.payouts.acceptedPerS)}; ${t.payouts.refused})`, `shaped twin ${fmt(t.shapedTwin.completedPerS)}/s → ${times(t.payoutsPerSOverShapedTwin)}; minimal twin ${fmt(t.minimalTwin.completedPerS)}/s → ${times(t.payoutsPerSOverMinimalTwin)}`]);
    rows.push(['Twin shape copied from a payout of this run (to completed)', `${t.shape.activities} activities, ${t.shape.timers} timers, ${t.shape.upserts} upserts, ${t.shape.signals} signals`, `minimal: ${t.shape.activities} local activities, 1 signal`]);
  }
  const l = r.latency;
  if (l) {
    rows.push([`Accept latency at ${fmt(l.ratePerS)}/s (half saturation), ${l.payout.n} requests: POST /v1/transfers p50 / p90 / p99`, `${fmt(l.payout.p50Ms, 0)} / ${fmt(l.payout.p90Ms, 0)} / ${fmt(l.payout.p99Ms, 0)} ms${l.payoutRefused ? ` (${l.payoutRefused} answered 503)` : ''}`, `update-with-start p99: shaped twin ${fmt(l.shapedTwin.p99Ms, 0)} ms → ${times(l.payoutP99OverShapedTwinP99)}; minimal ${fmt(l.minimalTwin.p99Ms, 0)} ms → ${times(l.payoutP99OverMinimalTwinP99)}`]);
  }
  const c = r.cost;
  if (c) {
    for (const rail of RAILS) {
      const p = c.perRail[rail];
      if (!p) continue;
      rows.push([`Actions per happy-path payout, ${rail}${rail === 'swift' ? ' (USD→GBP, FX)' : ''} (histories, Cloud rules)`, `${fmt(p.actionsToCompleted, 1)} to completed`, p.openAtEnd ? `${p.openAtEnd} of ${p.payouts} still open after ${fmt(p.returnWindowS, 0)} s (their one timer fires later), ${fmt(p.returnWindowActionsPerHour, 0)} actions/hour meanwhile` : `${fmt(p.actionsToClose, 1)} to the end of the return window (${fmt(p.returnWindowS, 0)} s)`]);
    }
    const ph = c.crossCheck.phase;
    const q = c.crossCheck.quietWindow;
    rows.push(['Cross-check: server `action` counter vs histories (Cloud rules), whole cost phase', `${fmt(ph.counter, 0)} vs ${ph.histories}`, `${ph.workflows} workflows; ${kinds(ph.counterByType, ph.historiesByKind)}`]);
    rows.push([`Cross-check: same, ${fmt(q.seconds, 0)} s while everything waits`, `${fmt(q.counter, 0)} vs ${q.histories}`, kinds(q.counterByType, q.historiesByKind)]);
    rows.push(['Actions per hour of a waiting payout: settlement (`hold`) / return window / needs_attention', `${fmt(c.waitingActionsPerHour.settlementHold, 0)} / ${fmt(c.waitingActionsPerHour.returnWindow, 0)} / ${fmt(c.waitingActionsPerHour.needsAttention, 0)}`, 'SPEC §8 promises 0 while waiting']);
  }
  const s = r.scale;
  if (s) {
    rows.push([`Scale: payouts waiting at the bank${s.partial ? ' (PARTIAL: budget ended first)' : ''}`, `${s.waitingAtBank} (started ${s.reached} of ${s.target} in ${fmt(s.startS, 0)} s, ${fmt(s.startedPerS)}/s; ${s.refused} answered 503)`, `waited ${fmt(s.waitWindowS, 0)} s`]);
    rows.push(['Scale: RSS while they wait: worker+API / Temporal server / simulator', `${fmt(s.rssMiB.workerAndApi, 0)} / ${fmt(s.rssMiB.temporalServer, 0)} / ${fmt(s.rssMiB.bankSim, 0)} MiB`, '']);
    rows.push(['Scale: CPU s/min while they wait: worker+API / Temporal server', `${fmt(s.cpuSecondsPerMinute.workerAndApi)} / ${fmt(s.cpuSecondsPerMinute.temporalServer)}`, `server actions/min ${fmt(s.actionsPerMinute, 0)} (${fmt(s.actionsPerHourPerWaitingPayout, 0)}/h per payout)`]);
    const twinPerS = r.throughput?.shapedTwin.completedPerS;
    rows.push([
      `Scale: all released, time until every one completed${s.release.partial ? ' (PARTIAL)' : ''}`,
      s.release.secondsToAllCompleted == null ? `${s.release.completed} of ${s.release.released} completed when the budget ended` : `${fmt(s.release.secondsToAllCompleted, 1)} s (${fmt(s.release.completedPerS)}/s)`,
      `${s.release.released} released; ÷ shaped twin ${times(s.release.completedPerS != null && twinPerS ? s.release.completedPerS / twinPerS : null)}`,
    ]);
  }
  const g = r.ledger;
  if (g) {
    rows.push([`Ledger on MySQL, ${g.concurrency} concurrent payouts: postings/s from ${g.manyClients.clients} clients / from 1 client`, `${fmt(g.manyClients.postingsPerS, 0)} / ${fmt(g.oneClient.postingsPerS, 0)}`, `one client ÷ many ${times(g.oneClientOverManyClients)}; many ÷ one payout at a time (${fmt(g.sequential.postingsPerS, 0)}/s) ${times(g.manyClientsOverSequential)}`]);
  }
  rows.push(['Payouts ending as expected / unfinished / wrong', `${r.outcomes.asExpected} / ${r.outcomes.unfinished} / ${r.outcomes.wrong}`, r.failures.length ? `${r.failures.length} failures (see JSON)` : 'no failures']);
  const header = `| measure | value | beside it |\n|---|---|---|`;
  return [header, ...rows.map(([a, b, d]) => `| ${a} | ${b} | ${d} |`)].join('\n');
}
