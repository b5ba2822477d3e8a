/**
 * Reconciliation: our books against the bank's camt.053 statements.
 *
 * - A settled attempt is matched to the statement's debit entry with its end-to-end reference, in
 *   its rail account and currency, booked between the day the attempt was made and today. The entry
 *   must carry exactly the amount we sent; SWIFT charges are read from the entry: included in it
 *   (OUR: the bank debited them to us on top, and we book them to `bank_fees`) or deducted on the
 *   way (SHA, BEN: the beneficiary received that much less). A match is written once per attempt
 *   and is what lets a transfer become `completed`.
 * - Differences become breaks (one row per difference, found again → the same row): an entry whose
 *   amount differs from ours, an entry whose reference we never sent, our settled attempt absent
 *   from the statements beyond the match window, and a rail account whose ledger balance differs
 *   from the bank's closing balance.
 *
 * Everything here is idempotent: matches are keyed by attempt, breaks by their dedupe key, the
 * charges posting by `tr_…:bank_charges`.
 */
import type { EntityManager, MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import { Account, Attempt, Posting, ReconciliationBreak, ReconciliationMatch, Transfer, type AttemptRow, type ReconciliationBreakKind, type ReconciliationBreakRow, type TransferRow } from '../db/schema';
import { SYSTEM_ACCOUNTS, createPosting, ensureAccount, inTransaction, systemAccountKey, systemAccountSpec } from '../ledger/ledger';
import type { ParsedStatement } from '../rails/iso20022/camt053';
import { railAccountOf, type StatementSource } from '../rails/statements';

type Entry = ParsedStatement['entries'][number];

/** How many statement days one look at an attempt reads at most (the newest ones). */
const LOOKBACK_DAYS_MAX = 7;
/**
 * Bounds on one daily run: settled attempts checked for absence (those whose match window ended in
 * the last MISSING_SCAN_DAYS, so a run a few days late still catches up, and rows from before
 * reconciliation existed are not flagged wholesale), and statement entries read.
 */
const MISSING_SCAN_LIMIT = 1_000;
const MISSING_SCAN_DAYS = 7;
const ENTRIES_PER_RUN_MAX = 50_000;

export const utcDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The days from `fromMs`'s date through `toMs`'s, newest last, at most LOOKBACK_DAYS_MAX of them. */
export function statementDays(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  for (let d = Date.parse(utcDate(toMs)); d >= Date.parse(utcDate(fromMs)) && days.length < LOOKBACK_DAYS_MAX; d -= 86_400_000) days.unshift(utcDate(d));
  return days;
}

export interface EntryJudgement {
  /** The principal the entry shows (its amount, less charges it includes). */
  principalMinor: number;
  matches: boolean;
  /** What reached the beneficiary: the principal, less charges deducted on the way (SHA, BEN). */
  beneficiaryReceivedMinor: number;
  /** Charges the bank debited to us on top of the payment (OUR). */
  chargesToUsMinor: number;
  chargesMinor: number;
}

/** Compares a statement debit entry with the amount we sent. Pure. */
export function judgeEntry(sentMinor: number, entry: Pick<Entry, 'amountMinor' | 'charges'>): EntryJudgement {
  const chargesMinor = entry.charges?.amountMinor ?? 0;
  const included = entry.charges?.included === true;
  const principalMinor = included ? entry.amountMinor - chargesMinor : entry.amountMinor;
  const judgement = {
    principalMinor,
    matches: principalMinor === sentMinor,
    beneficiaryReceivedMinor: included ? principalMinor : principalMinor - chargesMinor,
    chargesToUsMinor: included ? chargesMinor : 0,
    chargesMinor,
  };
  for (const v of Object.values(judgement)) if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`statement amounts are not safe integers: ${JSON.stringify(judgement)}`);
  return judgement;
}

/** What a caller knows of a break; id, status and the timestamps are the store's. */
export type NewBreak = Omit<ReconciliationBreakRow, 'id' | 'status' | 'createdAt' | 'resolvedAt' | 'resolution'>;

