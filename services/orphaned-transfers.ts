/**
 * The orphan sweep (SPEC §6): a live transfer whose workflow is gone — terminated, canceled, failed
 * or timed out in Temporal while the transfer was still on its way — is found here and set to
 * `needs_attention`, so nobody is left believing the bank is being followed. Run by the API with
 * the recovery sweep, once a minute.
 *
 * One visibility query per pass finds the transfer workflows that closed other than by completing
 * (or continuing as new) within LOOKBACK_MS; nothing is asked per transfer. For each, the
 * database says whether the transfer is still live. A `created` one is the recovery sweep's
 * (services/recover-transfers.ts: it ends `failed`, nothing having been held). Any other live one
 * moves to `needs_attention` with a reason naming the workflow and how it closed. Nothing is voided
 * or re-sent: the bank may have the payment, and only a person who looked can say what to do — in
 * Temporal, Reset of the workflow to its last completed task re-runs it to the same outcome
 * (docs/operations.md). A transfer already parked in `needs_attention` gets one event saying its
 * workflow is gone; a later pass finds that event and adds nothing.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Client as TemporalClient } from '@temporalio/client';
import { TERMINAL_STATUSES, type TransferStatus } from '../core/transfer';
import { Transfer, TransferEvent } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { moveStatus, noteStatus } from '../transfers/status';

/** How far back a pass looks for closed workflows: well beyond a pass interval, so a pass or two missed (the API down) loses nothing. */
export const ORPHAN_LOOKBACK_MS = 24 * 3_600_000;
/** Workflows one pass looks at, at most; the next pass takes the rest (those flagged are skipped fast). */
export const ORPHAN_PAGE_MAX = 500;

const CLOSED_BADLY = ['Terminated', 'Canceled', 'Failed', 'TimedOut'] as const;
const REASON_PREFIX = 'its workflow';

export interface OrphanDeps {
  orm: MikroORM;
  temporal: TemporalClient;
}

export interface Orphan {
  transferId: string;
  workflowStatus: string;
  transferStatus: TransferStatus;
}

/** One pass; returns the transfers it set to (or noted in) needs_attention. */
export async function flagOrphanedTransfers(deps: OrphanDeps, nowMs = Date.now(), lookbackMs = ORPHAN_LOOKBACK_MS): Promise<Orphan[]> {
  const since = new Date(nowMs - lookbackMs).toISOString();
  const query = `WorkflowType = 'transferWorkflow' AND ExecutionStatus IN (${CLOSED_BADLY.map((s) => `'${s}'`).join(', ')}) AND CloseTime >= '${since}'`;
  const flagged: Orphan[] = [];
  const looked = new Set<string>();
  for await (const workflow of deps.temporal.workflow.list({ query, pageSize: 100 })) {
    if (looked.size >= ORPHAN_PAGE_MAX) break;
    if (looked.has(workflow.workflowId)) continue;
    looked.add(workflow.workflowId);
    // A Reset terminates the run it replaces: the transfer is orphaned only if its latest run is not running.
    const latest = await deps.temporal.workflow.getHandle(workflow.workflowId).describe();
    if (latest.status.name === 'RUNNING') continue;
    const transferId = workflow.workflowId.replace(/^transfer-/, '');
    const orphan = await flagOne(deps.orm.em.fork() as SqlEntityManager, transferId, workflow.workflowId, latest.status.name);
    if (orphan) flagged.push(orphan);
  }
  return flagged;
}

async function flagOne(em: SqlEntityManager, transferId: string, workflowId: string, workflowStatus: string): Promise<Orphan | undefined> {
  return inTransaction(em, async (tx) => {
    const transfer = await tx.findOne(Transfer, { id: transferId });
    if (!transfer) return undefined;
    const status = transfer.status as TransferStatus;
    if (status === 'created' || TERMINAL_STATUSES.includes(status)) return undefined;
    const reason = `${REASON_PREFIX} ${workflowId} was ${workflowStatus.toLowerCase()} in Temporal while the transfer was ${status}; nobody follows the bank for it now. Nothing was voided or re-sent: check the payment with the bank, then reset the workflow (docs/operations.md)`;
    if (status !== 'needs_attention') {
      await moveStatus(tx, transferId, 'needs_attention', reason);
      return { transferId, workflowStatus, transferStatus: status };
    }
    const [latest] = await tx.find(TransferEvent, { transferId }, { orderBy: { at: 'desc', id: 'desc' }, limit: 1 });
    if (latest?.reason?.startsWith(`${REASON_PREFIX} ${workflowId} was`)) return undefined;
    await noteStatus(tx, transfer, reason);
    return { transferId, workflowStatus, transferStatus: status };
  });
}
