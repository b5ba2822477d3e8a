/**
 * Bank inboxes (SPEC §7): one collector per rail, in the worker process, reads what the bank sent
 * on its own from the bank's outbox and brings each fact to its transfer's workflow as the signal
 * `bankMessage` (core/bank-message.ts). Nothing here asks the bank about one transfer.
 *
 * One round for a rail:
 *  1. Take the rail's lease (bank_inbox_cursors): one worker collects a rail at a time; another
 *     takes over once the lease has run out. Everything below is idempotent as well, so two
 *     collectors that overlap (a lease that ran out mid-round) store and route nothing twice.
 *  2. Read a page of the outbox after the stored cursor. Each message is stored once by (rail, the
 *     bank's message ID), raw kept, in the same transaction that moves the cursor past it.
 *  3. Read each stored message with the rails' parsers into facts (bank_message_facts, one row per
 *     fact, ID `<message id>:<n>`): a camt.053 is matched in bulk against our attempts by the
 *     reconciliation, its matched lines becoming `statement_matched` facts and its differences
 *     breaks. A message that cannot be read, or states nothing about any payment, is a break.
 *  4. Route each pending fact by (rail, reference) to the newest attempt with that reference; no
 *     such attempt is an `unrouted_message` break. A fact the transfer already knows is not sent
 *     (each signal is a billable action): the same kind already signalled for the attempt, or the
 *     database already showing it. Otherwise: signal, then mark signalled. A crash in between sends
 *     the same messageId again, which the workflow applies once. A workflow that no longer runs is
 *     recorded (`workflow_gone`, with a break), not retried; other signal failures are retried on
 *     later rounds, SIGNAL_ATTEMPTS_MAX times at most.
 *
 * Bounded: a page of OUTBOX_PAGE messages, PAGES_PER_ROUND pages per round, FACTS_PER_ROUND facts
 * routed; a bank that does not answer backs the rail off, doubling up to BACKOFF_MAX_MS. Logs name
 * the rail, message IDs, references and codes only.
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { BANK_MESSAGE_SIGNAL, type BankMessage, type BankMessageKind } from '../core/bank-message';
import { newId } from '../core/ids';
import { RAILS, workflowIdFor, type Rail } from '../core/transfer';
import { Attempt, BankInboxCursor, BankInboxFact, BankInboxMessage, type AttemptRow, type BankInboxFactRow, type BankInboxMessageRow } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { bankFetch } from '../rails/bank-http';
import { parseCamt053 } from '../rails/iso20022/camt053';
import { factId, readMessage, splitFactId, type Fact } from './bank-inbox-facts';
import { reconcileStatementEntries, recordBreak, type StatementMatch } from './reconciliation';

export const OUTBOX_PAGE = 100;
const PAGES_PER_ROUND = 10;
const FACTS_PER_ROUND = 500;
const SIGNAL_ATTEMPTS_MAX = 10;
const BACKOFF_MAX_MS = 60_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** Signals one transfer workflow; throws WorkflowNotFoundError when it does not run. */
export type SignalTransfer = (workflowId: string, message: BankMessage) => Promise<void>;

/** How the collectors reach a transfer in a deployment: the `bankMessage` signal through a Temporal client. */
export function signalThrough(client: Client): SignalTransfer {
  return (workflowId, message) => client.workflow.getHandle(workflowId).signal(BANK_MESSAGE_SIGNAL, message);
}

export interface BankInboxOptions {
  orm: MikroORM;
  rail: Rail;
  bankUrl: string;
  signal: SignalTransfer;
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** This collector's name in the lease. */
  owner?: string;
  /** How long a lease lasts without renewal (every round renews it). */
  leaseMs?: number;
  pageSize?: number;
}

interface OutboxPage {
  data: { id: string; rail: string; type: string; createdAt: string; raw: string; cursor: string }[];
  next: string;
}

/** Statuses of an attempt under which the bank's word of `kind` is already known to it. */
const ALREADY_KNOWN: Partial<Record<BankMessageKind, ReadonlySet<string>>> = {
  accepted: new Set(['submitted', 'settled', 'returned']),
  settled: new Set(['settled', 'returned']),
  rejected: new Set(['rejected']),
  returned: new Set(['returned']),
};

export interface RoundResult {
  leased: boolean;
  stored: number;
  signalled: number;
}

