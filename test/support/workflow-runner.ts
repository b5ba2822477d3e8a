/**
 * Runs transfer workflows on the time-skipping server with the real activities (MariaDB and the
 * bank simulator over HTTP), each on its own task queue, with the bank inboxes that bring the
 * bank's messages to them. A runner has a database of its own (the inboxes' cursors are positions
 * in its simulator's outbox); `alongside` shares another runner's database and bank.
 */
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { workflowIdFor, type TransferWorkflowInput } from '../../core/transfer';
import { buildActivities } from '../../workers/deps';
import { auditSinks } from '../../workers/audit-sink';
import { transferWorkflow, type TransferState } from '../../workflows/transfer';
import { AchEntry, TransferEvent } from '../../db/schema';
import { achBatchWorkflowId } from '../../activities/ach-windows';
import { scratchMariadbOrm } from './scratch-db';
import { testInboxes } from './inboxes';
import { startSim, testDataConverter, timeSkippingEnv, workflowBundle, type RunningSim } from './global';

export interface TransferRunner {
  env: TestWorkflowEnvironment;
  orm: MikroORM;
  bank: RunningSim;
  /** Runs a transfer to its end; `during` may steer it first (time does not skip until it returns). */
  run(input: TransferWorkflowInput, during?: (handle: WorkflowHandle<typeof transferWorkflow>) => Promise<void>): Promise<TransferState>;
  clearRules(): Promise<void>;
}

/**
 * `achDemoWindowMs`: how often an ACH file window closes (the default 2 s; longer where a test
 * steers a queued payout in real time). `bankInboxes: false` holds the bank's own messages back
 * (nothing collects them), for a test of what a payout does when the bank stays silent.
 */
export async function transferRunner(options: { achDemoWindowMs?: number; alongside?: TransferRunner; bankInboxes?: boolean } = {}): Promise<TransferRunner> {
  const [env, orm, bank] = options.alongside
    ? [options.alongside.env, options.alongside.orm, options.alongside.bank]
    : await Promise.all([timeSkippingEnv(), scratchMariadbOrm(), startSim(0)]);
  return {
    env,
    orm,
    bank,
    async run(input, during) {
      const taskQueue = `test-${randomUUID()}`;
      const worker = await Worker.create({
        connection: env.nativeConnection,
        dataConverter: testDataConverter,
        taskQueue,
        workflowBundle: await workflowBundle(),
        activities: buildActivities(orm, { BANK_SIM_URL: bank.url, ACH_DEMO_WINDOW_MS: options.achDemoWindowMs }),
        sinks: auditSinks(orm),
      });
      const inboxes = options.bankInboxes === false ? { stop: async () => undefined } : testInboxes(orm, bank.url, env.client);
      return worker.runUntil(async () => {
        const handle = await env.client.workflow.start(transferWorkflow, { workflowId: workflowIdFor(input.transferId), taskQueue, args: [input] });
        try {
          if (during) await during(handle);
        } catch (err) {
          // A workflow left running with work for a worker that is gone would stall the test server's clock for every later test.
          await handle.terminate('the test steering it failed').catch(() => undefined);
          throw err;
        }
        const state = await handle.result();
        // The ACH windows this payout was queued in have batch workflows on this task queue: each
        // finishes before the worker goes, or it would stall the test server's clock for every later test.
        const entries = await orm.em.fork().find(AchEntry, { transferId: input.transferId });
        const windows = new Set([...entries.map((e) => e.windowId), ...(await windowsOf(orm, input.transferId))]);
        for (const windowId of windows) await env.client.workflow.getHandle(achBatchWorkflowId(windowId)).result().catch(() => undefined);
        return state;
      }).finally(() => inboxes.stop());
    },
    async clearRules() {
      await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
    },
  };
}

/** Every window a payout was queued in, from its events (a re-queued entry's row names only the last). */
async function windowsOf(orm: MikroORM, transferId: string): Promise<string[]> {
  const events = await orm.em.fork().find(TransferEvent, { transferId });
  return events.flatMap((e) => [...(e.reason ?? '').matchAll(/\((ach-[^)\s]+)\)/g)].map((m) => m[1]));
}
