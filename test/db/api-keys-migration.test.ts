/**
 * The api_keys migration moves each client's existing key hash into api_keys, on both dialects: a
 * client created before it keeps working with the key it was given.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { hashApiKey, newApiKey } from '../../api/keys';
import { openOrm } from '../../db/orm';
import { findClientByKey } from '../../services/clients';
import { MARIADB_URL } from '../support/global';

const BEFORE = { mysql: 'Migration20261124065657_fx_quotes', sqlite: 'Migration20261124065658_fx_quotes' };

async function checkCarriesKeysOver(orm: MikroORM, dialect: keyof typeof BEFORE): Promise<void> {
  await orm.getMigrator().up({ to: BEFORE[dialect] });
  const apiKey = newApiKey('client');
  const conn = orm.em.getConnection();
  await conn.execute('insert into clients (id, name, api_key_hash, created_at) values (?, ?, ?, ?)', ['cl_01m80000000000000000000000', 'Old Client', hashApiKey(apiKey), new Date('2026-11-01T00:00:00Z')]);
  await orm.getMigrator().up();
  const found = await findClientByKey(orm.em.fork() as SqlEntityManager, apiKey);
  assert.deepEqual(found, { clientId: 'cl_01m80000000000000000000000', keyId: 'key_01m80000000000000000000000' });
  assert.equal(await findClientByKey(orm.em.fork() as SqlEntityManager, newApiKey('client')), null);
}

describe('migration: API keys move to api_keys', () => {
  it('carries an existing client key over on SQLite', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'railyard-mig-'));
    const orm = await openOrm({ dataDir });
    try {
      await checkCarriesKeysOver(orm, 'sqlite');
    } finally {
      await orm.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('carries an existing client key over on MariaDB', async () => {
    const server = new URL(MARIADB_URL);
    const admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username), password: decodeURIComponent(server.password) });
    const name = `railyard_test_mig_${process.pid}_${randomBytes(3).toString('hex')}`;
    await admin.query(`create database \`${name}\``);
    const url = new URL(MARIADB_URL);
    url.pathname = `/${name}`;
    const orm = await openOrm({ databaseUrl: url.toString(), dataDir: '' });
    try {
      await checkCarriesKeysOver(orm, 'mysql');
    } finally {
      await orm.close();
      await admin.query(`drop database \`${name}\``);
      await admin.end();
    }
  });
});
