/**
 * The embedded SQLite database under contention: two processes write to one file at the same
 * time. The second writer waits for the first to commit instead of giving up with SQLITE_BUSY,
 * and every connection runs with the settings the ORM gives it. The holder is a child process,
 * as in a deployment: libsql waits for a lock synchronously, so two writers in one process would
 * wait on each other's event loop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { migrate, openOrm, SQLITE_BUSY_TIMEOUT_MS } from '../../db/orm';
import { RailCounter } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';

describe('embedded SQLite: writers wait for each other', () => {
  let dataDir: string;
  let first: MikroORM;
  let second: MikroORM;

  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'railyard-sqlite-'));
    first = await openOrm({ dataDir });
    await migrate(first);
    second = await openOrm({ dataDir });
  });

  after(async () => {
    await first.close();
    await second.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A child process that takes the write lock, says `locked`, keeps it for holdMs, then commits. */
  function lockHolder(holdMs: number): { locked: Promise<void>; done: Promise<number | null> } {
    const script = `
      const { openOrm } = require(${JSON.stringify(path.resolve(__dirname, '../../db/orm'))});
      const { RailCounter } = require(${JSON.stringify(path.resolve(__dirname, '../../db/schema'))});
      (async () => {
        const orm = await openOrm({ dataDir: ${JSON.stringify(dataDir)} });
        await orm.em.fork().transactional(async (tx) => {
          await tx.insert(RailCounter, { name: 'held', value: 1 });
          process.stdout.write('locked\\n');
          await new Promise((r) => setTimeout(r, ${holdMs}));
        });
        await orm.close();
      })().catch((err) => { console.error(err); process.exit(1); });`;
    const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const locked = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before it held the lock`)));
    });
    const done = new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { locked, done };
  }

  it('a transaction waits while another process holds the write lock, well past the retries alone', async () => {
    // The holder keeps the write lock for longer than the retries of inTransaction last without a
    // busy timeout (about 280 ms), and well inside the busy timeout.
    const holder = lockHolder(1_500);
    await holder.locked;
    await inTransaction(second.em.fork(), async (tx) => {
      await tx.insert(RailCounter, { name: 'waited', value: 2 });
    });
    assert.equal(await holder.done, 0, 'the holder committed');
    const rows = await first.em.fork().find(RailCounter, { name: { $in: ['held', 'waited'] } }, { orderBy: { name: 'asc' } });
    assert.deepEqual(rows.map((r) => [r.name, r.value]), [['held', 1], ['waited', 2]]);
  });

  it('each connection runs with the busy timeout, foreign keys on and the write-ahead log', async () => {
    for (const orm of [first, second]) {
      const conn = orm.em.getConnection();
      const [timeout] = await conn.execute('pragma busy_timeout');
      assert.equal(Object.values(timeout)[0], SQLITE_BUSY_TIMEOUT_MS);
      const [keys] = await conn.execute('pragma foreign_keys');
      assert.equal(Object.values(keys)[0], 1);
      const [journal] = await conn.execute('pragma journal_mode');
      assert.equal(Object.values(journal)[0], 'wal');
      const [sync] = await conn.execute('pragma synchronous');
      assert.equal(Object.values(sync)[0], 2, 'synchronous = FULL: a commit survives a power cut');
    }
  });
});
