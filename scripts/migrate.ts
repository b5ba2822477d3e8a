/** Applies committed migrations to the configured database (DATABASE_URL, else the SQLite file). */
import { loadConfig } from '../core/config';
import { migrate, openOrm, dialectOf } from '../db/orm';

async function main(): Promise<void> {
  const config = loadConfig();
  const settings = { databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR };
  const orm = await openOrm(settings);
  try {
    const applied = await migrate(orm);
    console.log(applied.length ? `applied ${applied.join(', ')} (${dialectOf(settings)})` : `database is up to date (${dialectOf(settings)})`);
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
