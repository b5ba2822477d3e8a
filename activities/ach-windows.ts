/**
 * ACH entries queued per cut-off window and sent in the window's NACHA files: the only way ACH
 * payouts go out.
 *
 * The payout's submit step queues its entry: the entry row (the intent, keyed by the attempt) is
 * written into the window that is open at the activity's scheduled time on the Temporal server's
 * clock, and the window's batch workflow `ach-batch-<windowId>` is started if it is not running
 * (USE_EXISTING). Queuing and closing a window serialize on the window row: queuing is a
 * conditional `entry_count + 1 … where status = 'open'`, closing a conditional
 * `status = 'closed' … where status = 'open'`, so an entry is either in a file or moved to the
 * next window, never left behind.
 *
 * At the cut-off the batch workflow runs `sendAchWindow`: in the transaction that closes the
 * window, its files are planned and stored (ach_files) before any is sent: an entry that cannot
 * be written (an amount beyond the 10-digit field, say) is refused on its own, the others split
 * into files whose counts and totals fit NACHA's fields, each file with its own identity (creation
 * date and time, File ID Modifier). A send after a lost answer posts the same stored bytes: the
 * bank de-duplicates whole files by that identity, so a file is paid once however often it is
 * sent. Per-entry answers land on the entry rows, and the batch workflow hands each to its
 * payout's workflow (signal `achFileAnswer`).
 *
 * While its window is open a payout's entry can be withdrawn (`withdrawAchEntry`, a cancel): the
 * withdrawal is a conditional `entry_count - 1 … where status = 'open'` on the same window row, so
 * it and the closing serialize and an entry is either in a file or canceled, never both. After a
 * file the bank never answered, `requeueAchEntry` (an operator's retry) sends that same file again
 * and never moves the entry while the file's fate is unknown; only after the bank refused the
 * file whole does the entry move, under the same trace number, into a later window.
 *
 * Errors: the bank down or silent is retryable (thrown); a file the bank refuses whole marks its
 * entries `file_refused` (the code column holds only the bank's R-codes); an entry Railyard cannot
 * write is `refused` with the reason, final.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { raw, type EntityManager, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { achFileWindow, achWindowLabel, effectiveDateAt, type AchFileWindow } from '../core/ach-windows';
import { AchEntry, AchFile, AchWindow, Attempt, Transfer, type AchEntryRow, type AchFileRow, type AchWindowRow, type TransferRow } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { moveStatuses, noteStatus } from '../transfers/status';
import { BankUnavailableError, bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../rails/bank-http';
import { inquireAchEntry, type AchOriginator } from '../rails/ach/bank-client';
import { emitNacha, entryProblem } from '../rails/ach/nacha';
import { buildWindowFile, NACHA_FILE_LIMITS, planWindowFiles, type WindowEntry } from '../rails/ach/window-file';
import type { AchFileAnswer } from '../workflows/ach-batch';

export interface AchWindowDeps {
  orm: MikroORM;
  baseUrl: string;
  originator: AchOriginator;
  railTime: 'demo' | 'real';
  /** Under demo, a window closes every this many ms. */
  demoWindowMs: number;
  requestTimeoutMs?: number;
}

/** The batch workflow's ID for a window. */
export const achBatchWorkflowId = (windowId: string) => `ach-batch-${windowId}`;

/** Windows an entry may move on to when the one it was meant for has just closed. */
const MAX_WINDOW_HOPS = 3;

function affected(result: unknown): number {
  return (result as { affectedRows: number }).affectedRows;
}

/** A window as the payout sees it: where its entry waits, and the window's name for people. */
export type QueuedWindow = AchFileWindow & { label: string };

/**
 * Inside a transaction: takes a place in the first open window from `window` on (the window row is
 * created once, "already exists" is success); a window that closed meanwhile passes the entry on to
 * the next one.
 */
async function takePlace(tx: SqlEntityManager, deps: AchWindowDeps, window: AchFileWindow, traceNumber: string): Promise<AchFileWindow> {
  for (let hop = 0; hop < MAX_WINDOW_HOPS; hop++) {
    const now = new Date();
    await tx.createQueryBuilder(AchWindow).insert({ id: window.windowId, cutoffAt: new Date(window.cutoffAtMs), status: 'open', fileId: null, entryCount: 0, createdAt: now, updatedAt: now }).onConflict('id').ignore().execute('run');
    const taken = affected(await tx.createQueryBuilder(AchWindow).update({ entryCount: raw('entry_count + 1'), updatedAt: now }).where({ id: window.windowId, status: 'open' }).execute('run'));
    if (taken === 1) return window;
    // Closed while we were on our way: the entry goes in the next window's file.
    window = achFileWindow(window.cutoffAtMs, deps.railTime, deps.demoWindowMs);
  }
  throw new Error(`no open ACH window for trace ${traceNumber} after ${MAX_WINDOW_HOPS} tries`);
}

