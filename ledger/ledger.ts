/**
 * The double-entry ledger. Every movement of money is a posting: one debit account, one credit
 * account, one amount, one currency. Postings are insert-only; a hold is a `pending` posting that a
 * later `post_pending` or `void_pending` posting resolves (at most once: `pending_id` is unique).
 *
 * Balances are kept on the account rows and changed in the same transaction as the posting insert.
 * A client account may never have debits (posted + pending) above its posted credits; the guard is a
 * conditional UPDATE, so concurrent holds serialize on the row lock and can never overdraw.
 *
 * Idempotency: every posting carries an external ID. The same request twice returns the first
 * posting; the same ID with different content is a `ledger_conflict` error.
 */
import { raw, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../core/ids';
import { assertAmountMinor, isCurrency } from '../core/money';
import { Account, Posting, type AccountKind, type AccountRow, type PostingKind, type PostingRow } from '../db/schema';

export class LedgerError extends Error {
  constructor(
    readonly code: 'insufficient_funds' | 'ledger_conflict' | 'hold_not_found' | 'hold_already_resolved' | 'currency_mismatch',
    message: string,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

export const SYSTEM_ACCOUNTS = {
  /** Our bank account where client deposits arrive. */
  bankDeposits: 'bank_deposits',
  /** Money held for payouts between posting the hold and the bank's settlement. */
  payoutsInFlight: 'payouts_in_flight',
  /** Our settlement account at the bank, per rail. */
  bankSettlement: (rail: string) => `bank_settlement:${rail}`,
  /** Our FX liquidity per currency: conversions take in one currency and pay out of another. */
  fxLiquidity: 'fx_liquidity',
  /** FX fees and spread earned. */
  feeRevenue: 'fee_revenue',
  fxSpreadRevenue: 'fx_spread_revenue',
  /** Gains and losses from unwinding a conversion at a later rate: booked, never hidden. */
  fxGainLoss: 'fx_gain_loss',
  /** Charges our bank debited to us for payments (SWIFT OUR): an expense, booked when the statement shows it. */
  bankFees: 'bank_fees',
  /** Money we cannot yet attribute. */
  suspense: 'suspense',
} as const;

export function clientAccountKey(clientId: string, currency: string): string {
  return `client:${clientId}:${currency}`;
}

export function systemAccountKey(name: string, currency: string): string {
  return `system:${name}:${currency}`;
}

const MAX_TX_ATTEMPTS = 8;

function isRetryableTxError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; errno?: number; message?: string };
  return (
    e?.name === 'DeadlockException' ||
    e?.name === 'LockWaitTimeoutException' ||
    e?.errno === 1213 ||
    e?.errno === 1205 ||
    /SQLITE_BUSY|database is locked/i.test(e?.message ?? '')
  );
}

/**
 * Runs fn in a transaction, retrying deadlocks, lock timeouts and lost insert races a bounded
 * number of times. fn must be safe to re-run from the start: it re-reads everything it needs.
 */
export async function inTransaction<T>(em: EntityManager, fn: (tx: SqlEntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await em.fork().transactional((tx) => fn(tx as SqlEntityManager));
    } catch (err) {
      const retryable = isRetryableTxError(err) || err instanceof UniqueConstraintViolationException;
      if (!retryable || attempt >= MAX_TX_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10 * attempt)));
    }
  }
}

export interface AccountSpec {
  key: string;
  currency: string;
  kind: AccountKind;
  clientId?: string;
  mustNotOverdraw: boolean;
}

export async function ensureAccount(em: SqlEntityManager, spec: AccountSpec): Promise<AccountRow> {
  if (!isCurrency(spec.currency)) throw new RangeError(`unknown currency ${spec.currency}`);
  const existing = await em.findOne(Account, { accountKey: spec.key });
  if (existing) return existing;
  const now = new Date();
  const row: AccountRow = {
    id: newId('acc'),
    accountKey: spec.key,
    clientId: spec.clientId ?? null,
    currency: spec.currency,
    kind: spec.kind,
    mustNotOverdraw: spec.mustNotOverdraw,
    debitsPendingMinor: 0,
    debitsPostedMinor: 0,
    creditsPendingMinor: 0,
    creditsPostedMinor: 0,
    createdAt: now,
    updatedAt: now,
  };
  // A concurrent creator makes this insert fail; inTransaction re-runs and finds the row.
  await em.insert(Account, row);
  return row;
}

