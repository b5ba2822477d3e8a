/**
 * The scripted operator at the end of a chaos run. The bank is brought back (rules cleared, held
 * payments released), then, until every transfer has ended and no transfer workflow runs short of
 * an end (a completed payout's workflow may still watch its return window: under demo timing its
 * one timer fires late, an ACH one's up to 2 h 15 min after its window), the
 * operator works the queue as a person would: a parked transfer (`needs_attention`) gets a
 * `retry`, and a `cancel` when the retry is refused; a transfer `unknown` for a while gets a
 * `retry` (which asks the bank at once). Every action goes through the ops API and is counted.
 */
import { Client, Connection } from '@temporalio/client';
import { parseCodecKeys, createDataConverter } from '../core/payload-codec';
import { TASK_QUEUE_TRANSFERS, TERMINAL_STATUSES } from '../core/transfer';
import type { Bank } from './bank';
import type { RailyardClient } from './client';

/** A transfer acted on is left alone this long before the operator looks at it again. */
const ACT_AGAIN_AFTER_MS = 8_000;
/** `unknown` this long: the inquiries have had their chance; the operator asks the bank. */
const UNKNOWN_PATIENCE_MS = 20_000;
const POLL_MS = 2_000;

export interface TransferSummary {
  id: string;
  status: string;
  amountMinor: number;
  currency: string;
  targetCurrency: string;
  targetAmountMinor: number;
  rail: string;
  metadata: Record<string, string>;
  attempts: { railReference: string; status: string; rail: string }[];
  events: { status: string; at: string; reason?: string }[];
  updatedAt: string;
}

export interface OperatorReport {
  actions: Record<string, number>;
  released: number;
  converged: boolean;
  elapsedMs: number;
  /** Parked transfers and why, as the operator first found them. */
  parked: { id: string; reason: string }[];
}

/** Every transfer of every client, through the ops API (newest first, paged). */
export async function listTransfers(client: RailyardClient, opsKey: string): Promise<TransferSummary[]> {
  const all: TransferSummary[] = [];
  let after: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const res = await client.get(`/v1/ops/transfers?limit=100${after ? `&startingAfter=${after}` : ''}`, opsKey);
    if (res.status !== 200) throw new Error(`GET /v1/ops/transfers answered ${res.status}: ${JSON.stringify(res.body)}`);
    all.push(...(res.body.data as TransferSummary[]));
    if (!res.body.hasMore) return all;
    after = all[all.length - 1].id;
  }
  throw new Error('more than 100,000 transfers: not a chaos run');
}

async function openTransferWorkflows(temporalAddress: string): Promise<number> {
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 5_000 });
  try {
    const temporal = new Client({ connection });
    const ends = TERMINAL_STATUSES.map((s) => `'${s}'`).join(', ');
    const { count } = await temporal.workflow.count(`WorkflowType = 'transferWorkflow' AND ExecutionStatus = 'Running' AND TransferStatus NOT IN (${ends})`);
    return count;
  } finally {
    await connection.close();
  }
}

export async function resolveEverything(deps: { client: RailyardClient; bank: Bank; opsKey: string; temporalAddress: string; timeoutMs: number }): Promise<OperatorReport> {
  const { client, bank, opsKey } = deps;
  const started = Date.now();
  const report: OperatorReport = { actions: {}, released: 0, converged: false, elapsedMs: 0, parked: [] };
  const lastActed = new Map<string, number>();
  const parkedSeen = new Set<string>();
  const act = async (id: string, action: 'retry' | 'cancel', reason: string) => {
    const res = await client.post(`/v1/ops/transfers/${id}/${action}`, { key: opsKey, body: { reason } });
    const name = `${action}:${res.status}`;
    report.actions[name] = (report.actions[name] ?? 0) + 1;
    return res.status;
  };

  await bank.clearRules();
  while (Date.now() - started < deps.timeoutMs) {
    for (const s of await bank.submissions()) {
      if (s.status === 'held' && !s.duplicate && (await bank.release(s.reference))) report.released += 1;
    }
    const transfers = await listTransfers(client, opsKey);
    const live = transfers.filter((t) => !TERMINAL_STATUSES.includes(t.status as never));
    if (live.length === 0 && (await openTransferWorkflows(deps.temporalAddress)) === 0) {
      report.converged = true;
      break;
    }
    for (const t of live) {
      const now = Date.now();
      if (now - (lastActed.get(t.id) ?? 0) < ACT_AGAIN_AFTER_MS) continue;
      if (t.status === 'needs_attention') {
        if (!parkedSeen.has(t.id)) {
          parkedSeen.add(t.id);
          report.parked.push({ id: t.id, reason: t.events.at(-1)?.reason ?? '(no reason given)' });
        }
        lastActed.set(t.id, now);
        if ((await act(t.id, 'retry', 'the bank is back up')) === 409) await act(t.id, 'cancel', 'retry refused: giving up on this payout');
      } else if (t.status === 'unknown' && now - Date.parse(t.updatedAt) > UNKNOWN_PATIENCE_MS) {
        lastActed.set(t.id, now);
        await act(t.id, 'retry', 'asking the bank where the payment is');
      }
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  report.elapsedMs = Date.now() - started;
  return report;
}

/**
 * The day's reconciliation, run now rather than at the demo Schedule's next five-minute mark: it
 * reads the bank's camt.053 for each day the run touched, so every statement entry is matched to
 * its transfer or becomes a break before the auditor looks.
 */
export async function reconcileNow(temporalAddress: string, payloadCodecKeys: string, dates: string[]): Promise<void> {
  const connection = await Connection.connect({ address: temporalAddress, connectTimeout: 5_000 });
  try {
    const temporal = new Client({ connection, dataConverter: createDataConverter(parseCodecKeys(payloadCodecKeys)) });
    for (const date of dates) {
      await temporal.workflow.execute('reconciliationWorkflow', { taskQueue: TASK_QUEUE_TRANSFERS, workflowId: `chaos-reconciliation-${date}-${Date.now()}`, args: [{ date }], workflowExecutionTimeout: '2 minutes' });
    }
  } finally {
    await connection.close();
  }
}