/** Inside a transaction: the transfer's event saying where its entry waits (its status unchanged). */
async function queuedEvent(tx: SqlEntityManager, transferId: string, reason: string): Promise<void> {
  await noteStatus(tx, await tx.findOneOrFail(Transfer, { id: transferId }), reason);
}

/** Inside a transaction: the entry for `traceNumber` in the first open window from `atMs` (exported for tests). */
export async function queueEntry(tx: SqlEntityManager, deps: AchWindowDeps, traceNumber: string, atMs: number): Promise<QueuedWindow> {
  // The newest attempt under the trace number: one of ten million entries ago may share it.
  const [attempt] = await tx.find(Attempt, { rail: 'ach', railReference: traceNumber }, { orderBy: { createdAt: 'desc' }, limit: 1 });
  if (!attempt) throw ApplicationFailure.nonRetryable(`no ACH attempt with trace ${traceNumber}`, 'not_found');
  const existing = await tx.findOne(AchEntry, { attemptId: attempt.id });
  if (existing) {
    const w = await tx.findOneOrFail(AchWindow, { id: existing.windowId });
    const window = { windowId: w.id, cutoffAtMs: w.cutoffAt.getTime() };
    return { ...window, label: achWindowLabel(window, deps.railTime) };
  }
  const transfer = await tx.findOneOrFail(Transfer, { id: attempt.transferId });
  const window = await takePlace(tx, deps, achFileWindow(atMs, deps.railTime, deps.demoWindowMs), traceNumber);
  const now = new Date();
  const row: AchEntryRow = {
    attemptId: attempt.id,
    transferId: transfer.id,
    traceNumber,
    windowId: window.windowId,
    entryClass: 'PPD',
    amountMinor: transfer.targetAmountMinor,
    status: 'queued',
    code: null,
    effectiveDate: null,
    fileId: null,
    refusal: null,
    createdAt: now,
    updatedAt: now,
  };
  await tx.insert(AchEntry, row);
  const label = achWindowLabel(window, deps.railTime);
  await queuedEvent(tx, transfer.id, `queued for the ${label} window (${window.windowId}), trace ${traceNumber}`);
  return { ...window, label };
}

/**
 * Inside a transaction: withdraws a queued entry from its window if the window is still open
 * (exported for tests). The conditional update on the window row is what the closing also takes,
 * so a withdrawn entry is never in the file, and an entry in the file is never withdrawn.
 */
export async function withdrawEntry(tx: SqlEntityManager, traceNumber: string): Promise<{ withdrawn: boolean; windowId: string | null; status: string | null }> {
  const [entry] = await tx.find(AchEntry, { traceNumber }, { orderBy: { createdAt: 'desc' }, limit: 1 });
  if (!entry) return { withdrawn: true, windowId: null, status: null };
  if (entry.status === 'canceled') return { withdrawn: true, windowId: entry.windowId, status: entry.status };
  if (entry.status !== 'queued') return { withdrawn: false, windowId: entry.windowId, status: entry.status };
  const now = new Date();
  const left = affected(await tx.createQueryBuilder(AchWindow).update({ entryCount: raw('entry_count - 1'), updatedAt: now }).where({ id: entry.windowId, status: 'open' }).execute('run'));
  if (left !== 1) return { withdrawn: false, windowId: entry.windowId, status: 'in_file' };
  entry.status = 'canceled';
  entry.updatedAt = now;
  return { withdrawn: true, windowId: entry.windowId, status: 'canceled' };
}

/**
 * Inside a transaction: moves an entry whose file the bank refused whole into the first open
 * window after both `atMs` and its old cut-off, under the same trace number (exported for tests).
 */
