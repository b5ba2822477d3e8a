/**
 * One chaos run: the schedule of a seed played against a fresh deployment, then the scripted
 * operator, then the auditor, and one verdict.
 *
 *   1. buildSchedule(seed)              the payouts, their bank faults, the crashes (schedule.ts)
 *   2. startTopology()                  MariaDB, Temporal, the bank, 2 workers, 2 APIs (topology.ts)
 *   3. clients and deposits             through the ops API
 *   4. the load                         each payout at its moment, each crash at its moment
 *   5. resolveEverything()              the bank back, parked transfers worked to an end (operator.ts)
 *   6. audit()                          the set of right endings (auditor.ts)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Bank } from './bank';
import { RailyardClient } from './client';
import { audit, type AuditResult, type ChaosClient, type PayoutOutcome } from './auditor';
import { reconcileNow, resolveEverything } from './operator';
import { buildSchedule, faultCounts, formatSchedule, type ChaosEvent, type PayoutPlan, type Schedule } from './schedule';
import { startTopology, type Topology } from './topology';

export interface ChaosOptions {
  seed: number;
  transfers: number;
  /** How long the operator may take to bring every transfer to an end. */
  settleTimeoutMs?: number;
  /** Keep the run's folder (logs, data) even when it passes. */
  keep?: boolean;
  print?: (line: string) => void;
}

export interface ChaosResult {
  ok: boolean;
  verdict: string;
  dir: string;
  counts: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Held payments the schedule releases: how long to look for the payment's reference at the bank. */
const RELEASE_LOOK_MS = 30_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const schedule = buildSchedule(options.seed, options.transfers);
  const counts = faultCounts(schedule);
  print(`chaos: seed ${schedule.seed}, ${schedule.payouts.length} payouts`);
  for (const line of formatSchedule(schedule)) print(line);
  print(`faults: ${Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(' ')}`);

  const dir = mkdtempSync(path.join(os.tmpdir(), `railyard-chaos-${schedule.seed}-`));
  let topology: Topology | undefined;
  let result: AuditResult | undefined;
  let failure: string | undefined;
  const startedMs = Date.now();
  try {
    topology = await startTopology(dir);
    print(`deployment up in ${Date.now() - startedMs} ms under ${dir}`);
    const client = new RailyardClient(topology.apiUrls);
    const bank = new Bank(topology.simUrl);
    const clients = await createClients(client, topology.opsKey, schedule);
    const loadStartedMs = Date.now();
    const outcomes = await playLoad(schedule, topology, client, bank, clients);
    const answers: Record<string, number> = {};
    for (const o of outcomes) {
      const answer = o.errorCode ? `${o.status} ${o.errorCode}` : String(o.status);
      answers[answer] = (answers[answer] ?? 0) + 1;
    }
    print(`load played in ${Date.now() - loadStartedMs} ms; POST /v1/transfers final answers ${JSON.stringify(answers)}, resends ${JSON.stringify(client.resends)}`);
    const operator = await resolveEverything({ client, bank, opsKey: topology.opsKey, temporalAddress: topology.temporalAddress, timeoutMs: options.settleTimeoutMs ?? 240_000 });
    print(`operator: ${operator.converged ? 'every transfer ended' : 'gave up waiting'} after ${operator.elapsedMs} ms; actions ${JSON.stringify(operator.actions)}, held payments released ${operator.released}`);
    for (const p of operator.parked) print(`  parked ${p.id}: ${p.reason}`);
    const exits = Object.values(topology.processes).filter((p) => p.unexpectedExits > 0).map((p) => `${p.name} x${p.unexpectedExits}`);
    if (exits.length > 0) print(`processes that exited on their own and were restarted: ${exits.join(', ')}`);
    const days = [...new Set([startedMs, Date.now()].map((ms) => new Date(ms).toISOString().slice(0, 10)))];
    await reconcileNow(topology.temporalAddress, topology.env.PAYLOAD_CODEC_KEYS, days);
    result = await audit({ topology, client, bank, clients, outcomes, converged: operator.converged });
    for (const v of result.violations) print(`  VIOLATION ${v}`);
  } catch (err) {
    failure = (err as Error).stack ?? String(err);
    print(`harness error: ${failure}`);
  } finally {
    await topology?.stop();
  }
  const ok = failure === undefined && result !== undefined && result.violations.length === 0;
  const seconds = Math.round((Date.now() - startedMs) / 1000);
  const summary = result
    ? `${result.stats.transfers} transfers (${Object.entries(result.stats.endings).map(([k, v]) => `${v} ${k}`).join(', ')}${result.stats.failedAfterReturn ? `; ${result.stats.failedAfterReturn} failed after the bank returned them` : ''})`
    : 'no audit';
  const verdict = ok
    ? `VERDICT seed=${schedule.seed} PASS: ${summary}, ${result!.stats.checks} checks, ${seconds} s`
    : `VERDICT seed=${schedule.seed} FAIL: ${failure ? 'harness error: ' + failure.split('\n')[0] : `${result!.violations.length} violation(s): ${result!.violations[0]}`} [${summary}, ${seconds} s; logs in ${dir}]`;
  if (ok && !options.keep) rmSync(dir, { recursive: true, force: true });
  return { ok, verdict, dir, counts };
}

