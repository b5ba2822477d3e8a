/**
 * One large ACH window (SPEC §8: a window of any size stays inside Temporal's limits): N entries
 * queued in one window, sent by the real batch workflow and activities on the bench's Temporal
 * server, twice — a window the bank accepts (the files built and sent, every entry's attempt and
 * transfer recorded `submitted`) and a window the bank refuses whole (every payout told, a page at
 * a time, the workflow continuing as new as its history grows).
 *
 * The entries are written straight into a scratch database of their own (the payouts' rows as the
 * submit step leaves them), and the scenario runs its own worker and bank simulator, so N payouts
 * need not go through the API first and nothing of them reaches the stack's database. The payouts'
 * own workflows are not running: the answers the batch signals to them are counted from its
 * histories (every payout told exactly once), and their failures to arrive are the expected ones.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createAchWindowActivities, type AchWindowDeps } from '../../activities/ach-windows';
import { createBankSim } from '../../banksim/sim';
import { achFileWindow } from '../../core/ach-windows';
import { newId } from '../../core/ids';
import { AchEntry, AchWindow, Attempt, Transfer, type AchEntryRow, type AttemptRow, type TransferRow } from '../../db/schema';
import { migrate, openOrm } from '../../db/orm';
import { ACH_ORIGINATOR } from '../../workers/deps';
import { workflowInterceptorModules } from '../../workers/worker';
import type { AchBatchResult } from '../../workflows/ach-batch';
import { round } from '../stats';
import type { BenchContext } from '../context';

/** Rows written per insert statement while the window is filled. */
const INSERT_CHUNK = 500;
const WINDOW_MS = 60_000;
/** Temporal's limits the window must stay inside. */
const HISTORY_EVENTS_LIMIT = 51_200;
const PAYLOAD_BYTES_LIMIT = 2 * 1024 * 1024;

export interface AchWindowCase {
  entries: number;
  outcome: AchBatchResult['outcome'] | 'did not finish';
  /** From the batch workflow's start to its end (all its runs). */
  seconds: number;
  /** The send activity: how long its last attempt took, and how many attempts it needed. */
  sendSeconds: number;
  sendAttempts: number;
  /** What failed the attempts that were retried (any step), as Temporal recorded it. */
  retriedBecause: string[];
  runs: number;
  maxHistoryEvents: number;
  maxPayloadBytes: number;
  /** Payouts signalled, and how many distinct ones: each payout is told once. */
  signals: number;
  distinctTold: number;
  /** Rows as they stand after the batch: entries by status, transfers by status. */
  entryStatuses: Record<string, number>;
  transferStatuses: Record<string, number>;
}

export interface AchWindowResult {
  entries: number;
  db: string;
  accepted: AchWindowCase;
  refused: AchWindowCase;
}

/**
 * Fills a window with `n` payouts' entries as the submit step queues them. Its cut-off has just
 * passed (the window row still open, as a batch finds it when it wakes), so the batch sends at
 * once and the figures start when it does. `windowsAgo` keeps each case's window its own.
 */
async function fillWindow(orm: MikroORM, deps: AchWindowDeps, n: number, accountNumber: (i: number) => string, traceBase: number, windowsAgo: number): Promise<{ windowId: string; cutoffAtMs: number }> {
  const window = achFileWindow(Date.now() - windowsAgo * deps.demoWindowMs, 'demo', deps.demoWindowMs);
  const em = orm.em.fork() as SqlEntityManager;
  const now = new Date();
  const clientId = newId('cl');
  for (let from = 0; from < n; from += INSERT_CHUNK) {
    const transfers: TransferRow[] = [];
    const attempts: AttemptRow[] = [];
    const entries: AchEntryRow[] = [];
    for (let i = from; i < Math.min(n, from + INSERT_CHUNK); i++) {
      const transferId = newId('tr');
      const attemptId = newId('att');
      const traceNumber = `${ACH_ORIGINATOR.originRouting.slice(0, 8)}${String(traceBase + i).padStart(7, '0')}`;
      const amountMinor = 1_000 + (i % 1_000);
      transfers.push({ id: transferId, clientId, status: 'funds_held', amountMinor, currency: 'USD', targetCurrency: 'USD', targetAmountMinor: amountMinor, fxRate: null, quoteId: null, feeMinor: 0, rail: 'ach', beneficiary: { name: 'Bench Payee', country: 'US', accountNumber: accountNumber(i), routingNumber: '110000000' }, reference: null, metadata: null, failureCode: null, failureMessage: null, createdAt: now, updatedAt: now, version: 2 });
      attempts.push({ id: attemptId, transferId, attemptNo: 1, rail: 'ach', railReference: traceNumber, status: 'pending', failureCode: null, createdAt: now, updatedAt: now });
      entries.push({ attemptId, transferId, traceNumber, windowId: window.windowId, entryClass: 'PPD', amountMinor, status: 'queued', code: null, effectiveDate: null, fileId: null, refusal: null, createdAt: now, updatedAt: now });
    }
    await em.insertMany(Transfer, transfers);
    await em.insertMany(Attempt, attempts);
    await em.insertMany(AchEntry, entries);
  }
  await em.insert(AchWindow, { id: window.windowId, cutoffAt: new Date(window.cutoffAtMs), status: 'open', fileId: null, entryCount: n, createdAt: now, updatedAt: now });
  return window;
}