/** Inside a transaction: the break with this dedupe key, created if new. A resolved break found again opens again. */
export async function recordBreak(tx: SqlEntityManager, b: NewBreak): Promise<ReconciliationBreakRow> {
  const existing = await tx.findOne(ReconciliationBreak, { dedupeKey: b.dedupeKey });
  if (existing) {
    if (existing.status === 'resolved') {
      existing.status = 'open';
      existing.resolvedAt = null;
      existing.resolution = null;
      existing.resolvedBy = null;
      existing.actualMinor = b.actualMinor;
      existing.expectedMinor = b.expectedMinor;
      existing.detail = b.detail.slice(0, 500);
      await tx.flush();
    }
    return existing;
  }
  const row: ReconciliationBreakRow = { id: newId('brk'), ...b, detail: b.detail.slice(0, 500), status: 'open', createdAt: new Date(), resolvedAt: null, resolution: null };
  // A concurrent finder makes this insert fail; inTransaction re-runs and finds the row.
  await tx.insert(ReconciliationBreak, row);
  return row;
}

async function resolveBreak(tx: SqlEntityManager, dedupeKey: string, resolution: string): Promise<void> {
  const open = await tx.findOne(ReconciliationBreak, { dedupeKey, status: 'open' });
  if (!open) return;
  open.status = 'resolved';
  open.resolvedAt = new Date();
  open.resolution = resolution.slice(0, 500);
  await tx.flush();
}

const keys = {
  amount: (ref: string) => `amount_mismatch:${ref}`,
  missing: (ref: string) => `missing_from_statement:${ref}`,
  unknown: (statementId: string, entry: Entry) => `unknown_reference:${statementId}:${entry.accountServicerRef || entry.endToEndId}`,
  balance: (rail: string, currency: string, date: string) => `balance_mismatch:${rail}:${currency}:${date}`,
};

export type AttemptReconciliation =
  | { outcome: 'matched'; beneficiaryReceivedMinor: number; chargesMinor: number }
  | { outcome: 'pending' }
  | { outcome: 'break'; breakId: string; kind: ReconciliationBreakKind; reason: string };

function findEntry(statements: ParsedStatement[], attempt: AttemptRow, currency: string): { statement: ParsedStatement; entry: Entry } | null {
  for (const statement of statements) {
    const account = railAccountOf(statement.accountId);
    if (!account || account.rail !== attempt.rail || statement.currency !== currency) continue;
    const entry = statement.entries.find((e) => e.direction === 'DBIT' && e.endToEndId === attempt.railReference);
    if (entry) return { statement, entry };
  }
  return null;
}

/**
 * Inside a transaction: records the match, books charges the bank debited to us (bank_fees ←
 * bank settlement, `tr_…:bank_charges`) and resolves a break that said the payment was missing.
 */
async function recordMatch(tx: SqlEntityManager, transfer: TransferRow, attempt: AttemptRow, statement: ParsedStatement, entry: Entry, j: EntryJudgement): Promise<void> {
  if (await tx.findOne(ReconciliationMatch, { attemptId: attempt.id })) return;
  await tx.insert(ReconciliationMatch, {
    attemptId: attempt.id,
    transferId: transfer.id,
    railReference: attempt.railReference,
    statementId: statement.id,
    statementDate: entry.bookingDate,
    accountServicerRef: entry.accountServicerRef.slice(0, 64),
    amountMinor: entry.amountMinor,
    chargesMinor: j.chargesMinor,
    beneficiaryReceivedMinor: j.beneficiaryReceivedMinor,
    matchedAt: new Date(),
  });
  if (j.chargesToUsMinor > 0) {
    const fees = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.bankFees, transfer.targetCurrency));
    const bank = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.bankSettlement(attempt.rail), transfer.targetCurrency));
    await createPosting(tx, {
      externalId: `${transfer.id}:bank_charges`,
      kind: 'single',
      debitAccountId: fees.id,
      creditAccountId: bank.id,
      currency: transfer.targetCurrency,
      amountMinor: j.chargesToUsMinor,
      code: 'bank_charges',
      transferId: transfer.id,
    });
  }
  await tx.nativeUpdate(Attempt, { id: attempt.id }, { beneficiaryReceivedMinor: j.beneficiaryReceivedMinor, chargesMinor: j.chargesMinor, updatedAt: new Date() });
  await resolveBreak(tx, keys.missing(attempt.railReference), `found on statement ${statement.id} booked ${entry.bookingDate}`);
}

