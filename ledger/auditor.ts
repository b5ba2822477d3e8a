/**
 * The invariant auditor: checks SPEC §3's ledger invariants against the database and reports
 * every violation. Read-only; run it any time (`npm run audit:ledger`) and after every
 * property-test sequence.
 *
 *   1. kept balances  — every account's four kept balances equal the sums of its postings;
 *   2. zero sum       — per currency, posted debits equal posted credits, pending likewise;
 *   3. no overdraft   — no client account's available balance is below zero;
 *   4. one currency   — every posting's accounts are in the posting's currency;
 *   5. holds resolve  — a resolution matches its hold; no hold outlives its expiry or its transfer;
 *   6. transfer legs  — a completed transfer has its posted legs (hold posted, payout settled); a
 *                       failed or canceled one moved nothing: no settlement leg, and its postings on
 *                       the client's accounts net to zero (a conversion unwound, the client credited back).
 */
import type { EntityManager } from '@mikro-orm/core';
import { Account, Posting, Transfer, type PostingRow } from '../db/schema';

export interface Violation {
  invariant: 'kept_balances' | 'zero_sum' | 'no_overdraft' | 'one_currency' | 'holds_resolve' | 'transfer_legs';
  subject: string;
  detail: string;
}

/** Postings are read in pages of this size: the audit's memory stays bounded whatever the ledger's size. */
const PAGE_SIZE = 5_000;

type Sums = { debitsPending: number; debitsPosted: number; creditsPending: number; creditsPosted: number };

export async function auditLedger(em: EntityManager, now: Date = new Date()): Promise<Violation[]> {
  // One transaction: every read sees the same snapshot, so work committing meanwhile cannot
  // show up as a half-applied posting.
  // (InnoDB's default REPEATABLE READ fixes the snapshot at the first read; SQLite transactions are serializable.)
  return em.fork().transactional((tx) => audit(tx, now));
}

