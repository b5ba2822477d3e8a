import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type InjectedSinks, type WorkflowBundleOption } from '@temporalio/worker';
import type { Activities } from '../activities';
import { activityInterceptors, createWorkerMetrics, type WorkerMetrics } from './observability';
import type { AuditSinks } from '../workflows/transfer';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** The project's one data converter (core/payload-codec.ts): payloads are encrypted. */
  dataConverter: DataConverter;
  activities: Activities;
  /** A prebuilt bundle (tests build one and share it); otherwise the workflows are bundled here. */
  workflowBundle?: WorkflowBundleOption;
  maxConcurrentActivityTaskExecutions?: number;
  /** Where the activity failure counter goes; a throwaway registry when the caller serves none. */
  metrics?: WorkerMetrics;
  /** Where refused operator Updates are written (workers/audit-sink.ts). */
  sinks: InjectedSinks<AuditSinks>;
}

export function workflowsPath(): string {
  return require.resolve('../workflows');
}

/** Workflow interceptor modules: bundled with the workflows (a prebuilt bundle must include them too). */
export function workflowInterceptorModules(): string[] {
  return [require.resolve('../workflows/interceptors')];
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    dataConverter: options.dataConverter,
    sinks: options.sinks,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: workflowsPath() }),
    interceptors: {
      ...(options.workflowBundle ? {} : { workflowModules: workflowInterceptorModules() }),
      activity: [activityInterceptors(options.metrics ?? createWorkerMetrics({ processMetrics: false }))],
    },
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 20,
    // On shutdown, running activities get this long to finish before they are cancelled; their
    // work is idempotent, so Temporal retries whatever did not finish on the next worker.
    shutdownGraceTime: '5s',
    shutdownForceTime: '15s',
  });
}
