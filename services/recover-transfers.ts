/**
 * The recovery sweep: a transfer recorded in `created` whose workflow was never started (the API
 * process died, or Temporal was unreachable, between the database write and the start) gets its
 * workflow started here, with the same options as the API's start. Run at API start and then
 * periodically; each pass looks at a bounded number of transfers older than a grace period, so
 * requests still in flight are left to finish their own start.
 */
import type { MikroORM } from '@mikro-orm/core';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client as TemporalClient } from '@temporalio/client';
import type { Logger } from 'pino';
import { workflowIdFor, type TransferTiming } from '../core/transfer';
import { Transfer } from '../db/schema';
import { transferWorkflow } from '../workflows/transfer';
import { workflowStartOptions } from './start-transfer';

export interface RecoveryDeps {
  orm: MikroORM;
  temporal: TemporalClient;
  taskQueue: string;
  timing: TransferTiming;
}

export interface RecoveryOptions {
  /** Transfers younger than this are left to the request that created them. */
  graceMs: number;
  /** Transfers looked at per pass. */
  limit: number;
}

export const RECOVERY_DEFAULTS: RecoveryOptions = { graceMs: 60_000, limit: 100 };
export const RECOVERY_INTERVAL_MS = 60_000;

/** One pass; returns the IDs of the transfers whose workflow it started. */
export async function recoverStalledTransfers(deps: RecoveryDeps, options: RecoveryOptions = RECOVERY_DEFAULTS): Promise<string[]> {
  const stalled = await deps.orm.em.fork().find(
    Transfer,
    { status: 'created', createdAt: { $lt: new Date(Date.now() - options.graceMs) } },
    { orderBy: { createdAt: 'asc' }, limit: options.limit },
  );
  const started: string[] = [];
  for (const transfer of stalled) {
    try {
      await deps.temporal.workflow.getHandle(workflowIdFor(transfer.id)).describe();
      continue; // it has a workflow (perhaps waiting for a worker): nothing to recover
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
    try {
      await deps.temporal.workflow.start(transferWorkflow, workflowStartOptions(transfer, deps.taskQueue, deps.timing));
      started.push(transfer.id);
    } catch (err) {
      // Started meanwhile by a retried request: that is the outcome we wanted.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
  }
  return started;
}

/** Runs a pass now and every RECOVERY_INTERVAL_MS until stopped; a failed pass is logged and retried at the next. */
export function startRecoverySweep(deps: RecoveryDeps, logger?: Logger, options: RecoveryOptions = RECOVERY_DEFAULTS): { stop(): void } {
  const pass = () =>
    recoverStalledTransfers(deps, options)
      .then((ids) => ids.length > 0 && logger?.warn({ transferIds: ids }, 'started the workflows of stalled transfers'))
      .catch((err) => logger?.error({ err }, 'transfer recovery sweep failed'));
  void pass();
  const timer = setInterval(pass, RECOVERY_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
