/** API process for deployments (docker-compose): needs OPS_API_KEY and a migrated database. */
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { codecKeys, ConfigError, loadConfig } from '../core/config';
import { createDataConverter } from '../core/payload-codec';
import { openOrm } from '../db/orm';
import { startApiServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.OPS_API_KEY) throw new ConfigError('OPS_API_KEY must be set for the API process');
  const dataConverter = createDataConverter(codecKeys(config));
  const logger = pino({ level: config.LOG_LEVEL });
  const orm = await openOrm({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter });
  const api = await startApiServer({ orm, temporal, config, opsApiKey: config.OPS_API_KEY, logger });
  logger.info(`API listening on ${api.url}`);
  const stop = async () => {
    await api.close();
    await connection.close();
    await orm.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