export function clientAccountSpec(clientId: string, currency: string): AccountSpec {
  return { key: clientAccountKey(clientId, currency), currency, kind: 'client', clientId, mustNotOverdraw: true };
}

export function systemAccountSpec(name: string, currency: string): AccountSpec {
  return { key: systemAccountKey(name, currency), currency, kind: 'system', mustNotOverdraw: false };
}

export interface TransferRequest {
  externalId: string;
  kind: 'single' | 'pending';
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amountMinor: number;
  code: string;
  transferId?: string;
  expiresAt?: Date;
}

export interface ResolveRequest {
  externalId: string;
  kind: 'post_pending' | 'void_pending' | 'expire_pending';
  pendingId: string;
  code: string;
}

export interface PostResult {
  posting: PostingRow;
  /** False when the external ID was already used for this same request. */
  created: boolean;
}

type BalanceColumn = 'debits_pending_minor' | 'debits_posted_minor' | 'credits_pending_minor' | 'credits_posted_minor';

async function adjust(
  tx: SqlEntityManager,
  accountId: string,
  deltas: Partial<Record<BalanceColumn, number>>,
  guardAgainstOverdraw: boolean,
): Promise<boolean> {
  const set: Record<string, unknown> = { updatedAt: new Date() };
  const propOf: Record<BalanceColumn, keyof AccountRow> = {
    debits_pending_minor: 'debitsPendingMinor',
    debits_posted_minor: 'debitsPostedMinor',
    credits_pending_minor: 'creditsPendingMinor',
    credits_posted_minor: 'creditsPostedMinor',
  };
  let debitIncrease = 0;
  for (const [column, delta] of Object.entries(deltas) as [BalanceColumn, number][]) {
    assertAmountMinor(delta, column);
    set[propOf[column]] = raw(`${column} + ?`, [delta]);
    if (column.startsWith('debits_')) debitIncrease += delta;
  }
  const qb = tx.createQueryBuilder(Account).update(set).where({ id: accountId });
  if (guardAgainstOverdraw && debitIncrease > 0) {
    // Evaluated under the row lock: the check and the change are one atomic step.
    qb.andWhere(
      `(must_not_overdraw = ? or debits_posted_minor + debits_pending_minor + ? <= credits_posted_minor)`,
      [false, debitIncrease],
    );
  }
  const result = await qb.execute('run');
  return (result as { affectedRows: number }).affectedRows === 1;
}

function sameRequest(existing: PostingRow, req: TransferRequest): boolean {
  return (
    existing.kind === req.kind &&
    existing.debitAccountId === req.debitAccountId &&
    existing.creditAccountId === req.creditAccountId &&
    existing.currency === req.currency &&
    existing.amountMinor === req.amountMinor &&
    existing.code === req.code &&
    existing.transferId === (req.transferId ?? null)
  );
}

/** Inside a transaction: a single-phase posting or a new hold. */
export async function createPosting(tx: SqlEntityManager, req: TransferRequest): Promise<PostResult> {
  assertAmountMinor(req.amountMinor);
  if (req.amountMinor <= 0) throw new RangeError(`posting amount must be positive, got ${req.amountMinor}`);
  if (req.debitAccountId === req.creditAccountId) throw new RangeError('debit and credit accounts must differ');

  const existing = await tx.findOne(Posting, { externalId: req.externalId });
  if (existing) {
    if (!sameRequest(existing, req)) {
      throw new LedgerError('ledger_conflict', `external ID ${req.externalId} was already used for a different posting`);
    }
    return { posting: existing, created: false };
  }

  const accounts = await tx.find(Account, { id: { $in: [req.debitAccountId, req.creditAccountId] } });
  for (const id of [req.debitAccountId, req.creditAccountId]) {
    const account = accounts.find((a) => a.id === id);
    if (!account) throw new RangeError(`account ${id} does not exist`);
    if (account.currency !== req.currency) {
      throw new LedgerError('currency_mismatch', `account ${id} is ${account.currency}, posting is ${req.currency}`);
    }
  }

  const posting: PostingRow = {
    id: newId('pst'),
    externalId: req.externalId,
    kind: req.kind,
    pendingId: null,
    debitAccountId: req.debitAccountId,
    creditAccountId: req.creditAccountId,
    currency: req.currency,
    amountMinor: req.amountMinor,
    code: req.code,
    transferId: req.transferId ?? null,
    expiresAt: req.expiresAt ?? null,
    createdAt: new Date(),
  };
  await tx.insert(Posting, posting);

  const pending = req.kind === 'pending';
  // Lock rows in ID order so two transactions touching the same pair cannot deadlock each other.
  const steps: [string, Partial<Record<BalanceColumn, number>>, boolean][] = [
    [req.debitAccountId, { [pending ? 'debits_pending_minor' : 'debits_posted_minor']: req.amountMinor }, true],
    [req.creditAccountId, { [pending ? 'credits_pending_minor' : 'credits_posted_minor']: req.amountMinor }, false],
  ];
  steps.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const [accountId, deltas, guard] of steps) {
    if (!(await adjust(tx, accountId, deltas, guard))) {
      throw new LedgerError('insufficient_funds', `account ${accountId} cannot cover ${req.amountMinor} ${req.currency}`);
    }
  }
  return { posting, created: true };
}

