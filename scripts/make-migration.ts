/**
 * Writes a migration for both dialects from the entity definitions:
 *   npm run db:migration -- <name>
 * MySQL needs DATABASE_URL (an empty scratch database works); SQLite uses a temporary file.
 * Against MariaDB the MySQL differ also emits `modify <column>` lines for unchanged nullable
 * columns (MariaDB reports their default differently): delete those from the MySQL file before
 * committing; test/db/migrations.test.ts checks the result against the entities.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openOrm } from '../db/orm';

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!name) throw new Error('usage: npm run db:migration -- <name>');
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL must point at a scratch MySQL/MariaDB database');
  for (const settings of [{ databaseUrl, dataDir: '' }, { dataDir: mkdtempSync(path.join(os.tmpdir(), 'railyard-mig-')) }]) {
    const orm = await openOrm(settings);
    await orm.getMigrator().up();
    const result = await orm.getMigrator().createMigration(undefined, false, false, name);
    console.log(result.fileName ? `wrote ${result.fileName}` : `no changes for ${settings.databaseUrl ? 'mysql' : 'sqlite'}`);
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