export async function requeueEntry(tx: SqlEntityManager, deps: AchWindowDeps, traceNumber: string, atMs: number): Promise<QueuedWindow> {
  const entry = await entryByTrace(tx, traceNumber);
  const old = await tx.findOneOrFail(AchWindow, { id: entry.windowId });
  if (entry.status === 'queued' && old.status === 'open') {
    const label = achWindowLabel({ windowId: old.id, cutoffAtMs: old.cutoffAt.getTime() }, deps.railTime);
    return { windowId: old.id, cutoffAtMs: old.cutoffAt.getTime(), label };
  }
  // Only a file the bank refused whole took nothing; an entry in a file without an answer stays in it.
  if (entry.status !== 'file_refused') {
    throw ApplicationFailure.nonRetryable(`entry ${traceNumber} is ${entry.status}${entry.code ? ` (${entry.code})` : ''}; it cannot be queued again`, 'invalid_transition');
  }
  const window = await takePlace(tx, deps, achFileWindow(Math.max(atMs, old.cutoffAt.getTime()), deps.railTime, deps.demoWindowMs), traceNumber);
  entry.windowId = window.windowId;
  entry.status = 'queued';
  entry.code = null;
  entry.effectiveDate = null;
  entry.fileId = null;
  entry.updatedAt = new Date();
  const label = achWindowLabel(window, deps.railTime);
  await queuedEvent(tx, entry.transferId, `re-queued for the ${label} window (${window.windowId}) under the same trace ${traceNumber}; the file of ${old.id} did not carry it`);
  return { ...window, label };
}

