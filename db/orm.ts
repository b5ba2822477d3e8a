import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { MikroORM, Options } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { ENTITIES } from './schema';

export type Dialect = 'mysql' | 'sqlite';

export interface DatabaseSettings {
  /** `mysql://user:pass@host:3306/db`; absent means the embedded SQLite file. */
  databaseUrl?: string;
  dataDir: string;
  debug?: boolean;
}

export function dialectOf(settings: DatabaseSettings): Dialect {
  return settings.databaseUrl ? 'mysql' : 'sqlite';
}

export function sqliteFile(dataDir: string): string {
  return path.resolve(dataDir, 'railyard.sqlite');
}

function baseOptions(dialect: Dialect): Options {
  const migrationsPath = path.join(__dirname, 'migrations', dialect);
  return {
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: {
      path: migrationsPath,
      pathTs: migrationsPath,
      glob: '!(*.d).{js,ts}',
      // MySQL commits DDL implicitly, so a migration there cannot be one transaction.
      transactional: dialect === 'sqlite',
      allOrNothing: dialect === 'sqlite',
      silent: true,
      snapshot: false,
      emit: 'ts',
    },
    // Business code works on explicit forks (one per request or activity execution).
    allowGlobalContext: false,
    forceUtcTimezone: true,
  };
}

/**
 * How long a statement on the embedded SQLite file waits for another connection's write lock
 * before it fails with SQLITE_BUSY. Processes sharing the file queue behind each other's
 * transactions (milliseconds each, seconds on a loaded machine) instead of failing at once and
 * spending inTransaction's few retries in under 300 ms. libsql waits synchronously, so the bound
 * is also how long a waiting process stops answering: a few seconds, not minutes.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/**
 * Settings every SQLite connection needs, run on each new one: the pool replaces connections (the
 * libsql dialect recycles them after 10 s), so a pragma set once on the first would be lost.
 * WAL lets readers go on while one writer commits and survives the process; synchronous FULL
 * keeps a commit through a power cut, which a ledger needs more than the speed NORMAL gives.
 */
const SQLITE_CONNECTION_PRAGMAS = [`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`, 'journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON'];

interface SqliteRawConnection {
  pragma(source: string): unknown;
}

/** Opens MySQL/MariaDB when a URL is given, else the embedded SQLite file under dataDir. */
export async function openOrm(settings: DatabaseSettings): Promise<MikroORM> {
  const dialect = dialectOf(settings);
  if (dialect === 'mysql') {
    const { MikroORM: MySqlOrm } = await import('@mikro-orm/mysql');
    return MySqlOrm.init({
      ...baseOptions('mysql'),
      clientUrl: settings.databaseUrl,
      debug: settings.debug ?? false,
      pool: { min: 0, max: 20 },
    });
  }
  mkdirSync(settings.dataDir, { recursive: true });
  const { MikroORM: LibSqlOrm } = await import('@mikro-orm/libsql');
  return LibSqlOrm.init({
    ...baseOptions('sqlite'),
    dbName: sqliteFile(settings.dataDir),
    debug: settings.debug ?? false,
    pool: {
      afterCreate(connection: SqliteRawConnection, done: (err: Error | null, connection: SqliteRawConnection) => void) {
        try {
          for (const pragma of SQLITE_CONNECTION_PRAGMAS) connection.pragma(pragma);
          done(null, connection);
        } catch (err) {
          done(err as Error, connection);
        }
      },
    },
  });
}

export async function migrate(orm: MikroORM): Promise<string[]> {
  const migrator = orm.getMigrator();
  const applied = await migrator.up();
  return applied.map((m) => m.name);
}
