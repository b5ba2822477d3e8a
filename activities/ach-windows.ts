/**
 * ACH entries queued per cut-off window and sent as one NACHA file per window: the only way ACH
 * payouts go out.
 *
 * The payout's submit step queues its entry: the entry row (the intent, keyed by the attempt and
 * unique on its trace number) is written into the window that is open at the activity's scheduled
 * time on the Temporal server's clock, and the window's batch workflow `ach-batch-<windowId>` is
 * started if it is not running (USE_EXISTING). Queuing and closing a window serialize on the
 * window row: queuing is a conditional `entry_count + 1 … where status = 'open'`, closing a
 * conditional `status = 'closed' … where status = 'open'`, so an entry is either in the file or
 * moved to the next window, never left behind.
 *
 * At the cut-off the batch workflow runs `sendAchWindow` once: the file ID is fixed before the
 * file is sent; a retry after a lost answer asks the bank for the entries' trace numbers first
 * and resends only when the bank has none of them (the bank dedupes by trace number anyway).
 * Per-entry answers land on the entry rows, and the batch workflow hands each to its payout's
 * workflow (signal `achFileAnswer`).
 *
 * While its window is open a payout's entry can be withdrawn (`withdrawAchEntry`, a cancel): the
 * withdrawal is a conditional `entry_count - 1 … where status = 'open'` on the same window row, so
 * it and the closing serialize and an entry is either in the file or canceled, never both. After a
 * refused or unconfirmed file, `requeueAchEntry` (an operator's retry) moves the entry, under the
 * same trace number, into a later window — after asking the bank by trace number when the file's
 * fate is unknown.
 *
 * Errors: the bank down or silent is retryable (thrown); a file the bank refuses whole marks its
 * entries `file_refused` (the code column holds only the bank's R-codes); a file only partly known
 * to the bank is for an operator.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { raw, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { achFileWindow, achWindowLabel, effectiveDateAt, type AchFileWindow } from '../core/ach-windows';
import { newId } from '../core/ids';
import { AchEntry, AchWindow, Attempt, Transfer, TransferEvent, type AchEntryRow } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { BankUnavailableError, bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../rails/bank-http';
import { inquireAchEntry, type AchOriginator } from '../rails/ach/bank-client';
import { emitNacha } from '../rails/ach/nacha';
import { buildWindowFile } from '../rails/ach/window-file';

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

const FILE_ID_MODIFIERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function fileIdModifier(windowId: string): string {
  let h = 0;
  for (const ch of windowId) h = (h * 31 + ch.charCodeAt(0)) % 1_000_003;
  return FILE_ID_MODIFIERS[h % FILE_ID_MODIFIERS.length];
}

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
  const transfer = await tx.findOneOrFail(Transfer, { id: transferId });
  await tx.insert(TransferEvent, { id: newId('evt'), transferId, status: transfer.status, reason, at: new Date() });
}

/** Inside a transaction: the entry for `traceNumber` in the first open window from `atMs` (exported for tests). */
export async function queueEntry(tx: SqlEntityManager, deps: AchWindowDeps, traceNumber: string, atMs: number): Promise<QueuedWindow> {
  const existing = await tx.findOne(AchEntry, { traceNumber });
  if (existing) {
    const w = await tx.findOneOrFail(AchWindow, { id: existing.windowId });
    const window = { windowId: w.id, cutoffAtMs: w.cutoffAt.getTime() };
    return { ...window, label: achWindowLabel(window, deps.railTime) };
  }
  const attempt = await tx.findOneOrFail(Attempt, { railReference: traceNumber });
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
  const entry = await tx.findOne(AchEntry, { traceNumber });
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
 * Inside a transaction: moves an entry whose file was refused (or whose fate the bank has since
 * answered `not_found`) into the first open window after both `atMs` and its old cut-off, under the
 * same trace number (exported for tests).
 */
export async function requeueEntry(tx: SqlEntityManager, deps: AchWindowDeps, traceNumber: string, atMs: number): Promise<QueuedWindow> {
  const entry = await tx.findOneOrFail(AchEntry, { traceNumber });
  const old = await tx.findOneOrFail(AchWindow, { id: entry.windowId });
  if (entry.status === 'queued' && old.status === 'open') {
    const label = achWindowLabel({ windowId: old.id, cutoffAtMs: old.cutoffAt.getTime() }, deps.railTime);
    return { windowId: old.id, cutoffAtMs: old.cutoffAt.getTime(), label };
  }
  if (entry.status !== 'file_refused' && entry.status !== 'in_file') {
    throw ApplicationFailure.nonRetryable(`entry ${traceNumber} is ${entry.status}${entry.code ? ` (${entry.code})` : ''}; it cannot be queued again`, 'invalid_transition');
  }
  const window = await takePlace(tx, deps, achFileWindow(Math.max(atMs, old.cutoffAt.getTime()), deps.railTime, deps.demoWindowMs), traceNumber);
  entry.windowId = window.windowId;
  entry.status = 'queued';
  entry.code = null;
  entry.effectiveDate = null;
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

/** One entry's answer from its window's file, as the batch workflow hands it to the payout. */
export interface AchEntryResult {
  transferId: string;
  traceNumber: string;
  status: 'accepted' | 'rejected';
  code: string | null;
}

/**
 * The ACH rail in per-window mode: `submit` queues (inside the payout's submit activity) and
 * answers queued; `inquire` answers pending until the entry's file went, then asks the bank.
 */
export function createWindowedAchRail(deps: AchWindowDeps): PayoutRail {
  const direct = { inquire: (reference: string) => inquireAchEntry(deps.baseUrl, reference, deps.requestTimeoutMs) };
  return {
    async submit(p): Promise<SubmitAnswer> {
      // The server's clock, not this machine's: on a test server that skips time, windows follow it.
      const atMs = Context.current().info.currentAttemptScheduledTimestampMs;
      const window = await inTransaction(deps.orm.em.fork(), (tx) => queueEntry(tx, deps, p.reference, atMs));
      await ensureBatch(window);
      return { kind: 'queued', windowId: window.windowId, cutoffAtMs: window.cutoffAtMs, label: window.label };
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const entry = await deps.orm.em.fork().findOne(AchEntry, { traceNumber: reference });
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
     * Sends the window's one file, once, and answers each entry's result. Key: the window ID (and
     * its file ID, fixed before sending). A window already sent answers its entries' recorded
     * results, so a retry after a lost answer hands the same results on.
     */
    async sendAchWindow(input: { windowId: string }): Promise<{ fileId: string | null; entries: number; accepted: number; rejected: number; fileRejected: string | null; results: AchEntryResult[] }> {
      const deps = configured();
      const direct = { inquire: (reference: string) => inquireAchEntry(deps.baseUrl, reference, deps.requestTimeoutMs) };
      const { window, entries, maybeSent } = await inTransaction(deps.orm.em.fork(), async (tx) => {
        // Closing first: a queuing or withdrawing transaction holding the row finishes before this reads the entries.
        await tx.createQueryBuilder(AchWindow).update({ status: 'closed', updatedAt: new Date() }).where({ id: input.windowId, status: 'open' }).execute('run');
        const w = await tx.findOneOrFail(AchWindow, { id: input.windowId }, { refresh: true });
        if (w.status === 'sent') return { window: w, entries: [] as AchEntryRow[], maybeSent: false };
        const list = await tx.find(AchEntry, { windowId: w.id, status: { $in: ['queued', 'in_file'] } }, { orderBy: { traceNumber: 'asc' } });
        const maybeSent = w.fileId !== null;
        if (!w.fileId) w.fileId = `${w.id}-${fileIdModifier(w.id)}`;
        for (const e of list) {
          e.status = 'in_file';
          e.effectiveDate ??= effectiveDateAt(w.cutoffAt.getTime(), e.amountMinor);
          e.updatedAt = new Date();
        }
        return { window: w, entries: list, maybeSent };
      });
      if (window.status === 'sent') return recordedResults(deps, window.id, window.fileId);
      if (entries.length === 0) {
        await markSent(deps, window.id, []);
        return { fileId: null, entries: 0, accepted: 0, rejected: 0, fileRejected: null, results: [] };
      }

      let answers: { reference: string; status: 'accepted' | 'rejected' | 'file_refused'; code: string | null }[] | undefined;
      let fileRejected: string | null = null;
      try {
        if (maybeSent) {
          // An earlier attempt may have delivered the file: the bank's books decide, by trace number.
          const known = await Promise.all(entries.map((e) => direct.inquire(e.traceNumber)));
          const found = known.filter((k) => k.status !== 'not_found').length;
          if (found === entries.length) answers = entries.map((e, i) => ({ reference: e.traceNumber, status: known[i].status === 'rejected' ? 'rejected' : 'accepted', code: known[i].code }));
          else if (found > 0) throw ApplicationFailure.nonRetryable(`file ${window.fileId}: the bank knows ${found} of ${entries.length} entries`, 'ach_file_partial');
        }
        if (!answers) {
          const posted = await postFile(deps, window.fileId!, window.cutoffAt, entries);
          answers = posted.answers;
          fileRejected = posted.fileRejected;
        }
      } catch (err) {
        if (err instanceof BankUnavailableError) {
          // A whole window waits on this file: the bank's Retry-After is honoured, but never shortens
          // ACH_FILE_SEND's own backoff (2 s doubling to 2 min), or a bank answering "retry after 1 s"
          // would spend the two-hour budget's attempts in a minute.
          const backoffMs = Math.min(2_000 * 2 ** (Context.current().info.attempt - 1), 120_000);
          throw ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: Math.max(err.retryAfterMs ?? 0, backoffMs), cause: err });
        }
        throw err;
      }
      await markSent(deps, window.id, answers);
      const byTrace = new Map(entries.map((e) => [e.traceNumber, e.transferId]));
      const results = answers.map((a) => ({ transferId: byTrace.get(a.reference)!, traceNumber: a.reference, status: a.status === 'accepted' ? ('accepted' as const) : ('rejected' as const), code: a.code }));
      const rejected = answers.filter((a) => a.status === 'rejected').length;
      return { fileId: window.fileId, entries: entries.length, accepted: entries.length - rejected, rejected, fileRejected, results };
    },

    /** The entries still waiting on the window's file (in_file): whom the batch workflow tells when it gives up. Read-only. */
    async achWindowEntries(input: { windowId: string }): Promise<{ fileId: string | null; entries: { transferId: string; traceNumber: string }[] }> {
      const em = configured().orm.em.fork();
      const w = await em.findOneOrFail(AchWindow, { id: input.windowId });
      const list = await em.find(AchEntry, { windowId: w.id, status: 'in_file' }, { orderBy: { traceNumber: 'asc' } });
      return { fileId: w.fileId, entries: list.map((e) => ({ transferId: e.transferId, traceNumber: e.traceNumber })) };
    },

    /** Where an entry stands, from the database alone: the payout's fallback when no answer came. Read-only. */
    async achEntryState(input: { traceNumber: string }): Promise<{ windowId: string; status: AchEntryRow['status']; code: string | null; fileId: string | null }> {
      const em = configured().orm.em.fork();
      const e = await em.findOneOrFail(AchEntry, { traceNumber: input.traceNumber });
      const w = await em.findOneOrFail(AchWindow, { id: e.windowId });
      return { windowId: e.windowId, status: e.status, code: e.code, fileId: w.fileId };
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
     * An operator's retry after the window's file was refused or never confirmed: the entry goes
     * into a later window under the SAME trace number. When the file's fate is unknown (the entry
     * is still in_file) the bank is asked by trace number first: found → its answer, nothing
     * re-queued; not found → re-queued. Key: the trace number. Retryable: the bank unreachable.
     */
    async requeueAchEntry(input: { traceNumber: string }): Promise<{ outcome: 'queued'; windowId: string; cutoffAtMs: number; label: string } | { outcome: 'accepted' } | { outcome: 'rejected'; code: string }> {
      const deps = configured();
      const entry = await deps.orm.em.fork().findOneOrFail(AchEntry, { traceNumber: input.traceNumber });
      if (entry.status === 'accepted') return { outcome: 'accepted' };
      if (entry.status === 'rejected') return { outcome: 'rejected', code: entry.code ?? 'rejected' };
      if (entry.status === 'in_file') {
        let known;
        try {
          known = await inquireAchEntry(deps.baseUrl, input.traceNumber, deps.requestTimeoutMs);
        } catch (err) {
          if (err instanceof BankUnavailableError) throw ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: err.retryAfterMs, cause: err });
          throw err;
        }
        if (known.status !== 'not_found') {
          const status = known.status === 'rejected' ? 'rejected' : 'accepted';
          await markSent(deps, null, [{ reference: input.traceNumber, status, code: known.code }]);
          return status === 'rejected' ? { outcome: 'rejected', code: known.code ?? 'rejected' } : { outcome: 'accepted' };
        }
      }
      const atMs = Context.current().info.currentAttemptScheduledTimestampMs;
      const window = await inTransaction(deps.orm.em.fork(), (tx) => requeueEntry(tx, deps, input.traceNumber, atMs));
      await ensureBatch(window);
      return { outcome: 'queued', ...window };
    },
  };
}