function amountBreak(transfer: TransferRow, attempt: AttemptRow, statement: ParsedStatement, entry: Entry, j: EntryJudgement): NewBreak {
  return {
    dedupeKey: keys.amount(attempt.railReference),
    kind: 'amount_mismatch',
    rail: attempt.rail,
    currency: transfer.targetCurrency,
    statementDate: entry.bookingDate,
    railReference: attempt.railReference,
    transferId: transfer.id,
    expectedMinor: transfer.targetAmountMinor,
    actualMinor: j.principalMinor,
    detail: `statement ${statement.id} shows ${attempt.railReference} for ${j.principalMinor} minor units (charges ${j.chargesMinor}); we sent ${transfer.targetAmountMinor}`,
  };
}

/**
 * One look at one settled attempt: matched, not on the statements yet (pending), or a break. On the
 * last look of the match window an attempt still absent becomes a `missing_from_statement` break.
 */
export async function reconcileAttempt(orm: MikroORM, statements: StatementSource, input: { attemptId: string; lastLook: boolean }, nowMs = Date.now()): Promise<AttemptReconciliation> {
  const em = orm.em.fork();
  const attempt = await em.findOneOrFail(Attempt, { id: input.attemptId });
  const transfer = await em.findOneOrFail(Transfer, { id: attempt.transferId });
  const done = await em.findOne(ReconciliationMatch, { attemptId: attempt.id });
  if (done) return { outcome: 'matched', beneficiaryReceivedMinor: done.beneficiaryReceivedMinor, chargesMinor: done.chargesMinor };

  let found: { statement: ParsedStatement; entry: Entry } | null = null;
  for (const day of statementDays(attempt.createdAt.getTime(), nowMs).reverse()) {
    found = findEntry(await statements.fetch(day), attempt, transfer.targetCurrency);
    if (found) break;
  }
  if (found) {
    const { statement, entry } = found;
    const j = judgeEntry(transfer.targetAmountMinor, entry);
    if (j.matches) {
      await inTransaction(orm.em, (tx) => recordMatch(tx, transfer, attempt, statement, entry, j));
      return { outcome: 'matched', beneficiaryReceivedMinor: j.beneficiaryReceivedMinor, chargesMinor: j.chargesMinor };
    }
    const b = await inTransaction(orm.em, (tx) => recordBreak(tx, amountBreak(transfer, attempt, statement, entry, j)));
    return { outcome: 'break', breakId: b.id, kind: b.kind, reason: `reconciliation break ${b.id}: ${b.detail}` };
  }
  if (!input.lastLook) return { outcome: 'pending' };
  const b = await inTransaction(orm.em, (tx) => recordBreak(tx, missingBreak(transfer, attempt, utcDate(nowMs))));
  return { outcome: 'break', breakId: b.id, kind: b.kind, reason: `reconciliation break ${b.id}: ${b.detail}` };
}

function missingBreak(transfer: TransferRow, attempt: AttemptRow, today: string): NewBreak {
  return {
    dedupeKey: keys.missing(attempt.railReference),
    kind: 'missing_from_statement',
    rail: attempt.rail,
    currency: transfer.targetCurrency,
    statementDate: today,
    railReference: attempt.railReference,
    transferId: transfer.id,
    expectedMinor: transfer.targetAmountMinor,
    actualMinor: null,
    detail: `settled attempt ${attempt.railReference} (${transfer.targetAmountMinor} ${transfer.targetCurrency} minor units over ${attempt.rail}) is on no bank statement from ${utcDate(attempt.createdAt.getTime())} to ${today}`,
  };
}

export interface BalanceCheck {
  rail: string;
  currency: string;
  ledgerMinor: number;
  statementMinor: number;
}

export interface DailyReconciliation {
  date: string;
  entries: number;
  matched: number;
  breaks: { id: string; kind: ReconciliationBreakKind; dedupeKey: string }[];
  balances: BalanceCheck[];
}

/**
 * Our rail settlement account's balance as the bank sees its own account (negative: money left),
 * as of the end of `date`: the kept balance, less postings made after that.
 */