/** Inside a transaction: post, void or expire a hold, exactly once. */
export async function resolveHold(tx: SqlEntityManager, req: ResolveRequest): Promise<PostResult> {
  const existing = await tx.findOne(Posting, { externalId: req.externalId });
  if (existing) {
    if (existing.kind !== req.kind || existing.pendingId !== req.pendingId) {
      throw new LedgerError('ledger_conflict', `external ID ${req.externalId} was already used for a different posting`);
    }
    return { posting: existing, created: false };
  }
  const hold = await tx.findOne(Posting, { id: req.pendingId });
  if (!hold || hold.kind !== 'pending') throw new LedgerError('hold_not_found', `no hold ${req.pendingId}`);
  const resolution = await tx.findOne(Posting, { pendingId: req.pendingId });
  if (resolution) {
    throw new LedgerError('hold_already_resolved', `hold ${req.pendingId} was already resolved by ${resolution.kind} ${resolution.id}`);
  }

  const posting: PostingRow = {
    id: newId('pst'),
    externalId: req.externalId,
    kind: req.kind,
    pendingId: hold.id,
    debitAccountId: hold.debitAccountId,
    creditAccountId: hold.creditAccountId,
    currency: hold.currency,
    amountMinor: hold.amountMinor,
    code: req.code,
    transferId: hold.transferId,
    expiresAt: null,
    createdAt: new Date(),
  };
  // The unique pending_id makes a concurrent second resolution fail here, whatever its kind.
  await tx.insert(Posting, posting);

  const amount = hold.amountMinor;
  const post = req.kind === 'post_pending';
  const steps: [string, Partial<Record<BalanceColumn, number>>][] = [
    [hold.debitAccountId, post ? { debits_pending_minor: -amount, debits_posted_minor: amount } : { debits_pending_minor: -amount }],
    [hold.creditAccountId, post ? { credits_pending_minor: -amount, credits_posted_minor: amount } : { credits_pending_minor: -amount }],
  ];
  steps.sort((a, b) => (a[0] < b[0] ? -1 : 1));
  for (const [accountId, deltas] of steps) {
    if (!(await adjust(tx, accountId, deltas, false))) throw new Error(`account ${accountId} vanished while resolving a hold`);
  }
  return { posting, created: true };
}

export interface Balance {
  currency: string;
  availableMinor: number;
  heldMinor: number;
}

export function clientBalance(account: AccountRow): Balance {
  return {
    currency: account.currency,
    availableMinor: account.creditsPostedMinor - account.debitsPostedMinor - account.debitsPendingMinor,
    heldMinor: account.debitsPendingMinor,
  };
}

export type { PostingKind };

/**
 * Expires holds whose `expiresAt` has passed: each gets an `expire_pending` resolution
 * (`<holdId>:expire`). Bounded per call; returns how many it expired.
 */
export async function expireHolds(em: EntityManager, now: Date, limit = 500): Promise<number> {
  const due = await em.fork().find(Posting, { kind: 'pending', expiresAt: { $lte: now } }, { orderBy: { expiresAt: 'asc' }, limit });
  let expired = 0;
  for (const hold of due) {
    const result = await inTransaction(em, async (tx) => {
      if (await tx.findOne(Posting, { pendingId: hold.id })) return false;
      await resolveHold(tx, { externalId: `${hold.id}:expire`, kind: 'expire_pending', pendingId: hold.id, code: 'hold_expired' });
      return true;
    });
    if (result) expired++;
  }
  return expired;
}