/** A sent window's entries as recorded. */
async function recordedResults(deps: AchWindowDeps, windowId: string, fileId: string | null) {
  const list = await deps.orm.em.fork().find(AchEntry, { windowId, status: { $in: ['accepted', 'rejected', 'file_refused'] } }, { orderBy: { traceNumber: 'asc' } });
  const fileRejected = list.length > 0 && list.every((e) => e.status === 'file_refused') ? `the bank refused file ${fileId}` : null;
  const results = list.map((e) => ({ transferId: e.transferId, traceNumber: e.traceNumber, status: e.status === 'accepted' ? ('accepted' as const) : ('rejected' as const), code: e.code }));
  const rejected = results.filter((r) => r.status === 'rejected').length;
  return { fileId, entries: results.length, accepted: results.length - rejected, rejected, fileRejected, results };
}

/** Records the bank's answers on the entries and, with a window, marks the window sent. */
async function markSent(deps: AchWindowDeps, windowId: string | null, answers: { reference: string; status: 'accepted' | 'rejected' | 'file_refused'; code: string | null }[]): Promise<void> {
  await inTransaction(deps.orm.em.fork(), async (tx) => {
    for (const a of answers) {
      const e = await tx.findOneOrFail(AchEntry, { traceNumber: a.reference });
      e.status = a.status;
      e.code = a.code;
      e.updatedAt = new Date();
    }
    if (windowId) {
      const w = await tx.findOneOrFail(AchWindow, { id: windowId });
      w.status = 'sent';
      w.updatedAt = new Date();
    }
  });
}