async function ledgerBankBalance(em: EntityManager, rail: string, currency: string, date: string): Promise<number> {
  const account = await em.findOne(Account, { accountKey: systemAccountKey(SYSTEM_ACCOUNTS.bankSettlement(rail), currency) });
  if (!account) return 0;
  let balance = account.debitsPostedMinor - account.creditsPostedMinor;
  const later = await em.find(Posting, { createdAt: { $gt: new Date(`${date}T23:59:59.999Z`) }, kind: 'single', $or: [{ debitAccountId: account.id }, { creditAccountId: account.id }] });
  for (const p of later) balance -= p.debitAccountId === account.id ? p.amountMinor : -p.amountMinor;
  if (!Number.isSafeInteger(balance)) throw new RangeError(`ledger balance of ${account.accountKey} is not a safe integer`);
  return balance;
}

/** Attempt statuses under which the bank may have paid: a statement debit for one is a match, not a break. */
const MAYBE_PAID = new Set(['pending', 'submitted', 'unknown']);

export interface StatementMatch {
  statement: ParsedStatement;
  /** The entry's position in its statement. */
  entryIndex: number;
  entry: Entry;
  attempt: AttemptRow;
}

export interface StatementReconciliation {
  entries: number;
  /** Lines matched by this reading (the match recorded now). */
  matched: StatementMatch[];
  /** Lines whose attempt was matched before; those that match as booked are in `previouslyMatched`. */
  alreadyMatched: number;
  previouslyMatched: StatementMatch[];
  breaks: ReconciliationBreakRow[];
  /** The breaks of payments still live with us that the bank booked for another amount (also in `breaks`). */
  mismatched: ReconciliationBreakRow[];
}

/**
 * Statement lines in bulk against our attempts: each debit line matched (the match recorded, as
 * below) or made a break (another amount; a debit for an attempt we recorded as rejected; a
 * reference Railyard never sent). `includeUnsettled` also matches attempts not yet settled with us
 * (the bank inbox, which reads the statement as it arrives); the daily run leaves those to the
 * payout workflow.
 */
export async function reconcileStatementEntries(
  orm: MikroORM,
  parsed: ParsedStatement[],
  options: { includeUnsettled: boolean },
): Promise<StatementReconciliation> {
  const em = orm.em.fork();
  const out: StatementReconciliation = { entries: 0, matched: [], alreadyMatched: 0, previouslyMatched: [], breaks: [], mismatched: [] };
  for (const statement of parsed) {
    const account = railAccountOf(statement.accountId);
    for (const [entryIndex, entry] of statement.entries.entries()) {
      if (++out.entries > ENTRIES_PER_RUN_MAX) throw new Error(`more than ${ENTRIES_PER_RUN_MAX} statement entries in one run: split it`);
      // The newest attempt under the reference: an ACH trace number comes round after ten million entries.
      const attempt = entry.endToEndId && account ? await em.findOne(Attempt, { railReference: entry.endToEndId, rail: account.rail }, { orderBy: { createdAt: 'desc' } }) : null;
      if (!attempt) {
        out.breaks.push(
          await inTransaction(orm.em, (tx) =>
            recordBreak(tx, {
              dedupeKey: keys.unknown(statement.id, entry),
              kind: 'unknown_reference',
              rail: account?.rail ?? null,
              currency: statement.currency,
              statementDate: entry.bookingDate,
              railReference: entry.endToEndId,
              transferId: null,
              expectedMinor: null,
              actualMinor: entry.direction === 'DBIT' ? -entry.amountMinor : entry.amountMinor,
              detail: `statement ${statement.id} has a ${entry.direction} of ${entry.amountMinor} minor units with reference ${entry.endToEndId ?? '(none)'} that Railyard never sent`,
            }),
          ),
        );
        continue;
      }
      // Returns (credits) are the payout workflow's to handle.
      if (entry.direction !== 'DBIT') continue;
      const transfer = await em.findOneOrFail(Transfer, { id: attempt.transferId });
      if (attempt.status === 'rejected') {
        // We recorded this attempt as refused (and may have given the client its money back), yet the bank paid it.
        out.breaks.push(
          await inTransaction(orm.em, (tx) =>
            recordBreak(tx, {
              ...amountBreak(transfer, attempt, statement, entry, judgeEntry(0, entry)),
              expectedMinor: 0,
              detail: `statement ${statement.id} debits ${entry.amountMinor} minor units for ${attempt.railReference}, an attempt Railyard recorded as rejected (${attempt.failureCode ?? 'no code'})`,
            }),
          ),
        );
        continue;
      }
      // Pending, submitted or unknown with us: the daily run leaves it to the payout workflow once it
      // has settled; the bank inbox matches it now (the bank's debit is its word that it paid).
      if (attempt.status !== 'settled' && !(options.includeUnsettled && MAYBE_PAID.has(attempt.status))) continue;
      const j = judgeEntry(transfer.targetAmountMinor, entry);
      // Matched already, or an operator's resolution of its break recorded the match: never a break
      // again. A line that matches is handed back all the same (`previouslyMatched`): the reading
      // that recorded the match may have died before it told the payout (the inbox's facts are
      // written after the matches), and telling it twice is harmless (the inbox routes a fact once).
      if (await em.findOne(ReconciliationMatch, { attemptId: attempt.id })) {
        out.alreadyMatched++;
        if (j.matches) out.previouslyMatched.push({ statement, entryIndex, entry, attempt });
        continue;
      }
      if (j.matches) {
        await inTransaction(orm.em, (tx) => recordMatch(tx, transfer, attempt, statement, entry, j));
        out.matched.push({ statement, entryIndex, entry, attempt });
      } else {
        const row = await inTransaction(orm.em, (tx) => recordBreak(tx, amountBreak(transfer, attempt, statement, entry, j)));
        out.breaks.push(row);
        out.mismatched.push(row);
      }
    }
  }

  return out;
}