/** Starts the window's batch workflow unless it is running (USE_EXISTING). */
async function ensureBatch(window: AchFileWindow): Promise<void> {
  const ctx = Context.current();
  await ctx.client.workflow.start('achBatchWorkflow', {
    workflowId: achBatchWorkflowId(window.windowId),
    taskQueue: ctx.info.taskQueue,
    args: [{ windowId: window.windowId, cutoffAtMs: window.cutoffAtMs }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `ACH file for window ${window.windowId}`,
  });
}

/** What the batch workflow tells one payout, read a page at a time (`achWindowAnswers`). */
export type AchWindowAnswer = AchFileAnswer & { transferId: string };

/** One entry's answer from its window's files, as the batch workflow hands it to the payout. */
export interface AchEntryResult {
  transferId: string;
  traceNumber: string;
  status: 'accepted' | 'rejected';
  code: string | null;
  /** The file that carried it (null: refused before any file); absent in results recorded before windows had several files. */
  fileId?: string | null;
  /** What the payout is told: the bank took it, rejected it, refused its whole file; or it was never written. */
  outcome?: 'accepted' | 'rejected' | 'file_rejected';
  message?: string;
}

/**
 * The ACH rail in per-window mode: `submit` queues (inside the payout's submit activity) and
 * answers queued; `inquire` answers pending until the entry's file went, then asks the bank.
 */
export function createWindowedAchRail(deps: AchWindowDeps): PayoutRail {
  const direct = { inquire: (reference: string) => inquireAchEntry(deps.baseUrl, reference, deps.requestTimeoutMs) };
  return {
    async submit(p): Promise<SubmitAnswer> {
      // The payout's clock, not this machine's: on a test server that skips time, windows follow it
      // (the workflow's time when it submits as a local step; the server's, for a remote one).
      const atMs = p.atMs ?? Context.current().info.currentAttemptScheduledTimestampMs;
      const window = await inTransaction(deps.orm.em.fork(), (tx) => queueEntry(tx, deps, p.reference, atMs));
      await ensureBatch(window);
      return { kind: 'queued', windowId: window.windowId, cutoffAtMs: window.cutoffAtMs, label: window.label };
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const [entry] = await deps.orm.em.fork().find(AchEntry, { traceNumber: reference }, { orderBy: { createdAt: 'desc' }, limit: 1 });
      if (entry && (entry.status === 'queued' || entry.status === 'in_file')) return { status: 'pending', code: null };
      // A refused file took nothing: the payout waits for an operator, the payment is not rejected.
      if (entry?.status === 'file_refused') return { status: 'pending', code: null };
      return direct.inquire(reference);
    },
  };
}

export function createAchWindowActivities(deps: AchWindowDeps | undefined) {
  const configured = (): AchWindowDeps => {
    if (!deps) throw ApplicationFailure.nonRetryable('ACH file windows are not configured on this worker', 'ach_windows_not_configured');
    return deps;
  };

  return {
    /**
     * Sends the window's files and answers each entry's result. Key: the window ID. The first run
     * closes the window and plans its files (entries that cannot be written are refused on their
     * own, the rest split into files that fit NACHA's fields), storing each file's bytes before any
     * is sent; every run then posts the files not yet answered, those same bytes, so a retry after
     * a lost answer is a resend the bank recognises as the same file. A window already sent
     * answers its entries' recorded results.
     */
    async sendAchWindow(input: { windowId: string; summaryOnly?: boolean }): Promise<AchWindowResult> {
      const deps = configured();
      const planned = await inTransaction(deps.orm.em.fork(), async (tx) => {
        // Closing first: a queuing or withdrawing transaction holding the row finishes before this reads the entries.
        await tx.createQueryBuilder(AchWindow).update({ status: 'closed', updatedAt: new Date() }).where({ id: input.windowId, status: 'open' }).execute('run');
        const w = await tx.findOneOrFail(AchWindow, { id: input.windowId }, { refresh: true });
        if (w.status !== 'sent') await planFiles(tx, deps, w);
        return w.status;
      });
      if (planned !== 'sent') {
        Context.current().heartbeat({ planned: input.windowId });
        const files = await deps.orm.em.fork().find(AchFile, { windowId: input.windowId, status: 'built' }, { orderBy: { seq: 'asc' } });
        for (const file of files) {
          await sendFile(deps, file, unavailableFailure);
          Context.current().heartbeat({ sent: file.id });
        }
        await inTransaction(deps.orm.em.fork(), async (tx) => {
          await tx.createQueryBuilder(AchWindow).update({ status: 'sent', updatedAt: new Date() }).where({ id: input.windowId }).execute('run');
        });
      }
      return input.summaryOnly ? windowSummary(deps, input.windowId) : windowResults(deps, input.windowId);
    },

    /**
     * One page of what the batch workflow tells payouts after its window went out: the entries not
     * accepted (rejected, in a refused file, or never written), or, when the bank never confirmed
     * the files (`unconfirmed`), the entries still waiting in them. At most `limit`, after the
     * entry `after` (attempt IDs, ascending); `next` is where the following page starts, null at the
     * end. Read-only: the answers are recorded on the entry rows, a page is only their reading.
     */
    async achWindowAnswers(input: { windowId: string; after: string | null; limit: number; unconfirmed?: { why: string } }): Promise<{ answers: AchWindowAnswer[]; next: string | null }> {
      const em = configured().orm.em.fork();
      const w = await em.findOneOrFail(AchWindow, { id: input.windowId });
      const statuses: AchEntryRow['status'][] = input.unconfirmed ? ['in_file'] : ['rejected', 'file_refused', 'refused'];
      const list = await em.find(
        AchEntry,
        { windowId: w.id, status: { $in: statuses }, ...(input.after ? { attemptId: { $gt: input.after } } : {}) },
        { orderBy: { attemptId: 'asc' }, limit: input.limit },
      );
      const answers = list.map((e): AchWindowAnswer => {
        const fileId = e.fileId ?? w.fileId;
        if (input.unconfirmed) {
          return { transferId: e.transferId, windowId: w.id, fileId, traceNumber: e.traceNumber, outcome: 'file_unconfirmed', code: null, message: `the bank did not confirm file ${fileId} of window ${w.id} within its retry budget (${input.unconfirmed.why})` };
        }
        const r = entryResult(e, fileId);
        return { transferId: e.transferId, windowId: w.id, fileId: r.fileId ?? null, traceNumber: e.traceNumber, outcome: r.outcome!, code: r.code, message: r.message! };
      });
      return { answers, next: list.length === input.limit ? list[list.length - 1].attemptId : null };
    },

    /** The entries still waiting on the window's files (in_file): whom the batch workflow tells when it gives up. Read-only. */
    async achWindowEntries(input: { windowId: string }): Promise<{ fileId: string | null; entries: { transferId: string; traceNumber: string; fileId?: string | null }[] }> {
      const em = configured().orm.em.fork();
      const w = await em.findOneOrFail(AchWindow, { id: input.windowId });
      const list = await em.find(AchEntry, { windowId: w.id, status: 'in_file' }, { orderBy: { traceNumber: 'asc' } });
      return { fileId: w.fileId, entries: list.map((e) => ({ transferId: e.transferId, traceNumber: e.traceNumber, fileId: e.fileId ?? w.fileId })) };
    },

    /** Where an entry stands, from the database alone: the payout's fallback when no answer came. Read-only. */
    async achEntryState(input: { traceNumber: string }): Promise<{ windowId: string; status: AchEntryRow['status']; code: string | null; fileId: string | null }> {
      const em = configured().orm.em.fork();
      const e = await entryByTrace(em, input.traceNumber);
      const w = await em.findOneOrFail(AchWindow, { id: e.windowId });
      return { windowId: e.windowId, status: e.status, code: e.code, fileId: e.fileId ?? w.fileId };
    },

    /**
     * A cancel while queued: withdraws the entry if its window is still open. Key: the trace number;
     * a withdrawn entry withdrawn again is success. `withdrawn: false` means the window closed first
     * and the entry is in its file.
     */
    async withdrawAchEntry(input: { traceNumber: string }): Promise<{ withdrawn: boolean; windowId: string | null }> {
      const { withdrawn, windowId } = await inTransaction(configured().orm.em.fork(), (tx) => withdrawEntry(tx, input.traceNumber));
      return { withdrawn, windowId };
    },

    /**
     * An operator's retry after the window's file was refused or never confirmed. While the file's
     * fate is unknown (the entry still in_file) the entry never moves: its file is sent again,
     * byte for byte, and the bank's answer to that file decides. Once the bank refused the file
     * whole, nothing of it was taken: the entry goes into a later window under the SAME trace
     * number. Key: the trace number. Retryable: the bank unreachable. Final: an entry Railyard
     * could not write answers rejected (`ach_entry_unwritable`); nothing of it was sent.
     */
    async requeueAchEntry(input: { traceNumber: string }): Promise<{ outcome: 'queued'; windowId: string; cutoffAtMs: number; label: string } | { outcome: 'accepted' } | { outcome: 'rejected'; code: string }> {
      const deps = configured();
      let entry = await entryByTrace(deps.orm.em.fork(), input.traceNumber);
      if (entry.status === 'in_file') {
        const file = await inTransaction(deps.orm.em.fork(), async (tx) => {
          const w = await tx.findOneOrFail(AchWindow, { id: entry.windowId });
          await planFiles(tx, deps, w);
          const e = await entryByTrace(tx, input.traceNumber);
          return e.fileId ? tx.findOneOrFail(AchFile, { id: e.fileId }) : null;
        });
        if (file?.status === 'built') await sendFile(deps, file, (err) => ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: err.retryAfterMs, cause: err }));
        entry = await entryByTrace(deps.orm.em.fork(), input.traceNumber);
      }
      if (entry.status === 'accepted') return { outcome: 'accepted' };
      if (entry.status === 'rejected') return { outcome: 'rejected', code: entry.code ?? 'rejected' };
      if (entry.status === 'refused') return { outcome: 'rejected', code: UNWRITABLE };
      if (entry.status === 'in_file') throw new Error(`entry ${input.traceNumber} is still in a file without an answer`);
      const atMs = Context.current().info.currentAttemptScheduledTimestampMs;
      const window = await inTransaction(deps.orm.em.fork(), (tx) => requeueEntry(tx, deps, input.traceNumber, atMs));
      await ensureBatch(window);
      return { outcome: 'queued', ...window };
    },
  };
}

