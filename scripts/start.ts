/**
 * `npm start`: the whole stack on one machine with embedded defaults.
 *
 * Installs the Temporal binaries if missing, starts the Temporal dev server (file-backed under
 * ./data, Web UI on 8233) unless TEMPORAL_ADDRESS points elsewhere, the bank simulator (its own
 * process), the worker and the API (this process), applies migrations, seeds a demo client with a
 * funded USD balance, and prints where everything is. Payloads are encrypted with PAYLOAD_CODEC_KEYS,
 * or with a key generated once and kept under ./data; the dev server's UI decodes through the API's
 * codec server. Ctrl-C stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { codecKeys, loadConfig } from '../core/config';
import { createDataConverter, generateCodecKey } from '../core/payload-codec';
import { minorToDecimal } from '../core/money';
import { TASK_QUEUE_TRANSFERS } from '../core/transfer';
import { dialectOf, migrate, openOrm, sqliteFile } from '../db/orm';
import { Client as ClientEntity } from '../db/schema';
import { newApiKey } from '../api/keys';
import { startApiServer } from '../api/server';
import { createClient, deposit } from '../services/clients';
import { bootstrapTools, findBinary, portInUse, startDevServer, type DevServer } from '../devtools/temporal';
import { buildActivities } from '../workers/deps';
import { ensureSearchAttributes } from '../workers/search-attributes';
import { createWorker } from '../workers/worker';
import { dispatcherOptions, startWebhookDispatcher } from '../webhooks/dispatcher';
import { ensureReconciliationSchedule } from '../workers/schedules';
import { createWorkerMetrics, startMetricsServer } from '../workers/observability';
import { auditSinks } from '../workers/audit-sink';
import { signalThrough, startBankInboxes } from '../services/bank-inbox';
import type { SqlEntityManager } from '@mikro-orm/knex';

const DEMO_DEPOSIT_MINOR = 100_000_000; // 1,000,000.00 USD
const TEMPORAL_UI_PORT = 8233;

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

function writeSecret(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function main(): Promise<void> {
  // A local, single-person start: the local Temporal UI may decode payloads without the operator
  // key (it cannot send one). Only on a loopback HOST; set CODEC_LOCAL_UI_DECODE=false to refuse it.
  const host = process.env.HOST ?? '127.0.0.1';
  if (process.env.CODEC_LOCAL_UI_DECODE === undefined && ['127.0.0.1', 'localhost', '::1'].includes(host)) process.env.CODEC_LOCAL_UI_DECODE = 'true';
  const config = loadConfig();
  // The Temporal SDK binds its metrics port when the runtime starts; a taken port should fail here, by name.
  for (const [name, port] of [['WORKER_METRICS_PORT', config.WORKER_METRICS_PORT], ['TEMPORAL_METRICS_PORT', config.TEMPORAL_METRICS_PORT]] as const) {
    if (await portInUse(port)) throw new Error(`port ${port} is taken: set ${name}`);
  }
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      metrics: { prometheus: { bindAddress: `${config.HOST}:${config.TEMPORAL_METRICS_PORT}`, countersTotalSuffix: true } },
    },
  });
  const dataDir = path.resolve(config.DATA_DIR);
  const logger = pino({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const stoppers: (() => Promise<void>)[] = [];
  const children: ChildProcess[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    for (const stop of stoppers.reverse()) await stop().catch((err) => console.error(err));
    console.log('stopped');
    process.exit(code);
  };
  process.once('SIGINT', () => void stopAll(0));
  process.once('SIGTERM', () => void stopAll(0));

  // Payload encryption keys: PAYLOAD_CODEC_KEYS, else one generated on the first start and kept
  // beside the data, so later starts still read the histories it encrypted.
  const codecFile = path.join(dataDir, 'payload-codec-keys.json');
  let codecKeysFrom = 'from PAYLOAD_CODEC_KEYS';
  if (!config.PAYLOAD_CODEC_KEYS) {
    mkdirSync(dataDir, { recursive: true });
    config.PAYLOAD_CODEC_KEYS = readJson<{ payloadCodecKeys: string }>(codecFile)?.payloadCodecKeys ?? generateCodecKey(`local-${new Date().toISOString().slice(0, 10)}`);
    writeSecret(codecFile, { payloadCodecKeys: config.PAYLOAD_CODEC_KEYS });
    codecKeysFrom = `in ${path.relative(process.cwd(), codecFile)}`;
  }
  const dataConverter = createDataConverter(codecKeys(config));
  // The browser running the Temporal UI calls this address itself: a wildcard bind is not one it can reach.
  const codecEndpoint = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${config.PORT}/codec`;

  // Temporal: our own dev server unless an address was given.
  let temporalAddress = config.TEMPORAL_ADDRESS;
  let temporalUi = `http://127.0.0.1:${TEMPORAL_UI_PORT}`;
  if (!process.env.TEMPORAL_ADDRESS) {
    if (!findBinary('temporal') || !findBinary('temporal-test-server')) bootstrapTools();
    const port = Number(temporalAddress.split(':')[1]);
    if (await portInUse(port)) throw new Error(`port ${port} is taken: stop what runs there or set TEMPORAL_ADDRESS to use it`);
    console.log(`starting Temporal dev server on ${temporalAddress} (UI ${temporalUi})…`);
    const dev: DevServer = await startDevServer({ port, uiPort: TEMPORAL_UI_PORT, dbFile: path.join(dataDir, 'temporal.sqlite'), logLevel: 'error', uiCodecEndpoint: codecEndpoint });
    stoppers.push(() => dev.stop());
    temporalAddress = dev.address;
  } else {
    temporalUi = '(the UI of your Temporal cluster)';
  }
  const clientConnection = await Connection.connect({ address: temporalAddress });
  stoppers.push(() => clientConnection.close());
  await ensureSearchAttributes(clientConnection, config.TEMPORAL_NAMESPACE);
  const temporal = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });

  // Database: migrate, then seed the demo client once and reuse it on later starts.
  const settings = { databaseUrl: config.DATABASE_URL, dataDir };
  const orm = await openOrm(settings);
  stoppers.push(() => orm.close());
  await migrate(orm);
  const em = orm.em.fork() as SqlEntityManager;
  const demoFile = path.join(dataDir, 'demo-client.json');
  let demo = readJson<{ clientId: string; apiKey: string }>(demoFile);
  if (!demo || !(await em.fork().findOne(ClientEntity, { id: demo.clientId }))) {
    const { client, apiKey } = await createClient(em, 'Demo Marketplace');
    demo = { clientId: client.id, apiKey };
    writeSecret(demoFile, demo);
  }
  await deposit(em, { clientId: demo.clientId, currency: 'USD', amountMinor: DEMO_DEPOSIT_MINOR, reference: 'demo-seed-usd' });
  await deposit(em, { clientId: demo.clientId, currency: 'EUR', amountMinor: DEMO_DEPOSIT_MINOR, reference: 'demo-seed-eur' });

  const opsFile = path.join(dataDir, 'ops-key.json');
  let opsApiKey = config.OPS_API_KEY;
  if (!opsApiKey) {
    opsApiKey = readJson<{ opsApiKey: string }>(opsFile)?.opsApiKey ?? newApiKey('ops');
    writeSecret(opsFile, { opsApiKey });
  }

  // Bank simulator: a process of its own, as the partner bank is.
  if (await portInUse(config.BANK_SIM_PORT)) throw new Error(`port ${config.BANK_SIM_PORT} is taken: set BANK_SIM_PORT`);
  const sim = spawn(process.execPath, ['-r', '@swc-node/register', path.join(__dirname, '..', 'banksim', 'main.ts')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: process.env,
  });
  children.push(sim);
  stoppers.push(
    () =>
      new Promise<void>((resolve) => {
        if (sim.exitCode !== null) return resolve();
        sim.once('exit', () => resolve());
        sim.kill('SIGTERM');
      }),
  );
  sim.once('exit', (code) => {
    if (!stopping) {
      console.error(`bank simulator exited (code ${code})`);
      void stopAll(1);
    }
  });

  // Worker and API in this process, sharing the database connection.
  const workerConnection = await NativeConnection.connect({ address: temporalAddress });
  const workerMetrics = createWorkerMetrics();
  const metricsServer = await startMetricsServer(workerMetrics.registry, config.HOST, config.WORKER_METRICS_PORT);
  stoppers.push(async () => void metricsServer.close());
  const worker = await createWorker({
    metrics: workerMetrics,
    connection: workerConnection,
    dataConverter,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: TASK_QUEUE_TRANSFERS,
    activities: buildActivities(orm, config),
    sinks: auditSinks(orm),
    maxConcurrentActivityTaskExecutions: config.WORKER_ACTIVITY_CONCURRENCY,
  });
  const workerRun = worker.run();
  await ensureReconciliationSchedule(temporal, { taskQueue: TASK_QUEUE_TRANSFERS, railTime: config.RAIL_TIME });
  stoppers.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch(() => undefined);
    await workerConnection.close();
  });
  // One collector per rail reads the bank's outbox and signals the transfers its messages name (as workers/main.ts).
  const inboxes = startBankInboxes({
    orm,
    bankUrl: config.BANK_SIM_URL,
    pollMs: config.BANK_INBOX_POLL_MS,
    logger,
    signal: signalThrough(temporal),
  });
  stoppers.push(() => inboxes.stop());
  const dispatcher = startWebhookDispatcher(orm, dispatcherOptions(config), logger);
  stoppers.push(() => dispatcher.stop());
  const api = await startApiServer({ orm, temporal, config, opsApiKey, logger });
  stoppers.push(() => api.close());

  const db = dialectOf(settings) === 'sqlite' ? `SQLite ${sqliteFile(dataDir)}` : 'MySQL (DATABASE_URL)';
  console.log(`
Railyard is running (RAIL_TIME=${config.RAIL_TIME}).

  API             ${api.url}
  Temporal UI     ${temporalUi}
  Temporal        ${temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})
  Bank simulator  ${config.BANK_SIM_URL}
  Database        ${db}
  Docs            ${api.url}/docs (OpenAPI ${api.url}/openapi.json)
  Metrics         ${api.url}/metrics, worker http://${config.HOST}:${config.WORKER_METRICS_PORT}/metrics, Temporal SDK http://${config.HOST}:${config.TEMPORAL_METRICS_PORT}/metrics

  Demo client     ${demo.clientId} (funded with ${minorToDecimal(DEMO_DEPOSIT_MINOR, 'USD')} USD and ${minorToDecimal(DEMO_DEPOSIT_MINOR, 'EUR')} EUR)
  Demo client key ${demo.apiKey}
  Ops key         ${opsApiKey}${config.OPS_API_KEY ? ' (from OPS_API_KEY)' : ''}
  Payload keys    ${codecKeysFrom} (current: ${codecKeys(config)[0].id}); codec server ${codecEndpoint}

Try:  curl -s ${api.url}/v1/balances -H 'Authorization: Bearer ${demo.apiKey}'
Ctrl-C stops everything.`);
  await workerRun.catch(async (err) => {
    console.error('worker stopped:', err);
    await stopAll(1);
  });
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