async function audit(fork: EntityManager, now: Date): Promise<Violation[]> {
  const violations: Violation[] = [];
  const accounts = new Map((await fork.find(Account, {})).map((a) => [a.id, a]));
  const sums = new Map<string, Sums>();
  const sumsOf = (id: string): Sums => {
    let s = sums.get(id);
    if (!s) sums.set(id, (s = { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 }));
    return s;
  };

  const holds = new Map<string, PostingRow>();
  const resolutions = new Map<string, PostingRow>();
  const postedByTransfer = new Map<string, PostingRow[]>();

  for (let offset = 0; ; offset += PAGE_SIZE) {
    const page = await fork.find(Posting, {}, { orderBy: { id: 'asc' }, limit: PAGE_SIZE, offset });
    for (const p of page) {
      const debit = sumsOf(p.debitAccountId);
      const credit = sumsOf(p.creditAccountId);
      const a = p.amountMinor;
      if (!Number.isSafeInteger(a) || a <= 0) violations.push({ invariant: 'kept_balances', subject: p.id, detail: `amount ${a} is not a positive safe integer` });
      switch (p.kind) {
        case 'single':
          debit.debitsPosted += a;
          credit.creditsPosted += a;
          break;
        case 'pending':
          debit.debitsPending += a;
          credit.creditsPending += a;
          holds.set(p.id, p);
          break;
        case 'post_pending':
          debit.debitsPending -= a;
          debit.debitsPosted += a;
          credit.creditsPending -= a;
          credit.creditsPosted += a;
          break;
        case 'void_pending':
        case 'expire_pending':
          debit.debitsPending -= a;
          credit.creditsPending -= a;
          break;
      }
      if (p.pendingId) resolutions.set(p.pendingId, p);
      if (p.transferId && (p.kind === 'single' || p.kind === 'post_pending')) {
        postedByTransfer.set(p.transferId, [...(postedByTransfer.get(p.transferId) ?? []), p]);
      }
      for (const id of [p.debitAccountId, p.creditAccountId]) {
        const account = accounts.get(id);
        if (!account) violations.push({ invariant: 'one_currency', subject: p.id, detail: `account ${id} does not exist` });
        else if (account.currency !== p.currency) {
          violations.push({ invariant: 'one_currency', subject: p.id, detail: `${p.currency} posting touches ${account.currency} account ${id}` });
        }
      }
    }
    if (page.length < PAGE_SIZE) break;
  }

  const totals = new Map<string, Sums>();
  for (const account of accounts.values()) {
    const s = sumsOf(account.id);
    const kept: Sums = {
      debitsPending: account.debitsPendingMinor,
      debitsPosted: account.debitsPostedMinor,
      creditsPending: account.creditsPendingMinor,
      creditsPosted: account.creditsPostedMinor,
    };
    for (const key of Object.keys(kept) as (keyof Sums)[]) {
      if (kept[key] !== s[key]) {
        violations.push({ invariant: 'kept_balances', subject: account.accountKey, detail: `${key} is ${kept[key]}, postings sum to ${s[key]}` });
      }
    }
    const t = totals.get(account.currency) ?? { debitsPending: 0, debitsPosted: 0, creditsPending: 0, creditsPosted: 0 };
    for (const key of Object.keys(t) as (keyof Sums)[]) t[key] += kept[key];
    totals.set(account.currency, t);
    if (account.mustNotOverdraw && kept.creditsPosted - kept.debitsPosted - kept.debitsPending < 0) {
      violations.push({ invariant: 'no_overdraft', subject: account.accountKey, detail: `available is ${kept.creditsPosted - kept.debitsPosted - kept.debitsPending}` });
    }
  }
  for (const [currency, t] of totals) {
    if (t.debitsPosted !== t.creditsPosted) violations.push({ invariant: 'zero_sum', subject: currency, detail: `posted debits ${t.debitsPosted} ≠ posted credits ${t.creditsPosted}` });
    if (t.debitsPending !== t.creditsPending) violations.push({ invariant: 'zero_sum', subject: currency, detail: `pending debits ${t.debitsPending} ≠ pending credits ${t.creditsPending}` });
  }

  for (const [pendingId, r] of resolutions) {
    const hold = holds.get(pendingId);
    if (!hold) violations.push({ invariant: 'holds_resolve', subject: r.id, detail: `resolves ${pendingId}, which is not a hold` });
    else if (hold.amountMinor !== r.amountMinor || hold.debitAccountId !== r.debitAccountId || hold.creditAccountId !== r.creditAccountId) {
      violations.push({ invariant: 'holds_resolve', subject: r.id, detail: `does not match hold ${pendingId}` });
    }
  }
  const transfers = new Map((await fork.find(Transfer, {}, { fields: ['id', 'status'] })).map((t) => [t.id, t.status]));
  for (const hold of holds.values()) {
    if (resolutions.has(hold.id)) continue;
    if (hold.expiresAt && hold.expiresAt.getTime() <= now.getTime()) {
      violations.push({ invariant: 'holds_resolve', subject: hold.id, detail: `expired at ${hold.expiresAt.toISOString()} and is still pending` });
    }
    const status = hold.transferId ? transfers.get(hold.transferId) : undefined;
    if (status && ['completed', 'failed', 'canceled', 'returned'].includes(status)) {
      violations.push({ invariant: 'holds_resolve', subject: hold.id, detail: `transfer ${hold.transferId} is ${status} but its hold is still pending` });
    }
  }
  const isClient = (accountId: string) => accounts.get(accountId)?.kind === 'client';
  for (const [transferId, status] of transfers) {
    const posted = postedByTransfer.get(transferId) ?? [];
    const settled = posted.some((p) => p.code === 'payout_settled');
    if (status === 'completed' && (!posted.some((p) => p.kind === 'post_pending') || !settled)) {
      violations.push({ invariant: 'transfer_legs', subject: transferId, detail: 'completed without a posted hold and a settlement leg' });
    }
    if (status === 'failed' || status === 'canceled') {
      const net = posted.reduce((sum, p) => sum + (isClient(p.creditAccountId) ? p.amountMinor : 0) - (isClient(p.debitAccountId) ? p.amountMinor : 0), 0);
      if (settled || net !== 0) {
        violations.push({ invariant: 'transfer_legs', subject: transferId, detail: `${status} but moved money: settlement leg ${settled}, client net ${net}` });
      }
    }
  }
  return violations;
}