/** The failure code of an entry Railyard could not write into a NACHA file: nothing was sent. */
const UNWRITABLE = 'ach_entry_unwritable';

/** Entries in one file at most: far inside every NACHA count field, and a file of under a megabyte. */
export const ACH_FILE_ENTRIES_MAX = 10_000;

/** File ID Modifiers in the order they are taken for files created in the same minute. */
const FILE_ID_MODIFIERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** Minutes past the cut-off a file's creation time may move to find a free File ID Modifier. */
const CREATION_MINUTES_MAX = 60;

/** A window's sending, as the batch workflow hands it on: its counts, and (before paging) one result per entry. */
export interface AchWindowResult {
  /** The window's first file. */
  fileId: string | null;
  entries: number;
  accepted: number;
  rejected: number;
  /** Set when the bank refused every file of the window. */
  fileRejected: string | null;
  /** One per entry; empty when asked for the summary only (the answers are then read a page at a time). */
  results: AchEntryResult[];
}

/** The newest entry with this trace number (a trace number comes round only after ten million entries). */
async function entryByTrace(em: EntityManager, traceNumber: string): Promise<AchEntryRow> {
  const [entry] = await em.find(AchEntry, { traceNumber }, { orderBy: { createdAt: 'desc' }, limit: 1 });
  if (!entry) throw ApplicationFailure.nonRetryable(`no ACH entry with trace ${traceNumber}`, 'not_found');
  return entry;
}

const unavailableFailure = (err: BankUnavailableError) => {
  // A whole window waits on this file: the bank's Retry-After is honoured, but never shortens
  // ACH_FILE_SEND's own backoff (2 s doubling to 2 min), or a bank answering "retry after 1 s"
  // would spend the two-hour budget's attempts in a minute.
  const backoffMs = Math.min(2_000 * 2 ** (Context.current().info.attempt - 1), 120_000);
  return ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: Math.max(err.retryAfterMs ?? 0, backoffMs), cause: err });
};

/**
 * Inside a transaction: plans the window's files once. The entries still queued get their
 * effective dates; an entry that cannot be written is refused on its own (`refused`, the reason
 * kept); the others are split into files within NACHA's field widths and ACH_FILE_ENTRIES_MAX,
 * each given a free identity (creation date and time, File ID Modifier) and stored as built.
 * A window planned before files were stored (its fileId set, entries in_file) gets that one file
 * back, rebuilt from its rows under the identity it was first sent with.
 */
