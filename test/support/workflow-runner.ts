/**
 * Runs transfer workflows on the time-skipping server with the real activities (MariaDB and the
 * bank simulator over HTTP), each on its own task queue.
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
import { mariadbOrm, startSim, testDataConverter, timeSkippingEnv, workflowBundle, type RunningSim } from './global';

export interface TransferRunner {
  env: TestWorkflowEnvironment;
  orm: MikroORM;
  bank: RunningSim;
  /** Runs a transfer to its end; `during` may steer it first (time does not skip until it returns). */
  run(input: TransferWorkflowInput, during?: (handle: WorkflowHandle<typeof transferWorkflow>) => Promise<void>): Promise<TransferState>;
  clearRules(): Promise<void>;
}

export async function transferRunner(): Promise<TransferRunner> {
  const [env, orm, bank] = await Promise.all([timeSkippingEnv(), mariadbOrm(), startSim(0)]);
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
        activities: buildActivities(orm, { BANK_SIM_URL: bank.url }),
        sinks: auditSinks(orm),
      });
      return worker.runUntil(async () => {
        const handle = await env.client.workflow.start(transferWorkflow, { workflowId: workflowIdFor(input.transferId), taskQueue, args: [input] });
        try {
          if (during) await during(handle);
        } catch (err) {
          // A workflow left running with work for a worker that is gone would stall the test server's clock for every later test.
          await handle.terminate('the test steering it failed').catch(() => undefined);
          throw err;
        }
        return handle.result();
      });
    },
    async clearRules() {
      await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
    },
  };
}
