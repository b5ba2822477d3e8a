/** Worker process: polls every configured task queue with the real database and bank, and delivers webhooks. */
import http from 'node:http';
import { makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { Client, Connection } from '@temporalio/client';
import { TASK_QUEUE_TRANSFERS } from '../core/transfer';
import { ensureReconciliationSchedule } from './schedules';
import { codecKeys, loadConfig, taskQueues } from '../core/config';
import { createDataConverter } from '../core/payload-codec';
import { createWorkerMetrics, pinoTemporalLogger, startMetricsServer } from './observability';
import { openOrm } from '../db/orm';
import { buildActivities } from './deps';
import { createWorker } from './worker';
import { dispatcherOptions, startWebhookDispatcher } from '../webhooks/dispatcher';
import { auditSinks } from './audit-sink';
import { signalThrough, startBankInboxes } from '../services/bank-inbox';

export async function runWorkers(signal?: AbortSignal): Promise<void> {
  const config = loadConfig();
  const dataConverter = createDataConverter(codecKeys(config));
  const logger = pino({ level: config.LOG_LEVEL });
  // Before any connection: the runtime's logger and its Prometheus exporter are fixed at install.
  Runtime.install({
    logger: pinoTemporalLogger(logger),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      metrics: { prometheus: { bindAddress: `${config.HOST}:${config.TEMPORAL_METRICS_PORT}`, countersTotalSuffix: true } },
    },
  });
  const metrics = createWorkerMetrics();
  const orm = await openOrm({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS });
  const activities = buildActivities(orm, config);
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  await ensureReconciliationSchedule(client, { taskQueue: TASK_QUEUE_TRANSFERS, railTime: config.RAIL_TIME });
  const workers = await Promise.all(
    taskQueues(config).map((taskQueue) =>
      createWorker({
        connection,
        dataConverter,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue,
        activities,
        metrics,
        sinks: auditSinks(orm),
        maxConcurrentActivityTaskExecutions: config.WORKER_ACTIVITY_CONCURRENCY,
        ...(config.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH } } : {}),
      }),
    ),
  );
  const dispatcher = startWebhookDispatcher(orm, dispatcherOptions(config), logger);
  // One collector per rail reads the bank's outbox and signals the transfers its messages name.
  const inboxes = startBankInboxes({
    orm,
    bankUrl: config.BANK_SIM_URL,
    pollMs: config.BANK_INBOX_POLL_MS,
    logger,
    signal: signalThrough(client),
  });
  signal?.addEventListener('abort', () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown()));
  // Health for orchestrators: 200 while every worker is running.
  const health = http.createServer((req, res) => {
    const states = workers.map((w) => w.getState());
    const ok = req.url === '/healthz' && states.every((s) => s === 'RUNNING');
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, states }));
  });
  health.listen(config.WORKER_HEALTH_PORT, config.HOST);
  const metricsServer = await startMetricsServer(metrics.registry, config.HOST, config.WORKER_METRICS_PORT);
  logger.info(
    { taskQueues: taskQueues(config), temporal: config.TEMPORAL_ADDRESS, metricsPort: config.WORKER_METRICS_PORT, temporalMetricsPort: config.TEMPORAL_METRICS_PORT },
    `worker polling ${taskQueues(config).join(', ')} on ${config.TEMPORAL_ADDRESS}`,
  );
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    health.close();
    await dispatcher.stop();
    await inboxes.stop();
    await clientConnection.close();
    metricsServer.close();
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
