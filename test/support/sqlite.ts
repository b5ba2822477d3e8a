import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { migrate, openOrm } from '../../db/orm';

/** A migrated embedded SQLite database in a temporary folder; close() removes it. */
export async function sqliteOrm(): Promise<{ orm: MikroORM; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'railyard-test-'));
  const orm = await openOrm({ dataDir });
  await migrate(orm);
  return {
    orm,
    async close() {
      await orm.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
