/**
 * The outcome auditor of a chaos run. As TigerBeetle's simulator does, it accepts a set of right
 * endings rather than one expected result: a payout may complete, be returned, fail or be
 * canceled, whichever the faults made of it, as long as the books agree. What it refuses:
 *
 *   - a transfer that never ended (the scripted operator worked every parked one first);
 *   - one Idempotency-Key making two transfers, or an answer naming a transfer that is not there;
 *   - the bank paying a transfer twice, keeping a payment for one that failed or was canceled, not
 *     paying one that completed, paying another amount, or paying a reference no transfer carries
 *     (a payment the bank paid and sent back before the transfer saw it settle may end `failed`:
 *     it nets to nothing and the hold was voided);
 *   - a return at the bank the transfer does not show, or the other way round;
 *   - an accepted cancel that did not end the transfer canceled, or a cancel refused while the
 *     transfer was still `created` (nothing held, nothing sent);
 *   - any ledger invariant broken (`npm run audit:ledger`, ledger/auditor.ts);
 *   - a client balance other than deposits − posted payouts + returns, or money still held;
 *   - a message of the bank left unrouted: a statement entry neither matched nor a break, a
 *     notification of change that never reached its transfer (the simulator has no outbox: these
 *     are the messages it sends, read from its books);
 *   - an API key in any process's output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { TERMINAL_STATUSES } from '../core/transfer';
import { PAID_STATUSES, type Bank, type SimPaymentView } from './bank';
import type { RailyardClient } from './client';
import { listTransfers, type TransferSummary } from './operator';
import type { PayoutPlan } from './schedule';
import { runScript, type Topology } from './topology';

export interface ChaosClient {
  id: string;
  apiKey: string;
  depositsMinor: Record<string, number>;
}

export interface PayoutOutcome {
  plan: PayoutPlan;
  clientId: string;
  /** The final HTTP status the client got for its POST /v1/transfers (0: never an answer). */
  status: number;
  /** The error's code when the final answer was one. */
  errorCode?: string;
  sends: number;
  transferId?: string;
  actions: { who: 'client' | 'operator'; action: 'cancel' | 'retry'; transferId: string; sentAt: string; status: number; code?: string; accepted: boolean }[];
}

export interface AuditResult {
  violations: string[];
  stats: { transfers: number; endings: Record<string, number>; checks: number; failedAfterReturn: number };
}