async function planFiles(tx: SqlEntityManager, deps: AchWindowDeps, w: AchWindowRow): Promise<void> {
  if ((await tx.count(AchFile, { windowId: w.id })) > 0) return;
  const list = await tx.find(AchEntry, { windowId: w.id, status: { $in: ['queued', 'in_file'] } }, { orderBy: { traceNumber: 'asc', createdAt: 'asc' } });
  const transfers = new Map<string, TransferRow>();
  for (let at = 0; at < list.length; at += RECORD_CHUNK) {
    for (const t of await tx.find(Transfer, { id: { $in: list.slice(at, at + RECORD_CHUNK).map((e) => e.transferId) } })) transfers.set(t.id, t);
  }
  const now = new Date();
  const candidates: { row: AchEntryRow; entry: WindowEntry; problem: string | null }[] = [];
  for (const row of list) {
    row.effectiveDate ??= effectiveDateAt(w.cutoffAt.getTime(), row.amountMinor);
    row.updatedAt = now;
    const b = transfers.get(row.transferId)!.beneficiary;
    const entry: WindowEntry = {
      entryClass: row.entryClass,
      effectiveDate: row.effectiveDate,
      transactionCode: '22',
      routingNumber: b.routingNumber ?? '',
      accountNumber: b.accountNumber ?? '',
      amountMinor: row.amountMinor,
      individualId: row.transferId.slice(-15),
      individualName: b.name ?? '',
      traceNumber: row.traceNumber,
    };
    candidates.push({ row, entry, problem: entryProblem(entry) });
  }
  // A trace number comes round only past every live entry (activities/transfers.ts); should two
  // meet in one window all the same, the later one is refused on its own rather than break the file.
  const seen = new Set<string>();
  for (const c of candidates) {
    if (seen.has(c.entry.traceNumber)) c.problem ??= `trace number ${c.entry.traceNumber} is already in this window`;
    seen.add(c.entry.traceNumber);
  }
  // A file that could not be built was never sent: such a window is planned afresh.
  const legacy = w.fileId !== null && candidates.every((c) => c.problem === null);
  const writable: { row: AchEntryRow; entry: WindowEntry }[] = [];
  for (const { row, entry, problem } of candidates) {
    if (problem) Object.assign(row, { status: 'refused', refusal: problem.slice(0, 200) });
    else writable.push({ row, entry });
  }
  if (writable.length === 0) return;
  const byTrace = new Map(writable.map((x) => [x.entry.traceNumber, x.row]));
  let plan: WindowEntry[][];
  try {
    plan = legacy ? [writable.map((x) => x.entry)] : planWindowFiles(writable.map((x) => x.entry), { ...NACHA_FILE_LIMITS, fileEntriesMax: ACH_FILE_ENTRIES_MAX });
  } catch (err) {
    // Every entry was checked above: a plan that still fails is a bug, and retrying cannot mend it.
    throw ApplicationFailure.nonRetryable(`window ${w.id}: ${(err as Error).message}`, 'ach_file_unbuildable');
  }
  const cutoffMinuteMs = Math.floor((w.cutoffAt.getTime() - 1) / 60_000) * 60_000;
  for (const [i, entries] of plan.entries()) {
    const identity = legacy ? { createdAt: new Date(w.cutoffAt.getTime() - 1), idModifier: w.fileId!.slice(-1) } : await freeIdentity(tx, cutoffMinuteMs);
    let content: string;
    try {
      content = emitNacha(buildWindowFile({ ...deps.originator, entryDescription: 'PAYOUT', createdAt: identity.createdAt, fileIdModifier: identity.idModifier, entries }));
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`window ${w.id}: ${(err as Error).message}`, 'ach_file_unbuildable');
    }
    const iso = identity.createdAt.toISOString();
    const id = legacy ? w.fileId! : `${w.id}-${i + 1}`;
    await tx.insert(AchFile, {
      id,
      windowId: w.id,
      seq: i + 1,
      creationDate: iso.slice(2, 10).replace(/-/g, ''),
      creationTime: iso.slice(11, 16).replace(':', ''),
      idModifier: identity.idModifier,
      status: 'built',
      refusal: null,
      entryCount: entries.length,
      totalMinor: entries.reduce((sum, e) => sum + e.amountMinor, 0),
      content,
      createdAt: now,
      updatedAt: now,
    });
    for (const e of entries) {
      const row = byTrace.get(e.traceNumber)!;
      row.status = 'in_file';
      row.fileId = id;
    }
    if (i === 0) w.fileId = id;
  }
  w.updatedAt = now;
}

