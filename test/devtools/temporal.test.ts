/**
 * The embedded dev server's command line: a file-backed server runs its SQLite in WAL mode (the
 * pragmas of devtools/temporal.ts), and every Railyard dev server shares that one command line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { devServerArgs, freePort, startDevServer } from '../../devtools/temporal';

describe('devtools: the embedded Temporal dev server', () => {
  it('passes the SQLite pragmas only to a file-backed server, with every search attribute registered', () => {
    const filed = devServerArgs({ port: 7233, dbFile: '/tmp/x.sqlite' });
    const pragmas = filed.flatMap((arg, i) => (arg === '--sqlite-pragma' ? [filed[i + 1]] : []));
    assert.deepEqual(pragmas, ['journal_mode=wal', 'synchronous=NORMAL']);
    assert.ok(filed.includes('--search-attribute') && filed.includes('TransferStatus=Keyword'));
    assert.ok(!devServerArgs({ port: 7233 }).includes('--sqlite-pragma'), 'an in-memory server takes no file pragmas');
  });

  it('runs a file-backed server in WAL mode: its write-ahead log sits beside the database file', async function () {
    this.timeout(90_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'railyard-devserver-'));
    const dbFile = path.join(dir, 'temporal.sqlite');
    const server = await startDevServer({ port: await freePort(), dbFile });
    try {
      assert.ok(existsSync(dbFile), 'the database file exists');
      assert.ok(existsSync(`${dbFile}-wal`), 'a WAL file exists: the server runs with journal_mode=wal');
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
