/**
 * One-shot setup for a deployment: applies migrations and registers Railyard's search attributes
 * on the Temporal namespace. Safe to run on every deploy.
 */
import { Connection } from '@temporalio/client';
import { loadConfig } from '../core/config';
import { migrate, openOrm } from '../db/orm';
import { ensureSearchAttributes } from '../workers/search-attributes';

async function main(): Promise<void> {
  const config = loadConfig();
  const orm = await openOrm({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  try {
    const applied = await migrate(orm);
    console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  } finally {
    await orm.close();
  }
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  try {
    const added = await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE);
    console.log(added.length ? `registered search attributes: ${added.join(', ')}` : 'search attributes are registered');
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