/**
 * Inside a transaction: the first free file identity from the cut-off's minute on: the File ID
 * Modifier tells apart files of the same origin created in the same minute; when all 36 are
 * taken, the creation time moves on a minute (bounded).
 */
async function freeIdentity(tx: SqlEntityManager, fromMinuteMs: number): Promise<{ createdAt: Date; idModifier: string }> {
  for (let minute = 0; minute < CREATION_MINUTES_MAX; minute++) {
    const createdAt = new Date(fromMinuteMs + minute * 60_000);
    const iso = createdAt.toISOString();
    const taken = new Set((await tx.find(AchFile, { creationDate: iso.slice(2, 10).replace(/-/g, ''), creationTime: iso.slice(11, 16).replace(':', '') })).map((f) => f.idModifier));
    const free = [...FILE_ID_MODIFIERS].find((m) => !taken.has(m));
    if (free) return { createdAt, idModifier: free };
  }
  throw ApplicationFailure.nonRetryable(`no free File ID Modifier within ${CREATION_MINUTES_MAX} minutes of ${new Date(fromMinuteMs).toISOString()}`, 'ach_file_ids_exhausted');
}

/**
 * Posts one stored file, its bytes as stored, and records the bank's answer on the file and its
 * entries. Throws `unavailable(err)` when the bank cannot be reached or stays silent: the file
 * stays built, and the next send posts the same bytes.
 */
