/**
 * The twins' worker: a process of its own, polling the bench's twin task queue on the bench's
 * Temporal server with the product worker's settings (workers/worker.ts: activity concurrency,
 * shutdown times, the encrypting data converter).
 */
import { NativeConnection, Worker, Runtime, DefaultLogger, makeTelemetryFilterString } from '@temporalio/worker';
import { codecKeys, loadConfig } from '../../core/config';
import { createDataConverter } from '../../core/payload-codec';
import { createTwinActivities } from './activities';
import { TWIN_TASK_QUEUE } from './workflows';

async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } } });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: TWIN_TASK_QUEUE,
    workflowsPath: require.resolve('./workflows'),
    activities: createTwinActivities(),
    dataConverter: createDataConverter(codecKeys(config)),
    maxConcurrentActivityTaskExecutions: config.WORKER_ACTIVITY_CONCURRENCY,
    shutdownGraceTime: '5s',
    shutdownForceTime: '15s',
  });
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => worker.shutdown());
  const run = worker.run();
  console.log('twin worker running');
  await run;
  await connection.close();
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
