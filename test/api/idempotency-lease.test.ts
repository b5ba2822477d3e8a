/**
 * The idempotency lease over real HTTP and MariaDB: a request that outlives its lease is overtaken
 * by a retry, and then cannot record what it was about to create — its transaction rolls back, so
 * the key ends with exactly one resource whichever request got there first. And a retry that reads
 * the key while the first request's transaction is saving its recovery point cannot take the key
 * over with what it read before that transaction committed.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { AppError } from '../../core/errors';
import { newId } from '../../core/ids';
import { IdempotencyKey, WebhookEndpoint } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { withIdempotency } from '../../api/idempotency';
import { mariadbOrm } from '../support/global';
import { call } from '../support/api-stack';

describe('idempotency: a request overtaken after its lease cannot create a second resource', () => {
  let orm: MikroORM;
  let server: Server;
  let url: string;
  const scope = `cl_lease_${Date.now()}`;
  /** Requests whose body says `wait: true` stop here, before creating anything, until released. */
  let release: () => void = () => undefined;
  let reachedGate: () => void = () => undefined;
  /** Requests sent with `X-Gate: after-save` also stop inside their transaction, once the recovery point is saved. */
  let releaseCommit: () => void = () => undefined;
  let reachedCommitGate: () => void = () => undefined;
  /**
   * Requests sent with `X-Pause: after-key-read` stop once, right after they read the key row and
   * before they act on it, as a request descheduled between two statements would.
   */
  let releaseRead: () => void = () => undefined;
  let readDone: () => void = () => undefined;

  /** The ORM, except that the first read of an idempotency key through it stops until released. */
  function pausingAfterKeyRead(real: MikroORM): MikroORM {
    let paused = false;
    const watch = <T extends object>(em: T): T =>
      new Proxy(em, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (prop === 'fork') return (...args: unknown[]) => watch((value as (...a: unknown[]) => object).apply(target, args));
          if (prop !== 'findOne') return typeof value === 'function' ? value.bind(target) : value;
          return async (entity: unknown, ...rest: unknown[]) => {
            const found = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, [entity, ...rest]);
            if (entity === IdempotencyKey && !paused) {
              paused = true;
              await new Promise<void>((resolve) => {
                releaseRead = resolve;
                readDone();
              });
            }
            return found;
          };
        },
      });
    return new Proxy(real, { get: (target, prop) => (prop === 'em' ? watch(target.em) : Reflect.get(target, prop, target)) });
  }

  before(async () => {
    orm = await mariadbOrm();
    const app = express();
    app.use(express.json());
    // A resource-creating route shaped like POST /v1/transfers: write the row and the recovery point in one transaction.
    app.post('/things', async (req, res) => {
      const keyOrm = req.get('X-Pause') === 'after-key-read' ? pausingAfterKeyRead(orm) : orm;
      await withIdempotency(keyOrm, req, res, scope, async (idem) => {
        if (idem.recoveryPoint) return { status: 201, body: { id: idem.recoveryPoint, resumed: true } };
        if (req.body.wait && ['yes', 'after-save'].includes(req.get('X-Gate') ?? '')) {
          await new Promise<void>((resolve) => {
            release = resolve;
            reachedGate();
          });
        }
        const id = newId('we');
        await inTransaction(orm.em.fork() as SqlEntityManager, async (tx) => {
          await tx.insert(WebhookEndpoint, { id, clientId: scope, url: 'https://example.com/x', events: ['transfer.updated'], secret: 'whsec_x', createdAt: new Date() });
          await idem.saveRecoveryPoint(tx, id);
          if (req.get('X-Gate') === 'after-save') {
            await new Promise<void>((resolve) => {
              releaseCommit = resolve;
              reachedCommitGate();
            });
          }
        });
        return { status: 201, body: { id, resumed: false } };
      });
    });
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      const e = err instanceof AppError ? err : new AppError('internal_error', 'internal error');
      res.status(e.status).json(e.toBody());
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('the overtaken request gets 409 and its row is rolled back; the key keeps the winner', async () => {
    const idemKey = randomUUID();
    const gate = new Promise<void>((resolve) => (reachedGate = resolve));
    const slow = call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, headers: { 'X-Gate': 'yes' }, undocumentedServer: true });
    await gate;

    // While its lease runs, a retry is refused.
    const early = await call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, undocumentedServer: true });
    assert.equal(early.status, 409);
    assert.equal(early.body.error.code, 'idempotency_key_in_use');

    // The lease runs out (the slow request is taken for dead) and the retry takes the key over.
    await orm.em.fork().nativeUpdate(IdempotencyKey, { idemKey }, { lockedUntil: new Date(Date.now() - 1) });
    const retry = await call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, undocumentedServer: true });
    assert.equal(retry.status, 201);
    assert.equal(retry.body.resumed, false);

    release();
    const overtaken = await slow;
    assert.equal(overtaken.status, 409, JSON.stringify(overtaken.body));
    assert.equal(overtaken.body.error.code, 'idempotency_key_in_use');

    const things = await orm.em.fork().find(WebhookEndpoint, { clientId: scope });
    assert.deepEqual(things.map((t) => t.id), [retry.body.id], 'exactly one resource: the winner’s');
    const key = await orm.em.fork().findOneOrFail(IdempotencyKey, { idemKey });
    assert.equal(key.state, 'done');
    assert.equal(key.recoveryPoint, retry.body.id);
    const replay = await call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, undocumentedServer: true });
    assert.equal(replay.status, 201);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, retry.body);
  });

  /**
   * Whether a statement writing this key's row is in flight on the server. An UPDATE of one row by
   * its primary key finishes at once unless another transaction holds the row's lock, so while the
   * first request's transaction is open, an update still executing is one waiting for that lock.
   * (MariaDB lists an autocommit statement's lock wait in its processlist, not always in innodb_trx.)
   */
  async function waitsForKeyRow(idemKey: string): Promise<boolean> {
    const rowId = createHash('sha256').update(`${scope}\n${idemKey}`).digest('hex');
    const rows: { waiting: number }[] = await orm.em
      .fork()
      .getConnection()
      .execute(`select count(*) as waiting from information_schema.processlist where command = 'Query' and info like 'update%idempotency_keys%' and info like ?`, [`%${rowId}%`]);
    return Number(rows[0].waiting) > 0;
  }

  it('a retry that read the key before the first request saved its recovery point cannot take it over after that commit', async () => {
    const idemKey = randomUUID();
    const beforeTx = new Promise<void>((resolve) => (reachedGate = resolve));
    const inTx = new Promise<void>((resolve) => (reachedCommitGate = resolve));
    const slow = call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, headers: { 'X-Gate': 'after-save' }, undocumentedServer: true });
    await beforeTx;
    // The first request's lease runs out while it works (a slow bank call, a long pause).
    await orm.em.fork().nativeUpdate(IdempotencyKey, { idemKey }, { lockedUntil: new Date(Date.now() - 1) });

    // A retry reads the key: in progress, no recovery point, the lease over.
    const read = new Promise<void>((resolve) => (readDone = resolve));
    const retry = call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, headers: { 'X-Pause': 'after-key-read' }, undocumentedServer: true });
    await read;

    // Meanwhile the first request writes its resource and the recovery point, not yet committed.
    release();
    await inTx;
    // The retry goes on to take the key over: its write waits for the first transaction's row lock.
    releaseRead();
    const deadline = Date.now() + 30_000;
    try {
      while (!(await waitsForKeyRow(idemKey))) {
        assert.ok(Date.now() < deadline, 'the retry never waited for the key row');
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      // Whatever the check found, let the first request commit, so no transaction outlives the test.
      releaseCommit();
    }
    const [first, second] = await Promise.all([slow, retry]);

    assert.equal(first.status, 201, JSON.stringify(first.body));
    const things = await orm.em.fork().find(WebhookEndpoint, { clientId: scope });
    const created = things.filter((t) => t.id === first.body.id || t.id === second.body?.id);
    assert.deepEqual(created.map((t) => t.id), [first.body.id], `exactly one resource for the key; the retry answered ${second.status} ${JSON.stringify(second.body)}`);
    // The retry either waits its turn (409) or resumes the first request's resource.
    if (second.status === 201) assert.equal(second.body.id, first.body.id);
    else assert.equal(second.body.error.code, 'idempotency_key_in_use');

    const key = await orm.em.fork().findOneOrFail(IdempotencyKey, { idemKey });
    assert.equal(key.recoveryPoint, first.body.id);
    const replay = await call(url, 'POST', '/things', { body: { wait: true }, idempotencyKey: idemKey, undocumentedServer: true });
    assert.equal(replay.status, 201);
    assert.equal(replay.body.id, first.body.id);
  });
});