async function sendFile(deps: AchWindowDeps, file: AchFileRow, unavailable: (err: BankUnavailableError) => Error): Promise<void> {
  let res: Response;
  try {
    res = await bankFetch(deps.baseUrl, '/ach/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: file.content }, deps.requestTimeoutMs ?? 10_000);
  } catch (err) {
    if (err instanceof BankUnavailableError) throw unavailable(err);
    throw err;
  }
  const body = (await res.json()) as { entries?: { reference: string; status: 'accepted' | 'rejected'; code: string | null }[]; error?: { message: string } };
  if (res.status === 400) {
    // The bank refused the file as a whole: none of its entries was taken.
    const refusal = `the bank refused file ${file.id}: ${body.error?.message ?? 'no reason given'}`.slice(0, 500);
    await recordFile(deps, file.id, 'refused', refusal, []);
    return;
  }
  if (res.status !== 202 || !body.entries || body.entries.length !== file.entryCount) throw new Error(`unexpected bank answer ${res.status} to file ${file.id}`);
  await recordFile(deps, file.id, 'accepted', null, body.entries);
}

/**
 * Records a file's answer: each entry's (accepted or rejected), or the whole file refused. An
 * accepted entry's attempt and transfer are recorded `submitted` in the same transaction, for the
 * whole file at once: the payout is not told (it hears the bank's settlement next; SPEC §8's
 * budget has no room for a signal per entry), and what the API shows is true as the file lands.
 */
async function recordFile(deps: AchWindowDeps, fileId: string, status: 'accepted' | 'refused', refusal: string | null, answers: { reference: string; status: 'accepted' | 'rejected'; code: string | null }[]): Promise<void> {
  await inTransaction(deps.orm.em.fork(), async (tx) => {
    const now = new Date();
    // The file's answer is recorded once: a send that timed out may still be recording it beside its retry.
    const claimed = affected(await tx.createQueryBuilder(AchFile).update({ status, refusal, updatedAt: now }).where({ id: fileId, status: 'built' }).execute('run'));
    if (claimed === 0) return;
    const file = await tx.findOneOrFail(AchFile, { id: fileId });
    const entries = new Map((await tx.find(AchEntry, { fileId, status: 'in_file' })).map((e) => [e.traceNumber, e]));
    const accepted: AchEntryRow[] = [];
    if (status === 'refused') {
      for (const e of entries.values()) Object.assign(e, { status: 'file_refused', code: null, updatedAt: now });
    } else {
      for (const a of answers) {
        const e = entries.get(a.reference);
        if (!e) throw new Error(`the bank answered trace ${a.reference}, which is not in file ${fileId}`);
        Object.assign(e, { status: a.status, code: a.code, updatedAt: now });
        if (a.status === 'accepted') accepted.push(e);
      }
    }
    await tx.flush();
    await recordAccepted(tx, deps.railTime, file, accepted, now);
    if ((await tx.count(AchFile, { windowId: file.windowId, status: 'built' })) === 0) {
      await tx.createQueryBuilder(AchWindow).update({ status: 'sent', updatedAt: now }).where({ id: file.windowId }).execute('run');
    }
  });
}

/** Rows updated per statement when a file's answer is recorded: bounded IN lists. */
const RECORD_CHUNK = 500;

/**
 * The accepted entries' attempts and transfers: submitted, as the payout itself would record them,
 * a chunk of rows per statement (a file holds up to ACH_FILE_ENTRIES_MAX entries).
 */
async function recordAccepted(tx: SqlEntityManager, railTime: 'demo' | 'real', file: AchFileRow, accepted: AchEntryRow[], now: Date): Promise<void> {
  if (accepted.length === 0) return;
  const w = await tx.findOneOrFail(AchWindow, { id: file.windowId });
  const label = achWindowLabel({ windowId: w.id, cutoffAtMs: w.cutoffAt.getTime() }, railTime);
  for (let at = 0; at < accepted.length; at += RECORD_CHUNK) {
    const attemptIds = accepted.slice(at, at + RECORD_CHUNK).map((e) => e.attemptId);
    await tx.createQueryBuilder(Attempt).update({ status: 'submitted', updatedAt: now }).where({ id: { $in: attemptIds }, status: { $in: ['pending', 'unknown'] } }).execute('run');
  }
  // A payout that moved on meanwhile (parked, then retried) records its own status when it hears.
  const trace = new Map(accepted.map((e) => [e.transferId, e.traceNumber]));
  await moveStatuses(tx, [...trace.keys()], ['funds_held', 'fx_locked'], 'submitted', (id) => `in file ${file.id} of the ${label} window, accepted by the bank, trace ${trace.get(id)}`);
}

/**
 * What every payout in a refused file is told. The bank's own words stay on the file row
 * (ach_files.refusal, for operators): they may speak of other clients' entries in the same file.
 */
const fileRefused = (fileId: string | null) => `the bank refused file ${fileId} whole (its reason is recorded on the file, for operators)`;

/** An entry's answer as recorded on its row (accepted, rejected, file_refused or refused). */
function entryResult(e: AchEntryRow, fileId: string | null): AchEntryResult {
  const base = { transferId: e.transferId, traceNumber: e.traceNumber, fileId };
  if (e.status === 'accepted') return { ...base, status: 'accepted', outcome: 'accepted', code: null, message: `accepted by the bank in file ${fileId}` };
  if (e.status === 'rejected') return { ...base, status: 'rejected', outcome: 'rejected', code: e.code, message: `rejected by the bank with ${e.code}` };
  if (e.status === 'refused') return { ...base, fileId: null, status: 'rejected', outcome: 'rejected', code: UNWRITABLE, message: `not sent: the entry cannot be written into a NACHA file (${e.refusal})` };
  return { ...base, status: 'rejected', outcome: 'file_rejected', code: null, message: fileRefused(fileId) };
}

/** The window's first file, and the refusal every payout is told when the bank refused all its files. */
async function windowFiles(em: EntityManager, windowId: string): Promise<{ w: AchWindowRow; fileRejected: string | null }> {
  const w = await em.findOneOrFail(AchWindow, { id: windowId });
  const sentFiles = await em.find(AchFile, { windowId }, { orderBy: { seq: 'asc' } });
  const fileRejected = sentFiles.length > 0 && sentFiles.every((f) => f.status === 'refused') ? fileRefused(sentFiles[0].id) : null;
  return { w, fileRejected };
}

/** Each entry's result in the window, as recorded (the batch workflow before ACH_ANSWERS_PAGED_PATCH). */
async function windowResults(deps: AchWindowDeps, windowId: string): Promise<AchWindowResult> {
  const em = deps.orm.em.fork();
  const { w, fileRejected } = await windowFiles(em, windowId);
  const list = await em.find(AchEntry, { windowId, status: { $in: ['accepted', 'rejected', 'file_refused', 'refused'] } }, { orderBy: { traceNumber: 'asc' } });
  const results = list.map((e) => entryResult(e, e.fileId ?? w.fileId));
  const rejected = results.filter((r) => r.status === 'rejected').length;
  return { fileId: w.fileId, entries: results.length, accepted: results.length - rejected, rejected, fileRejected, results };
}

/** The window's counts without a row per entry: what a window of any size hands back (its answers are paged). */
async function windowSummary(deps: AchWindowDeps, windowId: string): Promise<AchWindowResult> {
  const em = deps.orm.em.fork();
  const { w, fileRejected } = await windowFiles(em, windowId);
  const accepted = await em.count(AchEntry, { windowId, status: 'accepted' });
  const rejected = await em.count(AchEntry, { windowId, status: { $in: ['rejected', 'file_refused', 'refused'] } });
  return { fileId: w.fileId, entries: accepted + rejected, accepted, rejected, fileRejected, results: [] };
}
