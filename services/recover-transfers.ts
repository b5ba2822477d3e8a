/**
 * The recovery sweep: a transfer recorded in `created` whose workflow was never started (the API
 * process died, or Temporal was unreachable, between the database write and the start) gets its
 * workflow started here, with the same options as the API's start. Run at API start and then
 * periodically.
 *
 * What it must never do is start a transfer that should not be paid. So, in each pass:
 * - a `created` transfer older than `maxAgeMs` is never started: it ends `failed` (`not_started`),
 *   nothing having been held. Its age is the database's to tell, so a workflow Temporal has
 *   forgotten (a namespace past its retention) cannot be mistaken for one that never existed;
 * - a younger one whose workflow exists and has ended (terminated before it held the funds) ends
 *   `failed` (`workflow_ended`) in the database, which from then on remembers it and never looks
 *   again. Temporal's answer is sound here: a workflow of a transfer younger than `maxAgeMs`
 *   ended after the transfer was created, so well inside any namespace's retention (a day at the
 *   least; maxAgeMs is hours);
 * - a younger one whose workflow runs is left to it; one with no workflow at all is started.
 * A cancel of a `created` transfer (transfers/status.ts endUnstartedTransfer) ends it in the
 * database, so the sweep never sees it; a workflow started in a race with that cancel finds the
 * transfer canceled at its hold and ends without holding anything.
 *
 * Bounds: transfers younger than `graceMs` are left to the request that created them; a pass reads
 * at most PAGES_PER_PASS pages of `limit` transfers, oldest first, by keyset, so transfers ended by
 * an earlier pass are out of the way and running ones do not hide the ones behind them.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client as TemporalClient } from '@temporalio/client';
import type { Logger } from 'pino';
import { workflowIdFor, type TransferTiming } from '../core/transfer';
import { Transfer, type TransferRow } from '../db/schema';
import { transferWorkflow } from '../workflows/transfer';
import { payoutApprovalRequired, workflowStartOptions } from './start-transfer';
import { flagOrphanedTransfers } from './orphaned-transfers';
import { endUnstartedTransfer } from '../transfers/status';

export interface RecoveryDeps {
  orm: MikroORM;
  temporal: TemporalClient;
  taskQueue: string;
  timing: TransferTiming;
}

export interface RecoveryOptions {
  /** Transfers younger than this are left to the request that created them. */
  graceMs: number;
  /** Transfers older than this are never started: they end failed. */
  maxAgeMs: number;
  /** Transfers read per page. */
  limit: number;
}

export const RECOVERY_DEFAULTS: RecoveryOptions = { graceMs: 60_000, maxAgeMs: 6 * 3_600_000, limit: 100 };
export const RECOVERY_INTERVAL_MS = 60_000;
/** Pages of `limit` transfers one pass reads at most: at the defaults, 1,000 workflow lookups a minute. */
const PAGES_PER_PASS = 10;

/** A duration in whole hours when it is one, else in minutes, for a reason a person reads. */
function readableAge(ms: number): string {
  return ms % 3_600_000 === 0 ? `${ms / 3_600_000} h` : `${Math.round(ms / 60_000)} min`;
}

/** One pass; returns the IDs of the transfers whose workflow it started. */
export async function recoverStalledTransfers(deps: RecoveryDeps, options: RecoveryOptions = RECOVERY_DEFAULTS): Promise<string[]> {
  const em = () => deps.orm.em.fork() as SqlEntityManager;
  const nowMs = Date.now();
  const oldest = new Date(nowMs - options.maxAgeMs);

  const expired = await em().find(Transfer, { status: 'created', createdAt: { $lt: oldest } }, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: options.limit * PAGES_PER_PASS });
  for (const transfer of expired) {
    const message = `not started within ${readableAge(options.maxAgeMs)} of its creation; nothing was held or sent`;
    await endUnstartedTransfer(em(), transfer.id, 'failed', message, { failureCode: 'not_started', failureMessage: message });
  }

  const started: string[] = [];
  let after: TransferRow | undefined;
  for (let page = 0; page < PAGES_PER_PASS; page++) {
    const window = { status: 'created', createdAt: { $gte: oldest, $lt: new Date(nowMs - options.graceMs) } };
    const where = after ? { ...window, $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, id: { $gt: after.id } }] } : window;
    const stalled = await em().find(Transfer, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: options.limit });
    for (const transfer of stalled) if (await recoverOne(deps, transfer)) started.push(transfer.id);
    if (stalled.length < options.limit) break;
    after = stalled[stalled.length - 1];
  }
  return started;
}

/** Starts the workflow of one `created` transfer that has none; true when it did. */
async function recoverOne(deps: RecoveryDeps, transfer: TransferRow): Promise<boolean> {
  const workflowId = workflowIdFor(transfer.id);
  try {
    const { status } = await deps.temporal.workflow.getHandle(workflowId).describe();
    if (status.name === 'RUNNING') return false; // it will hold the funds, or fail, when a worker runs it
    const message = `its workflow ${workflowId} ended (${status.name}) before the funds were held; nothing was held or sent`;
    await endUnstartedTransfer(deps.orm.em.fork() as SqlEntityManager, transfer.id, 'failed', message, { failureCode: 'workflow_ended', failureMessage: message });
    return false;
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  try {
    await deps.temporal.workflow.start(transferWorkflow, workflowStartOptions(transfer, deps.taskQueue, deps.timing, undefined, await payoutApprovalRequired(deps.orm.em.fork() as SqlEntityManager, transfer.id)));
    return true;
  } catch (err) {
    // Started meanwhile by a retried request: that is the outcome we wanted.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return false;
  }
}

/**
 * Runs a pass now and every RECOVERY_INTERVAL_MS until stopped, each followed by the orphan sweep
 * (services/orphaned-transfers.ts); a failed pass is logged and retried at the next. Passes never
 * overlap (one still running when the next is due skips it), and `stop` resolves once the pass in
 * flight has ended, so the caller may close the Temporal connection: a call still retrying on a
 * closed connection throws from a timer, where nothing can catch it.
 */
export function startRecoverySweep(deps: RecoveryDeps, logger?: Logger, options: RecoveryOptions = RECOVERY_DEFAULTS): { stop(): Promise<void> } {
  let running: Promise<unknown> | undefined;
  const pass = () => {
    if (running) return;
    running = recoverStalledTransfers(deps, options)
      .then((ids) => ids.length > 0 && logger?.warn({ transferIds: ids }, 'started the workflows of stalled transfers'))
      .catch((err) => logger?.error({ err }, 'transfer recovery sweep failed'))
      .then(() => flagOrphanedTransfers(deps))
      .then((orphans) => orphans.length > 0 && logger?.warn({ orphans }, 'live transfers whose workflow is gone: set to needs_attention'))
      .catch((err) => logger?.error({ err }, 'orphaned transfer sweep failed'))
      .finally(() => (running = undefined));
  };
  pass();
  const timer = setInterval(pass, RECOVERY_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
