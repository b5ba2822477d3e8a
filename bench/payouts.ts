/**
 * What the scenarios do to the stack: seed clients through the ops API, post payouts as a client
 * would, steer the bank simulator, watch statuses through Temporal visibility (no queries, which
 * are billable actions; no polling of the API, whose CPU is measured), read histories, and read the
 * database for the final verdict.
 */
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { temporal } from '@temporalio/proto';
import { openOrm } from '../db/orm';
import type { Stack } from './stack';
import type { HistoryEvent } from './actions';

export type BenchRail = 'ach' | 'sepa' | 'sepa_instant' | 'swift' | 'rtp';
export const RAILS: readonly BenchRail[] = ['ach', 'sepa', 'sepa_instant', 'swift', 'rtp'];

const US = { name: 'Ada Lovelace', country: 'US', accountNumber: '000123456789', routingNumber: '110000000' };
const DE = { name: 'Emilie du Chatelet', country: 'DE', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' };
const GB = { name: 'Mary Somerville', country: 'GB', iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2LXXX' };

/** A happy-path payout body for the rail; SWIFT goes cross-currency (USD → GBP), so it runs the FX step too. */
export function payoutBody(rail: BenchRail, amountMinor: number): Record<string, unknown> {
  switch (rail) {
    case 'ach':
    case 'rtp':
      return { amountMinor, currency: 'USD', rail, beneficiary: US, reference: 'bench' };
    case 'sepa':
    case 'sepa_instant':
      return { amountMinor, currency: 'EUR', rail, beneficiary: DE, reference: 'bench' };
    case 'swift':
      return { amountMinor, currency: 'USD', targetCurrency: 'GBP', rail, beneficiary: GB, reference: 'bench' };
  }
}

export interface Answer {
  status: number;
  body: any;
  ms: number;
}

export async function call(url: string, method: string, key: string | undefined, body?: unknown): Promise<Answer> {
  const started = performance.now();
  const res = await fetch(url, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json', 'idempotency-key': randomUUID() } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - started;
  return { status: res.status, body: text ? JSON.parse(text) : null, ms };
}

export interface BenchClient {
  id: string;
  key: string;
}

const DEPOSIT_MINOR = 1_000_000_000;

/** Clients funded in USD and EUR, created through the ops API as an operator would. */
export async function seedClients(stack: Stack, count: number, name: string): Promise<BenchClient[]> {
  const out: BenchClient[] = [];
  for (let i = 0; i < count; i++) {
    const created = await call(`${stack.apiUrl}/v1/ops/clients`, 'POST', stack.opsKey, { name: `${name} ${i + 1}` });
    if (created.status !== 201) throw new Error(`creating a client answered ${created.status}: ${JSON.stringify(created.body)}`);
    for (const currency of ['USD', 'EUR']) {
      const dep = await call(`${stack.apiUrl}/v1/ops/clients/${created.body.id}/deposits`, 'POST', stack.opsKey, { currency, amountMinor: DEPOSIT_MINOR, reference: `bench-${currency}` });
      if (dep.status !== 201) throw new Error(`a deposit answered ${dep.status}: ${JSON.stringify(dep.body)}`);
    }
    out.push({ id: created.body.id, key: created.body.apiKey });
  }
  return out;
}

export interface Posted {
  id: string;
  ms: number;
  acceptedAtMs: number;
  /**
   * The API answered 503: the transfer was recorded but its workflow did not confirm the hold in
   * time. It is not lost (it runs on, or the recovery sweep starts it): it is counted as refused,
   * and must still end as expected.
   */
  refused: boolean;
}

/** POST /v1/transfers: 201, or a 503 naming the recorded transfer; any other answer is an error the scenario reports. */
export async function postPayout(stack: Stack, client: BenchClient, body: Record<string, unknown>): Promise<Posted> {
  const res = await call(`${stack.apiUrl}/v1/transfers`, 'POST', client.key, body);
  if (res.status === 201) return { id: res.body.id, ms: res.ms, acceptedAtMs: Date.now(), refused: false };
  const recorded = res.status === 503 ? /\b(tr_[0-9a-z]+)\b/.exec(String(res.body?.error?.message ?? '')) : null;
  if (recorded) return { id: recorded[1], ms: res.ms, acceptedAtMs: Date.now(), refused: true };
  throw new Error(`POST /v1/transfers answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
}

export async function simRule(stack: Stack, rule: Record<string, unknown>): Promise<void> {
  const res = await call(`${stack.simUrl}/sim/rules`, 'POST', undefined, rule);
  if (res.status !== 201) throw new Error(`the simulator refused the rule: ${JSON.stringify(res.body)}`);
}

export async function clearSimRules(stack: Stack): Promise<void> {
  await fetch(`${stack.simUrl}/sim/rules`, { method: 'DELETE' });
}

/** The end-to-end references of the payments the bank holds with this amount (from the simulator's submissions). */
export async function heldReferences(stack: Stack, amountMinor: number): Promise<string[]> {
  const res = await fetch(`${stack.simUrl}/sim/submissions`);
  const body = (await res.json()) as { data: { reference: string; amountMinor: number; status: string }[] };
  return [...new Set(body.data.filter((s) => s.amountMinor === amountMinor && s.reference).map((s) => s.reference))];
}

/**
 * Waits until the bank holds `count` payments of `amountMinor` (its submissions list): a payout
 * held at the bank is `submitted` in the database, a status the workflow does not upsert to
 * visibility (workflows/transfer/workflow.ts), so the bank is where to see it.
 */
export async function waitForHeld(stack: Stack, amountMinor: number, count: number, deadlineMs: number, pollMs = 500): Promise<{ reachedAtMs: number | null; count: number }> {
  for (;;) {
    const seen = (await heldReferences(stack, amountMinor)).length;
    if (seen >= count) return { reachedAtMs: Date.now(), count: seen };
    if (Date.now() >= deadlineMs) return { reachedAtMs: null, count: seen };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

export async function releaseHeld(stack: Stack, references: readonly string[], concurrency = 16): Promise<number> {
  let next = 0;
  let released = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < references.length) {
        const reference = references[next++];
        const res = await fetch(`${stack.simUrl}/sim/payments/${encodeURIComponent(reference)}/release`, { method: 'POST' });
        await res.arrayBuffer();
        if (res.ok) released++;
      }
    }),
  );
  return released;
}

/**
 * Read-only access to the stack's database, once its processes have stopped: the embedded SQLite
 * file takes no second process while the stack writes to it (a reader's lock fails their writes).
 */
export class BenchDb {
  private constructor(private readonly orm: MikroORM) {}

  static async open(stack: Stack): Promise<BenchDb> {
    return new BenchDb(await openOrm({ databaseUrl: stack.databaseUrl, dataDir: stack.dataDir }));
  }

  private async select(sql: string, params: unknown[]): Promise<any[]> {
    const em = this.orm.em.fork() as SqlEntityManager;
    for (let attempt = 1; ; attempt++) {
      try {
        return await em.getConnection().execute(sql, params);
      } catch (err) {
        // SQLite shared with the running stack may be busy for a moment.
        if (attempt >= 10 || !/BUSY|locked/i.test((err as Error).message)) throw err;
        await new Promise((r) => setTimeout(r, 100 * attempt));
      }
    }
  }

  async statuses(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await this.select(`select id, status from transfers where id in (${chunk.map(() => '?').join(',')})`, chunk);
      for (const row of rows) out.set(row.id, row.status);
    }
    return out;
  }

  close(): Promise<void> {
    return this.orm.close();
  }
}

/**
 * Waits until `count` payouts of these clients carry TransferStatus `status` (Temporal visibility:
 * watching this way costs no actions and takes no lock in the stack's database). Returns when
 * that was seen, or how many had got there by the deadline.
 */
export async function waitForStatus(stack: Stack, clients: readonly BenchClient[], status: string, count: number, deadlineMs: number, pollMs = 500): Promise<{ reachedAtMs: number | null; count: number }> {
  const query = `TransferClientId IN (${clients.map((c) => `"${c.id}"`).join(', ')}) AND TransferStatus = "${status}"`;
  for (;;) {
    const seen = (await stack.temporal.workflow.count(query)).count;
    if (seen >= count) return { reachedAtMs: Date.now(), count: seen };
    if (Date.now() >= deadlineMs) return { reachedAtMs: null, count: seen };
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** Proto values as the JSON history format writes them: int64 as strings, bytes as base64, durations as "1.5s". */
function jsonValue(key: string, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value !== 'object') return value;
  const v = value as Record<string, unknown>;
  if ('low' in v && 'high' in v && typeof v.toString === 'function') return v.toString();
  if (/(Timeout|Interval|Duration)$/.test(key) && 'seconds' in v) return `${Number(String(v.seconds ?? 0)) + Number(v.nanos ?? 0) / 1e9}s`;
  if (Array.isArray(value)) return value.map((item) => jsonValue('', item));
  const out: Record<string, unknown> = {};
  for (const [k, inner] of Object.entries(v)) {
    const converted = jsonValue(k, inner);
    if (converted !== undefined) out[k] = converted;
  }
  return out;
}

/** A workflow's history as JSON events (the format of test/histories/*.json), as far as the bench reads them. */
export async function historyOf(stack: Stack, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  const history = await stack.temporal.workflow.getHandle(workflowId, runId).fetchHistory();
  return (history.events ?? []).map((e) => {
    const event: HistoryEvent = {
      eventId: String(e.eventId),
      eventTime: new Date(Number(String(e.eventTime?.seconds ?? 0)) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6)).toISOString(),
      eventType: temporal.api.enums.v1.EventType[e.eventType ?? 0],
    };
    for (const [key, value] of Object.entries(e)) if (key.endsWith('EventAttributes') && value) event[key] = jsonValue(key, value);
    return event;
  });
}

/** Runs `task` for each item with at most `concurrency` at once; collects results in order and the errors. */
export async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<R>): Promise<{ results: (R | undefined)[]; errors: string[] }> {
  const results: (R | undefined)[] = new Array(items.length);
  const errors: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        try {
          results[i] = await task(items[i], i);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    }),
  );
  return { results, errors };
}