/**
 * The daily run for one statement day: every entry matched or made a break, settled attempts
 * absent beyond the match window made breaks, every rail account's closing balance compared with
 * the ledger (a balance that agrees again resolves that day's balance break).
 */
export async function reconcileDay(orm: MikroORM, statements: StatementSource, input: { date: string; matchWindowMs: number }, nowMs = Date.now()): Promise<DailyReconciliation> {
  const em = orm.em.fork();
  const result: DailyReconciliation = { date: input.date, entries: 0, matched: 0, breaks: [], balances: [] };
  const noteBreak = (b: ReconciliationBreakRow) => result.breaks.push({ id: b.id, kind: b.kind, dedupeKey: b.dedupeKey });
  const parsed = await statements.fetch(input.date);
  const bulk = await reconcileStatementEntries(orm, parsed, { includeUnsettled: false });
  result.entries = bulk.entries;
  result.matched = bulk.matched.length + bulk.alreadyMatched;
  for (const b of bulk.breaks) noteBreak(b);

  // Settled with us, never on a statement, and the window to show up has passed.
  const windowEndMs = nowMs - input.matchWindowMs;
  const overdue = await em.find(
    Attempt,
    { status: 'settled', createdAt: { $lt: new Date(windowEndMs), $gte: new Date(windowEndMs - MISSING_SCAN_DAYS * 86_400_000) } },
    { orderBy: { createdAt: 'desc' }, limit: MISSING_SCAN_LIMIT },
  );
  const matched = new Set((await em.find(ReconciliationMatch, { attemptId: { $in: overdue.map((a) => a.id) } }, { fields: ['attemptId'] })).map((m) => m.attemptId));
  for (const attempt of overdue.filter((a) => !matched.has(a.id))) {
    const transfer = await em.findOneOrFail(Transfer, { id: attempt.transferId });
    noteBreak(await inTransaction(orm.em, (tx) => recordBreak(tx, missingBreak(transfer, attempt, input.date))));
  }

  for (const statement of parsed) {
    const account = railAccountOf(statement.accountId);
    if (!account) continue;
    // One transaction: the kept balance and the later postings come from the same snapshot.
    const ledgerMinor = await orm.em.fork().transactional((tx) => ledgerBankBalance(tx, account.rail, statement.currency, input.date));
    result.balances.push({ rail: account.rail, currency: statement.currency, ledgerMinor, statementMinor: statement.closingMinor });
    const key = keys.balance(account.rail, statement.currency, input.date);
    if (ledgerMinor === statement.closingMinor) {
      await inTransaction(orm.em, (tx) => resolveBreak(tx, key, `balances agree at ${ledgerMinor}`));
      continue;
    }
    noteBreak(
      await inTransaction(orm.em, (tx) =>
        recordBreak(tx, {
          dedupeKey: key,
          kind: 'balance_mismatch',
          rail: account.rail,
          currency: statement.currency,
          statementDate: input.date,
          railReference: null,
          transferId: null,
          expectedMinor: ledgerMinor,
          actualMinor: statement.closingMinor,
          detail: `${statement.accountId} closes ${input.date} at ${statement.closingMinor} minor units; the ledger's bank_settlement:${account.rail}:${statement.currency} says ${ledgerMinor} (difference ${statement.closingMinor - ledgerMinor})`,
        }),
      ),
    );
  }
  return result;
}