export async function audit(deps: { topology: Topology; client: RailyardClient; bank: Bank; clients: ChaosClient[]; outcomes: PayoutOutcome[]; converged: boolean }): Promise<AuditResult> {
  const { topology, client, bank, clients, outcomes } = deps;
  const violations: string[] = [];
  let checks = 0;
  const check = (ok: boolean, message: () => string) => {
    checks += 1;
    if (!ok) violations.push(message());
  };
  const transfers = await listTransfers(client, topology.opsKey);
  const label = (t: TransferSummary) => `${t.id} (payout #${t.metadata.chaosPayout ?? '?'}, ${t.rail}, ${t.status})`;
  const endings: Record<string, number> = {};
  for (const t of transfers) endings[t.status] = (endings[t.status] ?? 0) + 1;

  // Every transfer ended.
  check(deps.converged, () => 'the operator could not bring every transfer to an end in time');
  for (const t of transfers) check(TERMINAL_STATUSES.includes(t.status as never), () => `${label(t)} did not end: last event "${t.events.at(-1)?.reason ?? t.events.at(-1)?.status}"`);

  // One Idempotency-Key, one transfer; the answer names it.
  const byPayout = new Map<string, TransferSummary[]>();
  for (const t of transfers) {
    const index = t.metadata.chaosPayout;
    check(index !== undefined, () => `${t.id} was made by no request of the client`);
    if (index !== undefined) byPayout.set(index, [...(byPayout.get(index) ?? []), t]);
  }
  for (const o of outcomes) {
    const made = byPayout.get(String(o.plan.index)) ?? [];
    check(made.length <= 1, () => `payout #${o.plan.index} (one Idempotency-Key) made ${made.length} transfers: ${made.map((t) => t.id).join(', ')}`);
    if (o.transferId) check(made.some((t) => t.id === o.transferId), () => `payout #${o.plan.index} was answered ${o.status} with ${o.transferId}, which is not among its transfers`);
  }

  // The bank paid each transfer at most once, and exactly once if and only if it completed or was returned.
  const owners = new Map<string, TransferSummary>();
  const payments = new Map<string, SimPaymentView>();
  let failedAfterReturn = 0;
  for (const t of transfers) {
    // Booked at the bank and not undone (pending, held, settled), or paid and sent back (returned).
    const kept: SimPaymentView[] = [];
    const sentBack: SimPaymentView[] = [];
    for (const a of t.attempts) {
      owners.set(a.railReference, t);
      const p = await bank.payment(a.railReference);
      if (!p) continue;
      payments.set(a.railReference, p);
      if (p.status === 'returned') sentBack.push(p);
      else if (PAID_STATUSES.has(p.status)) kept.push(p);
    }
    const paid = [...kept, ...sentBack];
    const list = (ps: SimPaymentView[]) => ps.map((p) => `${p.reference} ${p.status}`).join(', ');
    check(paid.length <= 1, () => `${label(t)} was paid ${paid.length} times by the bank: ${list(paid)}`);
    if (t.status === 'completed') check(kept.length === 1 && sentBack.length === 0, () => `${label(t)} but at the bank: ${list(paid) || 'no payment'}`);
    else if (t.status === 'returned') check(sentBack.length === 1 && kept.length === 0, () => `${label(t)} but at the bank: ${list(paid) || 'no payment'}`);
    else if (TERMINAL_STATUSES.includes(t.status as never)) {
      // Failed or canceled: nothing may stay paid. A payment the bank paid and sent back before
      // the transfer saw it settle nets to nothing, and the hold was voided: a right ending too.
      check(kept.length === 0, () => `${label(t)} but the bank paid it: ${list(kept)}`);
      if (sentBack.length > 0) failedAfterReturn += 1;
    }
    for (const p of paid) check(p.amountMinor === t.targetAmountMinor && p.currency === t.targetCurrency, () => `${label(t)} is for ${t.targetAmountMinor} ${t.targetCurrency}; the bank paid ${p.amountMinor} ${p.currency}`);
  }
  for (const reference of await bank.bookedReferences()) {
    if (owners.has(reference)) continue;
    const p = await bank.payment(reference);
    check(!p || !PAID_STATUSES.has(p.status), () => `the bank paid ${reference} (${p!.amountMinor} ${p!.currency}, ${p!.rail}), which no transfer attempt carries`);
  }

  // An accepted cancel ends the transfer canceled; a cancel before anything happened is never refused.
  const byId = new Map(transfers.map((t) => [t.id, t]));
  for (const o of outcomes) {
    for (const a of o.actions) {
      if (a.action !== 'cancel') continue;
      const t = byId.get(a.transferId);
      if (a.accepted) check(t?.status === 'canceled', () => `${t ? label(t) : a.transferId}: the ${a.who}'s cancel was accepted, yet it ended ${t?.status ?? 'missing'}`);
      const before = t?.events.filter((e) => e.at < a.sentAt) ?? [];
      if (a.code === 'invalid_state' && before.length > 0) check(before.some((e) => e.status !== 'created'), () => `${label(t!)}: the ${a.who}'s cancel at ${a.sentAt} was refused (409 invalid_state) while the transfer was still created`);
    }
  }

  // The ledger's own invariants.
  const ledgerLog = path.join(topology.dir, 'ledger-audit.log');
  const code = await runScript('scripts/audit-ledger.ts', topology.env, ledgerLog);
  check(code === 0, () => `npm run audit:ledger exited ${code}: ${readFileSync(ledgerLog, 'utf8').trim().split('\n').slice(0, 3).join(' | ')}`);

  // Balances: deposits − posted payouts + returns, nothing left held.
  for (const [i, c] of clients.entries()) {
    const expected: Record<string, number> = { ...c.depositsMinor };
    for (const t of transfers) {
      if (byPayoutClient(t, outcomes) !== i) continue;
      if (t.status === 'completed' || t.status === 'returned') expected[t.currency] = (expected[t.currency] ?? 0) - t.amountMinor;
      if (t.status === 'returned') expected[t.targetCurrency] = (expected[t.targetCurrency] ?? 0) + t.targetAmountMinor;
    }
    const res = await client.get('/v1/balances', c.apiKey);
    const balances = new Map<string, { availableMinor: number; heldMinor: number }>((res.body?.data ?? []).map((b: { currency: string; availableMinor: number; heldMinor: number }) => [b.currency, b]));
    for (const [currency, amountMinor] of Object.entries(expected)) {
      const b = balances.get(currency);
      check(b?.availableMinor === amountMinor && b?.heldMinor === 0, () => `client ${c.id} ${currency}: expected ${amountMinor} available and 0 held, the API says ${b?.availableMinor} available and ${b?.heldMinor} held`);
    }
  }

  // Every message of the bank routed: statement entries matched or breaks, notifications of change recorded.
  const db = await mysql.createConnection(topology.databaseUrl);
  try {
    const [matchRows] = await db.query('select rail_reference from reconciliation_matches');
    const [breakRows] = await db.query('select rail_reference from reconciliation_breaks where rail_reference is not null');
    const [nocRows] = await db.query('select trace_number, code from ach_corrections');
    const accounted = new Set([...(matchRows as { rail_reference: string }[]), ...(breakRows as { rail_reference: string }[])].map((r) => r.rail_reference));
    const nocs = new Set((nocRows as { trace_number: string; code: string }[]).map((r) => `${r.trace_number}|${r.code}`));
    for (const [reference, p] of payments) {
      if (p.status === 'settled' || p.status === 'returned') check(accounted.has(reference), () => `the bank's statement entry for ${reference} (${label(owners.get(reference)!)}) was neither matched nor a break`);
      if (p.correction) check(nocs.has(`${reference}|${p.correction.code}`), () => `the bank's notification of change ${p.correction!.code} for trace ${reference} (${label(owners.get(reference)!)}) never reached its transfer`);
    }
  } finally {
    await db.end();
  }

  // No API key in any process's output.
  const keys = [{ name: 'the ops key', key: topology.opsKey }, ...clients.map((c, i) => ({ name: `client ${i}'s key`, key: c.apiKey }))];
  for (const file of readdirSync(topology.logDir)) {
    const text = readFileSync(path.join(topology.logDir, file), 'utf8');
    for (const { name, key } of keys) {
      const times = text.split(key).length - 1;
      check(times === 0, () => `${name} appears ${times} times in logs/${file}`);
    }
  }

  return { violations, stats: { transfers: transfers.length, endings, checks, failedAfterReturn } };
}

/** The client (index into the run's clients) whose request made the transfer. */
function byPayoutClient(t: TransferSummary, outcomes: PayoutOutcome[]): number | undefined {
  return outcomes[Number(t.metadata.chaosPayout)]?.plan.client;
}
