/**
 * The workflow bundle the engine's own tests run: the payout workflow of workflows/transfer/ with
 * the ACH batch workflow that signals it.
 */
import path from 'node:path';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { workflowInterceptorModules } from '../../workers/worker';
import { memo } from './global';

export const engineBundle = memo(
  async (): Promise<WorkflowBundleWithSourceMap> =>
    bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'engine-workflows.ts'),
      workflowInterceptorModules: workflowInterceptorModules(),
      logger: { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m) },
    }),
);