export function breakView(b: ReconciliationBreakRow) {
  return {
    id: b.id,
    object: 'reconciliation_break',
    kind: b.kind,
    status: b.status,
    rail: b.rail,
    currency: b.currency,
    statementDate: b.statementDate,
    railReference: b.railReference,
    transferId: b.transferId,
    expectedMinor: b.expectedMinor,
    actualMinor: b.actualMinor,
    detail: b.detail,
    createdAt: b.createdAt.toISOString(),
    resolvedAt: b.resolvedAt ? b.resolvedAt.toISOString() : null,
    resolution: b.resolution,
    resolvedBy: b.resolvedBy ?? null,
  };
}

export const BREAK_RESOLUTIONS = ['accept', 'write_off'] as const;
export type BreakResolution = (typeof BREAK_RESOLUTIONS)[number];

/**
 * How much more left our rail settlement account than our books say (negative: less left), for a
 * break an operator may resolve; or why it cannot be resolved that way.
 *   amount_mismatch on a settled attempt: the statement's amount less ours; `accept` takes the
 *     bank's amount as the transfer's (the difference booked to bank_fees), `write_off` books it to
 *     suspense; either way the payment is on the statement, so its match is recorded and the
 *     transfer completes.
 *   unknown_reference: a line we never sent; only `write_off` (to suspense), there is no transfer.
 * A missing_from_statement break ends when the payment shows (the transfer's retry looks again),
 * and a balance_mismatch when the breaks behind it are resolved: neither is booked by hand.
 */
export function breakDifference(b: ReconciliationBreakRow, resolution: BreakResolution, attempt: AttemptRow | null): { extraOutflowMinor: number } | { problem: string } {
  if (b.status !== 'open') return { problem: `break ${b.id} is already resolved: ${b.resolution ?? ''}` };
  if (!b.rail) return { problem: `break ${b.id} names no rail account of ours, so there is nothing to book against` };
  if (b.kind === 'amount_mismatch') {
    if (!b.transferId || b.expectedMinor === null || b.actualMinor === null) return { problem: `break ${b.id} lacks the amounts to book` };
    if (!attempt || attempt.status !== 'settled') return { problem: `break ${b.id} is about an attempt we hold as ${attempt?.status ?? 'missing'}, not settled; settle it with the bank first` };
    return { extraOutflowMinor: b.actualMinor - b.expectedMinor };
  }
  if (b.kind === 'unknown_reference') {
    if (resolution !== 'write_off') return { problem: `break ${b.id} is a statement line Railyard never sent: there is no transfer to accept it into; write it off to suspense` };
    if (b.actualMinor === null) return { problem: `break ${b.id} lacks the amount to book` };
    // Debits are recorded negative: a debit we never sent is money that left.
    return { extraOutflowMinor: -b.actualMinor };
  }
  if (b.kind === 'missing_from_statement') return { problem: `break ${b.id}: the payment is on no statement yet; its transfer's retry looks again once the bank shows it, nothing is booked by hand` };
  return { problem: `break ${b.id} is a balance difference: it resolves itself once the breaks behind it are resolved and the balances agree` };
}

async function attemptOf(em: EntityManager, b: ReconciliationBreakRow): Promise<AttemptRow | null> {
  if (!b.railReference || !b.rail) return null;
  return em.findOne(Attempt, { railReference: b.railReference, rail: b.rail, ...(b.transferId ? { transferId: b.transferId } : {}) }, { orderBy: { createdAt: 'desc' } });
}

