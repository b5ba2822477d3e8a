/**
 * A MariaDB database of a suite's own, migrated and dropped at the end: for tests that compare
 * whole-ledger balances with a fresh bank simulator, which the run's shared database cannot give.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { MikroORM } from '@mikro-orm/core';
import { migrate, openOrm } from '../../db/orm';
import { MARIADB_URL, onTeardown } from './global';

export async function scratchMariadbOrm(): Promise<MikroORM> {
  const server = new URL(MARIADB_URL);
  const name = `railyard_test_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = await mysql
    .createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) })
    .catch((err: Error) => {
      throw new Error(`MariaDB/MySQL is not reachable at ${server.host} (${err.message}); set DATABASE_URL or start MariaDB on 127.0.0.1:3306.`);
    });
  await admin.query(`create database \`${name}\``);
  const url = new URL(MARIADB_URL);
  url.pathname = `/${name}`;
  const orm = await openOrm({ databaseUrl: url.toString(), dataDir: '' });
  await migrate(orm);
  onTeardown(async () => {
    await orm.close();
    await admin.query(`drop database \`${name}\``);
    await admin.end();
  });
  return orm;
}