export function createBankInbox(options: BankInboxOptions) {
  const { orm, rail, logger } = options;
  const owner = options.owner ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const leaseMs = options.leaseMs ?? 30_000;
  const pageSize = options.pageSize ?? OUTBOX_PAGE;

  /** Takes (or renews) the rail's lease; false while another collector holds it. */
  async function lease(): Promise<boolean> {
    const em = orm.em.fork();
    const now = new Date();
    if (!(await em.findOne(BankInboxCursor, { rail }))) {
      await em.insert(BankInboxCursor, { rail, cursor: null, leaseOwner: null, leaseUntil: null, updatedAt: now }).catch((err) => {
        // Another collector made the row first.
        if (!(err instanceof UniqueConstraintViolationException)) throw err;
      });
    }
    const taken = await em.nativeUpdate(
      BankInboxCursor,
      { rail, $or: [{ leaseOwner: null }, { leaseOwner: owner }, { leaseUntil: { $lt: now } }] },
      { leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now },
    );
    return taken === 1;
  }

  async function release(): Promise<void> {
    await orm.em.fork().nativeUpdate(BankInboxCursor, { rail, leaseOwner: owner }, { leaseOwner: null, leaseUntil: null, updatedAt: new Date() });
  }

  /**
   * Message IDs sort in the order the outbox listed them (IDs are time-ordered, each collector
   * gives every message a millisecond of its own), so facts are routed in the order the bank sent them.
   */
  let lastIdMs = 0;
  const nextMessageId = () => newId('bm', (lastIdMs = Math.max(Date.now(), lastIdMs + 1)));

  /** Stores one outbox message (once) and moves the cursor past it, in one transaction. */
  async function store(message: OutboxPage['data'][number]): Promise<boolean> {
    return inTransaction(orm.em, async (tx) => {
      const existing = await tx.findOne(BankInboxMessage, { rail, bankMessageId: message.id });
      if (!existing) {
        const row: BankInboxMessageRow = { id: nextMessageId(), rail, bankMessageId: message.id, type: message.type, status: 'stored', sentAt: new Date(message.createdAt), receivedAt: new Date(), raw: message.raw };
        await tx.insert(BankInboxMessage, row);
      }
      // Only the lease holder moves the cursor; a collector whose lease ran out stores, harmlessly, and stops here.
      await tx.nativeUpdate(BankInboxCursor, { rail, leaseOwner: owner }, { cursor: message.cursor, updatedAt: new Date() });
      return !existing;
    });
  }

  /** Reads one stored message into its facts (or breaks), then marks it read. Safe to run again. */
  async function read(message: BankInboxMessageRow): Promise<void> {
    let facts: Fact[];
    let namesNoPayment: boolean;
    try {
      ({ facts, namesNoPayment } = message.type === 'camt.053' ? { facts: await readStatement(message), namesNoPayment: false } : readMessage(message.type, message.raw));
    } catch (err) {
      // The parser's message may quote the bank's text: it goes to neither the log nor the break.
      logger.warn({ rail, bankMessageId: message.bankMessageId, type: message.type, error: (err as Error).name }, 'bank message unreadable');
      await inTransaction(orm.em, async (tx) => {
        await unroutedBreak(tx, message, null, `${message.type} message ${message.bankMessageId} on ${rail} could not be read; it is kept in bank_messages`);
        await tx.nativeUpdate(BankInboxMessage, { id: message.id }, { status: 'unreadable' });
      });
      return;
    }
    await inTransaction(orm.em, async (tx) => {
      if (namesNoPayment) {
        await unroutedBreak(tx, message, null, `${message.type} message ${message.bankMessageId} on ${rail} names no payment`);
      }
      const now = new Date();
      for (const [n, f] of facts.entries()) {
        const id = factId(message.id, n);
        if (await tx.findOne(BankInboxFact, { id })) continue;
        const row: BankInboxFactRow = {
          id,
          messageId: message.id,
          rail,
          kind: f.kind,
          railReference: f.railReference,
          code: f.code ?? null,
          amountMinor: f.amountMinor ?? null,
          currency: f.currency ?? null,
          bookedAt: f.bookedAt ? new Date(f.bookedAt) : null,
          attemptId: null,
          transferId: null,
          status: 'pending',
          signalAttempts: 0,
          createdAt: now,
          updatedAt: now,
        };
        await tx.insert(BankInboxFact, row);
      }
      await tx.nativeUpdate(BankInboxMessage, { id: message.id }, { status: 'read' });
    });
  }

  /**
   * A statement, matched in bulk against our attempts (services/reconciliation.ts records matches
   * and breaks); each matched line — matched now or by an earlier reading — becomes one `statement_matched` fact with the amount as booked,
   * each line of a live payment booked with another amount one `statement_break` fact naming its
   * break's kind.
   */
  async function readStatement(message: BankInboxMessageRow): Promise<Fact[]> {
    const statements = parseCamt053(message.raw);
    const { matched, previouslyMatched, mismatched } = await reconcileStatementEntries(orm, statements, { includeUnsettled: true });
    // A line matched by an earlier reading is told again only if that reading died before its fact.
    const em = orm.em.fork();
    const untold: StatementMatch[] = [];
    for (const m of previouslyMatched) {
      if ((await em.count(BankInboxFact, { rail, kind: 'statement_matched', railReference: m.attempt.railReference, createdAt: { $gte: m.attempt.createdAt } })) === 0) untold.push(m);
    }
    const matches: Fact[] = [...matched, ...untold].map(({ statement, entry }) => ({
      kind: 'statement_matched',
      railReference: entry.endToEndId!,
      amountMinor: entry.amountMinor,
      currency: statement.currency,
      bookedAt: `${entry.bookingDate}T00:00:00.000Z`,
    }));
    const mismatches: Fact[] = mismatched.flatMap((b) => (b.railReference ? [{ kind: 'statement_break' as const, railReference: b.railReference, code: b.kind, amountMinor: b.actualMinor ?? undefined, currency: b.currency }] : []));
    return [...matches, ...mismatches];
  }

  async function unroutedBreak(tx: SqlEntityManager, message: BankInboxMessageRow, fact: BankInboxFactRow | null, detail: string): Promise<void> {
    await recordBreak(tx, {
      dedupeKey: `unrouted_message:${fact ? fact.id : message.id}`,
      kind: 'unrouted_message',
      rail,
      currency: fact?.currency ?? '',
      statementDate: null,
      railReference: fact?.railReference ?? null,
      transferId: fact?.transferId ?? null,
      expectedMinor: null,
      actualMinor: fact?.amountMinor ?? null,
      detail,
    });
  }

  /** Routes one pending fact; false when Temporal could not be reached (the round stops there). */
  async function route(fact: BankInboxFactRow): Promise<'signalled' | 'done' | 'retry'> {
    const em = orm.em.fork();
    const message = await em.findOneOrFail(BankInboxMessage, { id: fact.messageId });
    // The newest attempt under the reference: an ACH trace number comes round after ten million entries.
    const attempt: AttemptRow | null = await em.findOne(Attempt, { rail, railReference: fact.railReference }, { orderBy: { createdAt: 'desc' } });
    const mark = (status: BankInboxFactRow['status'], extra: Partial<BankInboxFactRow> = {}) =>
      em.nativeUpdate(BankInboxFact, { id: fact.id }, { status, attemptId: attempt?.id ?? null, transferId: attempt?.transferId ?? null, updatedAt: new Date(), ...extra });
    if (!attempt) {
      await inTransaction(orm.em, async (tx) => {
        await unroutedBreak(tx, message, fact, `${message.type} message ${message.bankMessageId} on ${rail} says ${fact.kind} for ${fact.railReference}, which no transfer has`);
        await tx.nativeUpdate(BankInboxFact, { id: fact.id }, { status: 'unrouted', updatedAt: new Date() });
      });
      return 'done';
    }
    const known = ALREADY_KNOWN[fact.kind as BankMessageKind]?.has(attempt.status) ?? false;
    const sent = await em.count(BankInboxFact, { attemptId: attempt.id, kind: fact.kind, status: 'signalled', id: { $ne: fact.id } });
    if (known || sent > 0) {
      await mark('redundant');
      return 'done';
    }
    const payload: BankMessage = {
      messageId: fact.id,
      rail,
      kind: fact.kind as BankMessageKind,
      railReference: fact.railReference,
      ...(fact.code !== null ? { code: fact.code } : {}),
      ...(fact.amountMinor !== null ? { amountMinor: fact.amountMinor } : {}),
      ...(fact.currency !== null ? { currency: fact.currency } : {}),
      ...(fact.bookedAt !== null ? { bookedAt: fact.bookedAt.toISOString() } : {}),
    };
    try {
      await options.signal(workflowIdFor(attempt.transferId), payload);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) {
        logger.warn({ rail, factId: fact.id, kind: fact.kind, transferId: attempt.transferId }, 'bank message for a transfer whose workflow no longer runs');
        await inTransaction(orm.em, async (tx) => {
          await unroutedBreak(tx, message, { ...fact, transferId: attempt.transferId }, `${message.type} message ${message.bankMessageId} says ${fact.kind} for ${fact.railReference}, but transfer ${attempt.transferId}'s workflow no longer runs`);
          await tx.nativeUpdate(BankInboxFact, { id: fact.id }, { status: 'workflow_gone', attemptId: attempt.id, transferId: attempt.transferId, updatedAt: new Date() });
        });
        return 'done';
      }
      const attempts = fact.signalAttempts + 1;
      logger.warn({ rail, factId: fact.id, kind: fact.kind, transferId: attempt.transferId, attempts, error: (err as Error).message }, 'signalling a bank message failed');
      if (attempts >= SIGNAL_ATTEMPTS_MAX) {
        await inTransaction(orm.em, async (tx) => {
          await unroutedBreak(tx, message, { ...fact, transferId: attempt.transferId }, `${message.type} message ${message.bankMessageId} says ${fact.kind} for ${fact.railReference}; signalling transfer ${attempt.transferId} failed ${attempts} times`);
          await tx.nativeUpdate(BankInboxFact, { id: fact.id }, { status: 'failed', signalAttempts: attempts, attemptId: attempt.id, transferId: attempt.transferId, updatedAt: new Date() });
        });
        return 'done';
      }
      await mark('pending', { signalAttempts: attempts });
      return 'retry';
    }
    await mark('signalled');
    return 'signalled';
  }

  /** Reads stored messages not yet read, then routes pending facts, oldest first. */
  async function routePending(): Promise<number> {
    const em = orm.em.fork();
    for (const message of await em.find(BankInboxMessage, { rail, status: 'stored' }, { orderBy: { id: 'asc' }, limit: PAGES_PER_ROUND * pageSize })) await read(message);
    let signalled = 0;
    const pending = await em.find(BankInboxFact, { rail, status: 'pending' }, { orderBy: { messageId: 'asc', createdAt: 'asc' }, limit: FACTS_PER_ROUND });
    // A message's facts in the order it stated them.
    pending.sort((a, b) => (a.messageId === b.messageId ? splitFactId(a.id).n - splitFactId(b.id).n : a.messageId < b.messageId ? -1 : 1));
    for (const fact of pending) {
      const outcome = await route(fact);
      if (outcome === 'signalled') signalled++;
      if (outcome === 'retry') break;
    }
    return signalled;
  }

  /** One round: lease, collect what the outbox has after the cursor (a few pages at most), read and route. */
  async function collectOnce(): Promise<RoundResult> {
    if (!(await lease())) return { leased: false, stored: 0, signalled: 0 };
    let stored = 0;
    for (let page = 0; page < PAGES_PER_ROUND; page++) {
      const cursor = (await orm.em.fork().findOneOrFail(BankInboxCursor, { rail })).cursor;
      const query = new URLSearchParams({ rail, limit: String(pageSize), ...(cursor ? { after: cursor } : {}) });
      const res = await bankFetch(options.bankUrl, `/sim/outbox?${query}`, { method: 'GET' }, REQUEST_TIMEOUT_MS);
      if (!res.ok) throw new Error(`bank outbox answered ${res.status}`);
      const body = (await res.json()) as OutboxPage;
      for (const message of body.data) if (await store(message)) stored++;
      // A page filtered by rail may end on another rail's message: move past it too.
      if (body.data.length === 0 || body.data[body.data.length - 1].cursor !== body.next) {
        await orm.em.fork().nativeUpdate(BankInboxCursor, { rail, leaseOwner: owner }, { cursor: body.next, updatedAt: new Date() });
      }
      if (body.data.length < pageSize) break;
    }
    const signalled = await routePending();
    return { leased: true, stored, signalled };
  }

  let stopped = false;
  let wake: (() => void) | null = null;
  let running: Promise<void> | null = null;

  /** Collects every `pollMs` until stopped; a failing round backs off, doubling up to BACKOFF_MAX_MS. */
  function start(pollMs: number): void {
    running = (async () => {
      let failures = 0;
      while (!stopped) {
        try {
          await collectOnce();
          failures = 0;
        } catch (err) {
          failures++;
          logger.warn({ rail, failures, error: (err as Error).message }, 'bank inbox round failed; backing off');
        }
        const delay = failures === 0 ? pollMs : Math.min(BACKOFF_MAX_MS, pollMs * 2 ** Math.min(failures, 16));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, delay);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    })();
  }

  async function stop(): Promise<void> {
    stopped = true;
    wake?.();
    await running;
    await release().catch(() => undefined);
  }

  return { rail, owner, collectOnce, start, stop };
}

export type BankInbox = ReturnType<typeof createBankInbox>;

/** One collector per rail, every rail. */
export function startBankInboxes(options: Omit<BankInboxOptions, 'rail'> & { pollMs: number }): { stop(): Promise<void> } {
  const inboxes = RAILS.map((rail) => createBankInbox({ ...options, rail }));
  for (const inbox of inboxes) inbox.start(options.pollMs);
  return { stop: async () => void (await Promise.all(inboxes.map((i) => i.stop()))) };
}
