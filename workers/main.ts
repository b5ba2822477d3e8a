/** Worker process: polls every configured task queue with the real database and bank. */
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, taskQueues } from '../core/config';
import { openOrm } from '../db/orm';
import { buildActivities } from './deps';
import { createWorker } from './worker';

export async function runWorkers(signal?: AbortSignal): Promise<void> {
  const config = loadConfig();
  const orm = await openOrm({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const activities = buildActivities(orm, config);
  const workers = await Promise.all(
    taskQueues(config).map((taskQueue) =>
      createWorker({ connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue, activities, maxConcurrentActivityTaskExecutions: config.WORKER_ACTIVITY_CONCURRENCY }),
    ),
  );
  signal?.addEventListener('abort', () => workers.forEach((w) => w.shutdown()));
  console.log(`worker polling ${taskQueues(config).join(', ')} on ${config.TEMPORAL_ADDRESS}`);
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await connection.close();
    await orm.close();
  }
}

if (require.main === module) {
  const controller = new AbortController();
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, () => controller.abort());
  runWorkers(controller.signal).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
