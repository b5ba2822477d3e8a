/**
 * ACH entries queued per cut-off window and sent as one NACHA file per window
 * (`ACH_FILE_MODE=per_window`).
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
 * Per-entry answers land on the entry rows; until its file went, a payout's inquiry answers
 * `pending` without asking the bank.
 *
 * Errors: the bank down or silent is retryable (thrown); a file the bank refuses whole fails its
 * entries with `file_rejected`; a file only partly known to the bank is for an operator.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { raw, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { achFileWindow, effectiveDateAt, type AchFileWindow } from '../core/ach-windows';
import { AchEntry, AchWindow, Attempt, Transfer, type AchEntryRow } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { BankUnavailableError, bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../rails/bank-http';
import { createAchRail, type AchOriginator } from '../rails/ach/bank-client';
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

/** Inside a transaction: the entry for `traceNumber` in the first open window from `atMs` (exported for tests). */
export async function queueEntry(tx: SqlEntityManager, deps: AchWindowDeps, traceNumber: string, atMs: number): Promise<AchFileWindow> {
  const existing = await tx.findOne(AchEntry, { traceNumber });
  if (existing) {
    const w = await tx.findOneOrFail(AchWindow, { id: existing.windowId });
    return { windowId: w.id, cutoffAtMs: w.cutoffAt.getTime() };
  }
  const attempt = await tx.findOneOrFail(Attempt, { railReference: traceNumber });
  const transfer = await tx.findOneOrFail(Transfer, { id: attempt.transferId });
  let window = achFileWindow(atMs, deps.railTime, deps.demoWindowMs);
  for (let hop = 0; hop < MAX_WINDOW_HOPS; hop++) {
    const now = new Date();
    // The window row exists once; "already exists" is success.
    await tx.createQueryBuilder(AchWindow).insert({ id: window.windowId, cutoffAt: new Date(window.cutoffAtMs), status: 'open', fileId: null, entryCount: 0, createdAt: now, updatedAt: now }).onConflict('id').ignore().execute('run');
    const taken = affected(await tx.createQueryBuilder(AchWindow).update({ entryCount: raw('entry_count + 1'), updatedAt: now }).where({ id: window.windowId, status: 'open' }).execute('run'));
    if (taken === 1) {
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
      return window;
    }
    // Closed while we were on our way: the entry goes in the next window's file.
    window = achFileWindow(window.cutoffAtMs, deps.railTime, deps.demoWindowMs);
  }
  throw new Error(`no open ACH window for trace ${traceNumber} after ${MAX_WINDOW_HOPS} tries`);
}

/**
 * The ACH rail in per-window mode: `submit` queues (inside the payout's submit activity) and
 * answers accepted; `inquire` answers pending until the entry's file went, then asks the bank.
 */
export function createWindowedAchRail(deps: AchWindowDeps): PayoutRail {
  const direct = createAchRail(deps.baseUrl, deps.originator, deps.requestTimeoutMs);
  return {
    async submit(p): Promise<SubmitAnswer> {
      const ctx = Context.current();
      // The server's clock, not this machine's: on a test server that skips time, windows follow it.
      const atMs = ctx.info.currentAttemptScheduledTimestampMs;
      const window = await inTransaction(deps.orm.em.fork(), (tx) => queueEntry(tx, deps, p.reference, atMs));
      await ctx.client.workflow.start('achBatchWorkflow', {
        workflowId: achBatchWorkflowId(window.windowId),
        taskQueue: ctx.info.taskQueue,
        args: [{ windowId: window.windowId, cutoffAtMs: window.cutoffAtMs }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `ACH file for window ${window.windowId}`,
      });
      return { kind: 'accepted' };
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const entry = await deps.orm.em.fork().findOne(AchEntry, { traceNumber: reference });
      if (entry && (entry.status === 'queued' || entry.status === 'in_file')) return { status: 'pending', code: null };
      if (entry?.status === 'rejected' && entry.code === 'file_rejected') return { status: 'rejected', code: 'file_rejected' };
      return direct.inquire(reference);
    },
  };
}

export function createAchWindowActivities(deps: AchWindowDeps | undefined) {
  return {
    /** Sends the window's one file, once. Key: the window ID (and its file ID, fixed before sending). */
    async sendAchWindow(input: { windowId: string }): Promise<{ entries: number; accepted: number; rejected: number }> {
      if (!deps) throw ApplicationFailure.nonRetryable('ACH file windows are not configured on this worker', 'ach_windows_not_configured');
      const direct = createAchRail(deps.baseUrl, deps.originator, deps.requestTimeoutMs);
      const { window, entries, maybeSent } = await inTransaction(deps.orm.em.fork(), async (tx) => {
        // Closing first: a queuing transaction holding the row finishes before this reads the entries.
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
      if (window.status === 'sent' || entries.length === 0) {
        await markSent(window.id, []);
        return { entries: 0, accepted: 0, rejected: 0 };
      }

      let answers: { reference: string; status: 'accepted' | 'rejected'; code: string | null }[] | undefined;
      try {
        if (maybeSent) {
          // An earlier attempt may have delivered the file: the bank's books decide, by trace number.
          const known = await Promise.all(entries.map((e) => direct.inquire(e.traceNumber)));
          const found = known.filter((k) => k.status !== 'not_found').length;
          if (found === entries.length) answers = entries.map((e, i) => ({ reference: e.traceNumber, status: known[i].status === 'rejected' ? 'rejected' : 'accepted', code: known[i].code }));
          else if (found > 0) throw ApplicationFailure.nonRetryable(`file ${window.fileId}: the bank knows ${found} of ${entries.length} entries`, 'ach_file_partial');
        }
        answers ??= await postFile(deps, window.fileId!, window.cutoffAt, entries);
      } catch (err) {
        if (err instanceof BankUnavailableError) {
          throw ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: err.retryAfterMs, cause: err });
        }
        throw err;
      }
      await markSent(window.id, answers);
      const rejected = answers.filter((a) => a.status === 'rejected').length;
      return { entries: entries.length, accepted: entries.length - rejected, rejected };
    },
  };

  async function markSent(windowId: string, answers: { reference: string; status: 'accepted' | 'rejected'; code: string | null }[]): Promise<void> {
    await inTransaction(deps!.orm.em.fork(), async (tx) => {
      for (const a of answers) {
        const e = await tx.findOneOrFail(AchEntry, { traceNumber: a.reference });
        e.status = a.status;
        e.code = a.code;
        e.updatedAt = new Date();
      }
      const w = await tx.findOneOrFail(AchWindow, { id: windowId });
      w.status = 'sent';
      w.updatedAt = new Date();
    });
  }
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
  if (res.status === 400) return entries.map((e) => ({ reference: e.traceNumber, status: 'rejected' as const, code: 'file_rejected' }));
  if (res.status !== 202 || !body.entries || body.entries.length !== entries.length) throw new Error(`unexpected bank answer ${res.status} to file ${fileId}`);
  return body.entries;
}