async function createClients(client: RailyardClient, opsKey: string, schedule: Schedule): Promise<ChaosClient[]> {
  const clients: ChaosClient[] = [];
  for (const plan of schedule.clients) {
    const created = await client.post('/v1/ops/clients', { key: opsKey, body: { name: plan.name } });
    if (created.status !== 201) throw new Error(`creating client ${plan.name}: ${created.status} ${JSON.stringify(created.body)}`);
    for (const [currency, amountMinor] of Object.entries(plan.depositsMinor)) {
      const res = await client.post(`/v1/ops/clients/${created.body.id}/deposits`, { key: opsKey, body: { currency, amountMinor, reference: `chaos-${schedule.seed}-${currency}` } });
      if (res.status !== 201) throw new Error(`deposit for ${plan.name}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    clients.push({ id: created.body.id, apiKey: created.body.apiKey, depositsMinor: plan.depositsMinor });
  }
  return clients;
}

/** Plays every payout and every event at its moment; resolves when all of them are done and every process is up. */
async function playLoad(schedule: Schedule, topology: Topology, client: RailyardClient, bank: Bank, clients: ChaosClient[]): Promise<PayoutOutcome[]> {
  const t0 = Date.now();
  const at = (ms: number) => sleep(Math.max(0, t0 + ms - Date.now()));
  // One crash at a time per process kind: a kill waits until the last one of its kind is back
  // up, so one API (one worker) always serves, as behind a load balancer with two replicas.
  const chains = new Map<string, Promise<void>>();
  const events = schedule.events.map(async (event) => {
    await at(event.atMs);
    if (event.kind === 'rail_outage') return bank.railOutage(event.rail, event.behavior, event.times);
    const kind = event.process.replace(/-\d$/, '');
    const next = (chains.get(kind) ?? Promise.resolve()).then(() => crash(topology, client, event));
    chains.set(kind, next);
    return next;
  });
  const payouts = schedule.payouts.map(async (plan) => {
    await at(plan.atMs);
    return payout(plan, client, bank, clients[plan.client], topology.opsKey, schedule.seed);
  });
  await Promise.all(events);
  return Promise.all(payouts);
}

async function crash(topology: Topology, client: RailyardClient, event: Extract<ChaosEvent, { kind: 'kill' }>): Promise<void> {
  const proc = topology.processes[event.process];
  if (event.midRequest && event.process.startsWith('api-')) {
    // Aim at a request on the wire: wait (a bounded while) until this API process is serving one.
    const api = Number(event.process.slice(-1)) - 1;
    for (let waited = 0; waited < 3_000 && client.inFlight[api] === 0; waited += 5) await sleep(5);
  }
  await proc.kill();
  await sleep(event.downMs);
  await proc.start();
}

async function payout(plan: PayoutPlan, client: RailyardClient, bank: Bank, owner: ChaosClient, opsKey: string, seed: number): Promise<PayoutOutcome> {
  if (plan.fault) await bank.plantFault(plan.beneficiary, plan.fault);
  const quote = async () => {
    if (!plan.withQuote) return undefined;
    const res = await client.post('/v1/fx/quotes', { key: owner.apiKey, body: { sourceCurrency: plan.currency, targetCurrency: plan.targetCurrency, sourceAmountMinor: plan.amountMinor } });
    return res.status === 201 ? (res.body.id as string) : undefined;
  };
  const send = (quoteId: string | undefined, idempotencyKey: string) =>
    client.post('/v1/transfers', {
      key: owner.apiKey,
      idempotencyKey,
      body: {
        amountMinor: plan.amountMinor,
        currency: plan.currency,
        ...(plan.targetCurrency !== plan.currency ? { targetCurrency: plan.targetCurrency } : {}),
        ...(quoteId ? { quoteId } : {}),
        rail: plan.rail,
        beneficiary: plan.beneficiary,
        metadata: { chaosPayout: String(plan.index), idempotencyKey },
      },
    });
  let answer = await send(await quote(), `chaos-${seed}-${plan.index}`);
  // The quote ran out while the request was being resent: nothing was written, so a new quote goes
  // under a new key (another body under the old key would be 422), once.
  if (answer.status === 400 && answer.body?.error?.code === 'quote_expired') answer = await send(await quote(), `chaos-${seed}-${plan.index}-requoted`);
  const outcome: PayoutOutcome = {
    plan,
    clientId: owner.id,
    status: answer.status,
    errorCode: answer.body?.error?.code,
    sends: answer.sends,
    transferId: answer.status === 201 ? answer.body?.id : undefined,
    actions: [],
  };
  const cancel = async (id: string) => {
    const sentAt = new Date().toISOString();
    const res = await client.post(`/v1/transfers/${id}/cancel`, { key: owner.apiKey, body: { reason: 'the customer changed their mind' } });
    outcome.actions.push({ who: 'client', action: 'cancel', transferId: id, sentAt, status: res.status, code: res.body?.error?.code, accepted: res.status === 200 && res.body?.cancellation?.accepted === true });
  };
  if (!outcome.transferId) {
    // No answer after every resend: a client that meant to cancel looks for what its request left
    // behind (its own list, by the payout's metadata) and cancels that.
    if (plan.clientCancelAfterMs !== null && (answer.status === 0 || answer.status >= 500)) {
      const left = await findOwnTransfer(client, owner, plan.index);
      if (left) await cancel(left);
    }
    return outcome;
  }
  const id = outcome.transferId;
  const acts: Promise<void>[] = [];
  const later = (ms: number, fn: () => Promise<void>) => acts.push(sleep(ms).then(fn));
  if (plan.clientCancelAfterMs !== null) later(plan.clientCancelAfterMs, () => cancel(id));
  for (const [action, ms] of [['cancel', plan.operatorCancelAfterMs], ['retry', plan.operatorRetryAfterMs]] as const) {
    if (ms === null) continue;
    later(ms, async () => {
      const sentAt = new Date().toISOString();
      const res = await client.post(`/v1/ops/transfers/${id}/${action}`, { key: opsKey, body: { reason: `chaos: operator ${action}` } });
      outcome.actions.push({ who: 'operator', action, transferId: id, sentAt, status: res.status, code: res.body?.error?.code, accepted: res.status === 200 && res.body?.accepted === true });
    });
  }
  if (plan.fault?.kind === 'hold') later(plan.fault.releaseAfterMs ?? 0, () => releaseHeld(client, bank, owner, id));
  await Promise.all(acts);
  return outcome;
}

/** The client's own transfer made by payout `index`, from its list (newest first, a bounded number of pages). */
async function findOwnTransfer(client: RailyardClient, owner: ChaosClient, index: number): Promise<string | undefined> {
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const res = await client.get(`/v1/transfers?limit=100${after ? `&startingAfter=${after}` : ''}`, owner.apiKey);
    if (res.status !== 200) return undefined;
    const data = res.body.data as { id: string; metadata: Record<string, string> }[];
    const found = data.find((t) => t.metadata?.chaosPayout === String(index));
    if (found) return found.id;
    if (!res.body.hasMore || data.length === 0) return undefined;
    after = data[data.length - 1].id;
  }
  return undefined;
}

/** The bank releases a held payment: its reference is the transfer's attempt's, once there is one. */
async function releaseHeld(client: RailyardClient, bank: Bank, owner: ChaosClient, transferId: string): Promise<void> {
  const deadline = Date.now() + RELEASE_LOOK_MS;
  while (Date.now() < deadline) {
    const res = await client.get(`/v1/transfers/${transferId}`, owner.apiKey);
    const references: string[] = res.status === 200 ? res.body.attempts.map((a: { railReference: string }) => a.railReference) : [];
    for (const reference of references) if (await bank.release(reference)) return;
    await sleep(1_000);
  }
  // Not held (yet): the operator's pass at the end releases whatever is still held.
}
