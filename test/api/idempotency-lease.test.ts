/**
 * The idempotency lease over real HTTP and MariaDB: a request that outlives its lease is overtaken
 * by a retry, and then cannot record what it was about to create — its transaction rolls back, so
 * the key ends with exactly one resource whichever request got there first.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
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

  before(async () => {
    orm = await mariadbOrm();
    const app = express();
    app.use(express.json());
    // A resource-creating route shaped like POST /v1/transfers: write the row and the recovery point in one transaction.
    app.post('/things', async (req, res) => {
      await withIdempotency(orm, req, res, scope, async (idem) => {
        if (idem.recoveryPoint) return { status: 201, body: { id: idem.recoveryPoint, resumed: true } };
        if (req.body.wait && req.get('X-Gate') === 'yes') {
          await new Promise<void>((resolve) => {
            release = resolve;
            reachedGate();
          });
        }
        const id = newId('we');
        await inTransaction(orm.em.fork() as SqlEntityManager, async (tx) => {
          await tx.insert(WebhookEndpoint, { id, clientId: scope, url: 'https://example.com/x', events: ['transfer.updated'], secret: 'whsec_x', createdAt: new Date() });
          await idem.saveRecoveryPoint(tx, id);
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
});
