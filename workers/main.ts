/** Worker process: polls every configured task queue with the real database and bank. */
import http from 'node:http';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig, taskQueues } from '../core/config';
import { openOrm } from '../db/orm';
import { buildActivities } from './deps';
import { createWorker } from './worker';
import { auditSinks } from './audit-sink';

export async function runWorkers(signal?: AbortSignal): Promise<void> {
  const config = loadConfig();
  const orm = await openOrm({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const activities = buildActivities(orm, config);
  const workers = await Promise.all(
    taskQueues(config).map((taskQueue) =>
      createWorker({ connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue, activities, sinks: auditSinks(orm), maxConcurrentActivityTaskExecutions: config.WORKER_ACTIVITY_CONCURRENCY }),
    ),
  );
  signal?.addEventListener('abort', () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown()));
  // Health for orchestrators: 200 while every worker is running.
  const health = http.createServer((req, res) => {
    const states = workers.map((w) => w.getState());
    const ok = req.url === '/healthz' && states.every((s) => s === 'RUNNING');
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, states }));
  });
  health.listen(config.WORKER_HEALTH_PORT, config.HOST);
  console.log(`worker polling ${taskQueues(config).join(', ')} on ${config.TEMPORAL_ADDRESS}`);
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    health.close();
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