async function countBy(orm: MikroORM, table: string, where: string): Promise<Record<string, number>> {
  const rows = (await (orm.em.fork() as SqlEntityManager).getConnection().execute(`select status, count(*) as n from ${table} where ${where} group by status`)) as { status: string; n: number | string }[];
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function payloadBytes(e: HistoryEvent): number {
  const payloads = [
    ...(e.activityTaskCompletedEventAttributes?.result?.payloads ?? []),
    ...(e.activityTaskScheduledEventAttributes?.input?.payloads ?? []),
    ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
    ...(e.workflowExecutionContinuedAsNewEventAttributes?.input?.payloads ?? []),
    ...(e.signalExternalWorkflowExecutionInitiatedEventAttributes?.input?.payloads ?? []),
  ];
  return payloads.reduce((max, p) => Math.max(max, p.data?.length ?? 0), 0);
}

export async function runAchWindow(ctx: BenchContext, n: number, budgetMs: number, dbKind: 'sqlite' | 'mysql', undo: Set<() => Promise<void>>): Promise<AchWindowResult> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'railyard-bench-ach-'));
  let orm: MikroORM;
  let dropDb: (() => Promise<void>) | undefined;
  if (dbKind === 'mysql') {
    const mysql = await import('mysql2/promise');
    const name = `railyard_bench_ach_${randomUUID().slice(0, 8)}`;
    const admin = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
    await admin.query(`create database ${name}`);
    await admin.end();
    dropDb = async () => {
      const c = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
      await c.query(`drop database if exists ${name}`);
      await c.end();
    };
    undo.add(dropDb);
    orm = await openOrm({ databaseUrl: `mysql://root@127.0.0.1:3306/${name}`, dataDir: scratch });
  } else {
    orm = await openOrm({ dataDir: scratch });
  }
  // The simulator pays nothing during the run (its settlement a day away): only the files are measured.
  const bank = createBankSim({ settlementDelayMs: 86_400_000, hangMs: 2_000 });
  const server = await new Promise<Server>((resolve) => {
    const s = bank.app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const bankUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  try {
    await migrate(orm);
    const deps: AchWindowDeps = { orm, baseUrl: bankUrl, originator: ACH_ORIGINATOR, railTime: 'demo', demoWindowMs: WINDOW_MS, requestTimeoutMs: 30_000 };
    const { sendAchWindow, achWindowAnswers } = createAchWindowActivities(deps);
    // The payouts' workflows are not running: every answer's "not delivered" warning would be one line per entry.
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // A runtime already installed in this process keeps its logger.
    }
    const connection = await NativeConnection.connect({ address: ctx.stack.temporalAddress });
    const taskQueue = `bench-ach-window-${randomUUID().slice(0, 8)}`;
    worker = await Worker.create({
      connection,
      namespace: ctx.stack.temporal.options.namespace,
      taskQueue,
      workflowsPath: require.resolve('../../workflows/ach-batch'),
      interceptors: { workflowModules: workflowInterceptorModules() },
      dataConverter: ctx.stack.temporal.options.dataConverter,
      activities: { sendAchWindow, achWindowAnswers },
    });
    running = worker.run();
    const deadlineMs = Date.now() + budgetMs;

    const runCase = async (label: string, accountNumber: (i: number) => string, traceBase: number, windowsAgo: number): Promise<AchWindowCase> => {
      ctx.log(`ach window (${label}): writing ${n} queued entries`);
      const { windowId, cutoffAtMs } = await fillWindow(orm, deps, n, accountNumber, traceBase, windowsAgo);
      const workflowId = `ach-batch-${windowId}`;
      const startedMs = Date.now();
      const handle = await ctx.stack.temporal.workflow.start('achBatchWorkflow', { taskQueue, workflowId, args: [{ windowId, cutoffAtMs }] });
      ctx.log(`ach window (${label}): ${windowId} closed; its batch starts`);
      // Why an attempt of a step failed is not in the history (only its last attempt is): watched while it runs.
      const retriedBecause = new Set<string>();
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const d = await handle.describe().catch(() => undefined);
          for (const a of d?.raw.pendingActivities ?? []) if (a.lastFailure?.message) retriedBecause.add(`${a.activityType?.name}: ${a.lastFailure.message}`);
          await new Promise((r) => setTimeout(r, 1_000));
        }
      })();
      const result = await Promise.race([
        handle.result() as Promise<AchBatchResult>,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), Math.max(0, deadlineMs - Date.now()))),
      ]);
      watching = false;
      await watch;
      const seconds = (Date.now() - startedMs) / 1000;
      if (!result) await handle.terminate('the bench budget ran out').catch(() => undefined);
      // Every run, first to last: its length, its largest payload, whom it told.
      let runId: string | undefined = handle.firstExecutionRunId;
      const told = new Set<string>();
      const out = { runs: 0, maxHistoryEvents: 0, maxPayloadBytes: 0, signals: 0, sendSeconds: 0, sendAttempts: 0 };
      while (runId) {
        const events: HistoryEvent[] = (await ctx.stack.temporal.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
        out.runs++;
        out.maxHistoryEvents = Math.max(out.maxHistoryEvents, events.length);
        const scheduledAt = new Map<string, number>();
        for (const e of events) {
          out.maxPayloadBytes = Math.max(out.maxPayloadBytes, payloadBytes(e));
          const signal = e.signalExternalWorkflowExecutionInitiatedEventAttributes;
          if (signal?.workflowExecution?.workflowId) {
            out.signals++;
            told.add(signal.workflowExecution.workflowId);
          }
          const at = Number(e.eventTime?.seconds ?? 0) * 1000 + Math.round((e.eventTime?.nanos ?? 0) / 1e6);
          if (e.activityTaskStartedEventAttributes) {
            scheduledAt.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
            if (scheduledAt.size === 1) out.sendAttempts = e.activityTaskStartedEventAttributes.attempt ?? 1;
          }
          const done = e.activityTaskCompletedEventAttributes ?? e.activityTaskFailedEventAttributes ?? e.activityTaskTimedOutEventAttributes;
          if (done && out.runs === 1 && out.sendSeconds === 0 && scheduledAt.has(String(done.scheduledEventId))) out.sendSeconds = (at - scheduledAt.get(String(done.scheduledEventId))!) / 1000;
        }
        runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
      }
      const entryStatuses = await countBy(orm, 'ach_entries', `window_id = '${windowId}'`);
      const transferStatuses = await countBy(orm, 'transfers', `id in (select transfer_id from ach_entries where window_id = '${windowId}')`);
      ctx.log(`ach window (${label}): ${result?.outcome ?? 'did not finish'} in ${round(seconds, 1)} s, ${out.runs} runs, at most ${out.maxHistoryEvents} events and a ${out.maxPayloadBytes}-byte payload per run; ${told.size} payouts told`);
      return { entries: n, outcome: result?.outcome ?? 'did not finish', seconds: round(seconds, 1), sendSeconds: round(out.sendSeconds, 1), sendAttempts: out.sendAttempts, retriedBecause: [...retriedBecause], runs: out.runs, maxHistoryEvents: out.maxHistoryEvents, maxPayloadBytes: out.maxPayloadBytes, signals: out.signals, distinctTold: told.size, entryStatuses, transferStatuses };
    };

    const accepted = await runCase('accepted', (i) => `5${String(i).padStart(9, '0')}`, 0, 2);
    // Every entry to one account the bank refuses files for: every file of the window is refused whole.
    const refusedAccount = '4999999999';
    const rule = await fetch(`${bankUrl}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber: refusedAccount }, behavior: 'reject_file' }) });
    if (rule.status !== 201) throw new Error(`the simulator refused the reject_file rule: ${rule.status}`);
    const refused = await runCase('refused', () => refusedAccount, n, 4);

    // What each case had to do, or the run fails.
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => void (ok || problems.push(what));
    for (const [label, c] of [['accepted', accepted], ['refused', refused]] as const) {
      check(c.maxHistoryEvents < HISTORY_EVENTS_LIMIT, `${label}: a run of ${c.maxHistoryEvents} events`);
      check(c.maxPayloadBytes < PAYLOAD_BYTES_LIMIT, `${label}: a payload of ${c.maxPayloadBytes} bytes`);
    }
    check(accepted.outcome === 'sent' && accepted.entryStatuses.accepted === n && accepted.transferStatuses.submitted === n && accepted.signals === 0, `accepted window: ${accepted.outcome}, entries ${JSON.stringify(accepted.entryStatuses)}, transfers ${JSON.stringify(accepted.transferStatuses)}, ${accepted.signals} signals`);
    check(refused.outcome === 'file_rejected' && refused.entryStatuses.file_refused === n && refused.signals === n && refused.distinctTold === n, `refused window: ${refused.outcome}, entries ${JSON.stringify(refused.entryStatuses)}, ${refused.signals} signals to ${refused.distinctTold} payouts`);
    if (problems.length) ctx.failures.push(...problems.map((p) => `ach window of ${n}: ${p}`));
    return { entries: n, db: dbKind, accepted, refused };
  } finally {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    await orm!.close(true);
    if (dropDb) {
      await dropDb();
      undo.delete(dropDb);
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}