/** Builds the window's file from the entries and their transfers' beneficiaries and posts it. */
async function postFile(deps: AchWindowDeps, fileId: string, cutoffAt: Date, entries: AchEntryRow[]) {
  const transfers = new Map((await deps.orm.em.fork().find(Transfer, { id: { $in: entries.map((e) => e.transferId) } })).map((t) => [t.id, t]));
  const file = emitNacha(
    buildWindowFile({
      ...deps.originator,
      entryDescription: 'PAYOUT',
      createdAt: new Date(cutoffAt.getTime() - 1),
      fileIdModifier: fileId.slice(-1),
      entries: entries.map((e) => {
        const b = transfers.get(e.transferId)!.beneficiary;
        return {
          entryClass: e.entryClass,
          effectiveDate: e.effectiveDate!,
          transactionCode: '22' as const,
          routingNumber: b.routingNumber,
          accountNumber: b.accountNumber,
          amountCents: e.amountMinor,
          individualId: e.transferId.slice(-15),
          individualName: b.name,
          traceNumber: e.traceNumber,
        };
      }),
    }),
  );
  const res = await bankFetch(deps.baseUrl, '/ach/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: file }, deps.requestTimeoutMs ?? 10_000);
  const body = (await res.json()) as { entries?: { reference: string; status: 'accepted' | 'rejected'; code: string | null }[]; error?: { message: string } };
  if (res.status === 400) {
    // The bank refused the file as a whole: none of its entries was taken.
    return { answers: entries.map((e) => ({ reference: e.traceNumber, status: 'file_refused' as const, code: null })), fileRejected: `the bank refused file ${fileId}: ${body.error?.message ?? 'no reason given'}` };
  }
  if (res.status !== 202 || !body.entries || body.entries.length !== entries.length) throw new Error(`unexpected bank answer ${res.status} to file ${fileId}`);
  return { answers: body.entries, fileRejected: null };
}