/** Throws 404 or 409 unless the break exists and can be resolved this way. */
export async function checkBreakResolution(orm: MikroORM, breakId: string, resolution: BreakResolution): Promise<ReconciliationBreakRow> {
  const em = orm.em.fork();
  const b = await em.findOne(ReconciliationBreak, { id: breakId });
  if (!b) throw new AppError('not_found', `no reconciliation break ${breakId}`, { param: 'id' });
  const d = breakDifference(b, resolution, await attemptOf(em, b));
  if ('problem' in d) throw new AppError('invalid_state', d.problem);
  return b;
}

/**
 * Resolves a break as an approved resolution says, in one transaction: the difference booked with
 * new postings (`<breakId>:accept` or `<breakId>:write_off`; never an edit), the attempt's match
 * recorded for an amount_mismatch (so its transfer completes), the break resolved naming who and
 * why. Idempotent: a break this approval resolved answers with what it booked.
 */
export async function resolveBreakWithPostings(
  orm: MikroORM,
  input: { breakId: string; resolution: BreakResolution; operator: string; reason: string; approvalId: string },
): Promise<{ booked: string; completesTransfer: boolean }> {
  return inTransaction(orm.em, async (tx) => {
    const b = await tx.findOneOrFail(ReconciliationBreak, { id: input.breakId });
    const attempt = await attemptOf(tx, b);
    const externalId = `${b.id}:${input.resolution}`;
    const completesTransfer = b.kind === 'amount_mismatch';
    if (b.status === 'resolved' && b.resolution?.includes(input.approvalId)) {
      const posting = await tx.findOne(Posting, { externalId });
      return { booked: posting ? `booked ${posting.amountMinor} ${posting.currency} minor units as ${posting.code} (${posting.id})` : 'nothing to book: the amounts agree', completesTransfer };
    }
    const d = breakDifference(b, input.resolution, attempt);
    if ('problem' in d) throw new AppError('invalid_state', d.problem);
    let booked = 'nothing to book: the amounts agree';
    if (d.extraOutflowMinor !== 0) {
      const bank = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.bankSettlement(b.rail!), b.currency));
      const counter = await ensureAccount(tx, systemAccountSpec(input.resolution === 'accept' ? SYSTEM_ACCOUNTS.bankFees : SYSTEM_ACCOUNTS.suspense, b.currency));
      const out = d.extraOutflowMinor > 0;
      const code = input.resolution === 'accept' ? 'break_accepted' : 'break_written_off';
      const { posting } = await createPosting(tx, {
        externalId,
        kind: 'single',
        // More left the bank than we booked: the bank account is credited the rest; less: debited back.
        debitAccountId: out ? counter.id : bank.id,
        creditAccountId: out ? bank.id : counter.id,
        currency: b.currency,
        amountMinor: Math.abs(d.extraOutflowMinor),
        code,
        ...(b.transferId ? { transferId: b.transferId } : {}),
      });
      booked = `booked ${posting.amountMinor} ${b.currency} minor units ${out ? 'more' : 'less'} out of bank_settlement:${b.rail} against ${input.resolution === 'accept' ? 'bank_fees' : 'suspense'} as ${code} (${posting.id})`;
    }
    if (completesTransfer && attempt && !(await tx.findOne(ReconciliationMatch, { attemptId: attempt.id }))) {
      await tx.insert(ReconciliationMatch, {
        attemptId: attempt.id,
        transferId: attempt.transferId,
        railReference: attempt.railReference,
        statementId: clipTo(`break:${b.id}`, 64),
        statementDate: b.statementDate ?? utcDate(Date.now()),
        accountServicerRef: '',
        amountMinor: b.actualMinor!,
        chargesMinor: 0,
        beneficiaryReceivedMinor: b.actualMinor!,
        matchedAt: new Date(),
      });
    }
    b.status = 'resolved';
    b.resolvedAt = new Date();
    b.resolvedBy = input.operator.slice(0, 100);
    b.resolution = clipTo(`${input.resolution} by ${input.operator} (approval ${input.approvalId}): ${input.reason}`, 500);
    await tx.flush();
    return { booked, completesTransfer };
  });
}

const clipTo = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
