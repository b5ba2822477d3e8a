/**
 * Idempotency keys that survive crashes, over real HTTP against MariaDB and the Temporal dev server.
 *
 * A "crash between the database write and the workflow start" is made for real: a second API,
 * on the same database, whose Temporal client points at a port where nothing listens (and does not
 * retry), so the start fails after the transfer is recorded. A retry under the same key on the
 * working API must resume that same transfer; without a retry, the recovery sweep starts it.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../core/config';
import { railTiming, TASK_QUEUE_TRANSFERS } from '../../core/transfer';
import { IdempotencyKey, Posting, Transfer } from '../../db/schema';
import { startApiServer, type ApiServer } from '../../api/server';
import { IDEMPOTENCY_TTL_MS, sweepIdempotencyKeys } from '../../api/idempotency';
import { RECOVERY_DEFAULTS, recoverStalledTransfers } from '../../services/recover-transfers';
import { resumeTransfer, startTransfer } from '../../services/start-transfer';
import { moveStatus } from '../../transfers/status';
import { inTransaction } from '../../ledger/ledger';
import { createRatesSource } from '../../fx/rates';
import { AppError } from '../../core/errors';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { freePort } from '../../devtools/temporal';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient } from '../support/api-clients';
import { testDataConverter } from '../support/global';

describe('API: idempotency keys across failed starts, concurrency and early return', () => {
  let stack: ApiStack;
  let broken: ApiServer;
  let brokenConnection: Connection;

  before(async () => {
    stack = await apiStack();
    // Nothing listens on this port: every Temporal call fails at once (no client-side retries).
    brokenConnection = Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', BANK_SIM_URL: stack.bank.url, TEMPORAL_ADDRESS: '127.0.0.1:1', RAIL_TIME: 'demo' });
    broken = await startApiServer({ orm: stack.orm, temporal: new Client({ connection: brokenConnection, dataConverter: testDataConverter }), config, opsApiKey: stack.opsKey });
  });

  after(async () => {
    await broken.close();
    await brokenConnection.close();
  });

  const fundedClient = (amountMinor: number) => apiClient(stack, 'Idempotent Payouts', amountMinor);

  async function workflowIds(clientId: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const wf of stack.temporal.workflow.list({ query: `TransferClientId="${clientId}"` })) ids.push(wf.workflowId);
    return ids;
  }

  /** Waits until visibility shows at least one workflow, then gives it time to show any second one. */
  async function settledWorkflowIds(clientId: string): Promise<string[]> {
    await until('the workflow to be listed', () => workflowIds(clientId), (ids) => ids.length > 0);
    await new Promise((r) => setTimeout(r, 1_500));
    return workflowIds(clientId);
  }

  const transfers = (clientId: string) => stack.orm.em.fork().find(Transfer, { clientId });
  const body = (amountMinor: number) => ({ amountMinor, currency: 'USD', beneficiary: BENEFICIARY, reference: 'idem test' });
  const finished = (key: string, id: string) =>
    until(`transfer ${id} to finish`, async () => (await call(stack.url, 'GET', `/v1/transfers/${id}`, { key })).body, (t) => ['completed', 'failed'].includes(t.status));

  it('a retry after a failed workflow start resumes the same transfer: one transfer, one workflow', async () => {
    const client = await fundedClient(10_000);
    const idemKey = randomUUID();

    const failed = await call(broken.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_500), idempotencyKey: idemKey });
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.equal(failed.body.error.code, 'service_unavailable');
    const [recorded] = await transfers(client.id);
    assert.equal(recorded.status, 'created', 'the transfer was recorded before the start');
    assert.match(failed.body.error.message, new RegExp(recorded.id));
    const key = await stack.orm.em.fork().findOneOrFail(IdempotencyKey, { idemKey });
    assert.equal(key.state, 'resumable');
    assert.equal(key.recoveryPoint, recorded.id, 'the transfer ID is kept with the key');

    // Retrying while Temporal is still down neither creates a second transfer nor loses the first.
    const again = await call(broken.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_500), idempotencyKey: idemKey });
    assert.equal(again.status, 503);
    assert.equal((await transfers(client.id)).length, 1);
    assert.deepEqual(await workflowIds(client.id), []);

    const resumed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_500), idempotencyKey: idemKey });
    assert.equal(resumed.status, 201, JSON.stringify(resumed.body));
    assert.equal(resumed.body.id, recorded.id, 'the retry resumed the recorded transfer');
    assert.ok(['funds_held', 'submitted', 'settled', 'completed'].includes(resumed.body.status), resumed.body.status);
    assert.equal(resumed.headers.get('idempotent-replayed'), null, 'a resumed request is not a replay');

    const replayed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_500), idempotencyKey: idemKey });
    assert.equal(replayed.status, 201);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, resumed.body);

    assert.equal((await transfers(client.id)).length, 1);
    assert.deepEqual(await settledWorkflowIds(client.id), [`transfer-${recorded.id}`]);
    assert.equal((await finished(client.key, recorded.id)).status, 'completed');
  });

  it('without a retry, the recovery sweep starts the workflow of a transfer left in created, once', async () => {
    const client = await fundedClient(10_000);
    const idemKey = randomUUID();
    const failed = await call(broken.url, 'POST', '/v1/transfers', { key: client.key, body: body(2_000), idempotencyKey: idemKey });
    assert.equal(failed.status, 503);
    const [recorded] = await transfers(client.id);

    const deps = { orm: stack.orm, temporal: stack.temporal, taskQueue: TASK_QUEUE_TRANSFERS, timing: railTiming('demo') };
    const young = await recoverStalledTransfers(deps, { ...RECOVERY_DEFAULTS, graceMs: 60_000 });
    assert.ok(!young.includes(recorded.id), 'a transfer younger than the grace period is left to its request');
    const started = await recoverStalledTransfers(deps, { ...RECOVERY_DEFAULTS, graceMs: 0 });
    assert.ok(started.includes(recorded.id), `the sweep started ${recorded.id}`);
    const second = await recoverStalledTransfers(deps, { ...RECOVERY_DEFAULTS, graceMs: 0 });
    assert.ok(!second.includes(recorded.id), 'a transfer with a workflow is not started again');

    assert.equal((await finished(client.key, recorded.id)).status, 'completed');
    // The client's retry, late, gets the transfer the sweep completed rather than a new one.
    const late = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(2_000), idempotencyKey: idemKey });
    assert.equal(late.status, 201);
    assert.equal(late.body.id, recorded.id);
    assert.equal(late.body.status, 'completed');
    assert.equal((await transfers(client.id)).length, 1);
    assert.deepEqual(await settledWorkflowIds(client.id), [`transfer-${recorded.id}`]);
  });

  it('a key held by a request that died is taken over once its lease has run out, not before', async () => {
    const client = await fundedClient(10_000);
    const idemKey = randomUUID();
    assert.equal((await call(broken.url, 'POST', '/v1/transfers', { key: client.key, body: body(700), idempotencyKey: idemKey })).status, 503);
    const [recorded] = await transfers(client.id);
    // As if the process had died mid-request: the key in progress, its lease still running.
    await stack.orm.em.fork().nativeUpdate(IdempotencyKey, { idemKey }, { state: 'in_progress', lockToken: 'f'.repeat(32), lockedUntil: new Date(Date.now() + 30_000) });
    const busy = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(700), idempotencyKey: idemKey });
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'idempotency_key_in_use');

    await stack.orm.em.fork().nativeUpdate(IdempotencyKey, { idemKey }, { lockedUntil: new Date(Date.now() - 1) });
    const resumed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(700), idempotencyKey: idemKey });
    assert.equal(resumed.status, 201, JSON.stringify(resumed.body));
    assert.equal(resumed.body.id, recorded.id);
    assert.equal((await transfers(client.id)).length, 1);
  });

  it('20 concurrent requests with one key create exactly one transfer and one workflow; a changed body is 422', async () => {
    const client = await fundedClient(100_000);
    const idemKey = randomUUID();
    const replies = await Promise.all(Array.from({ length: 20 }, () => call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_234), idempotencyKey: idemKey })));
    const statuses = replies.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 201 || s === 409), JSON.stringify(statuses));
    const created = replies.filter((r) => r.status === 201);
    assert.ok(created.length >= 1);
    assert.equal(new Set(created.map((r) => r.body.id)).size, 1, 'every 201 names the same transfer');
    for (const r of replies.filter((x) => x.status === 409)) assert.equal(r.body.error.code, 'idempotency_key_in_use');

    const rows = await transfers(client.id);
    assert.equal(rows.length, 1);
    assert.deepEqual(await settledWorkflowIds(client.id), [`transfer-${rows[0].id}`]);

    const replayed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_234), idempotencyKey: idemKey });
    assert.equal(replayed.status, 201);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal(replayed.body.id, rows[0].id);

    // Key order does not matter (canonical body); a changed value does.
    const reordered = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { reference: 'idem test', beneficiary: BENEFICIARY, currency: 'USD', amountMinor: 1_234 }, idempotencyKey: idemKey });
    assert.equal(reordered.status, 201);
    assert.equal(reordered.headers.get('idempotent-replayed'), 'true');
    const changed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(1_235), idempotencyKey: idemKey });
    assert.equal(changed.status, 422);
    assert.equal(changed.body.error.code, 'idempotency_key_reused');
    assert.equal(changed.body.error.param, 'Idempotency-Key');
    // The same key on another route is another request too.
    const otherRoute = await call(stack.url, 'POST', '/v1/fx/quotes', { key: client.key, body: { sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 1_000 }, idempotencyKey: idemKey });
    assert.equal(otherRoute.status, 422);
    assert.equal((await transfers(client.id)).length, 1);
  });

  it('scopes keys per client: the same key from two clients is two transfers', async () => {
    const [a, b] = [await fundedClient(5_000), await fundedClient(5_000)];
    const idemKey = randomUUID();
    const fromA = await call(stack.url, 'POST', '/v1/transfers', { key: a.key, body: body(100), idempotencyKey: idemKey });
    const fromB = await call(stack.url, 'POST', '/v1/transfers', { key: b.key, body: body(100), idempotencyKey: idemKey });
    assert.equal(fromA.status, 201);
    assert.equal(fromB.status, 201);
    assert.equal(fromB.headers.get('idempotent-replayed'), null);
    assert.notEqual(fromA.body.id, fromB.body.id);
  });

  it('answers once the funds are held: 201 funds_held or later, with the hold in the ledger', async () => {
    const client = await fundedClient(10_000);
    const created = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(3_000) });
    assert.equal(created.status, 201);
    assert.ok(['funds_held', 'submitted', 'settled', 'completed'].includes(created.body.status), created.body.status);
    assert.deepEqual(created.body.events.slice(0, 2).map((e: { status: string }) => e.status), ['created', 'funds_held']);
    assert.ok(await stack.orm.em.fork().findOne(Posting, { externalId: `${created.body.id}:hold` }), 'the hold exists when the answer comes');
  });

  it('402 when the hold fails after the balance check: the transfer is recorded failed, and the answer is replayed', async () => {
    const client = await fundedClient(1_000);
    const idemKey = randomUUID();
    // The first request passes the balance check, records its transfer, then cannot start it.
    assert.equal((await call(broken.url, 'POST', '/v1/transfers', { key: client.key, body: body(800), idempotencyKey: idemKey })).status, 503);
    const [first] = await transfers(client.id);
    // Meanwhile another transfer spends the balance.
    const spender = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(800) });
    assert.equal(spender.status, 201);

    const refused = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(800), idempotencyKey: idemKey });
    assert.equal(refused.status, 402, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'insufficient_funds');
    assert.equal(refused.body.error.param, 'amountMinor');
    const failed = await call(stack.url, 'GET', `/v1/transfers/${first.id}`, { key: client.key });
    assert.equal(failed.body.status, 'failed');
    assert.equal(failed.body.failure.code, 'insufficient_funds');
    assert.deepEqual(failed.body.events.map((e: { status: string }) => e.status), ['created', 'failed']);
    assert.equal(await stack.orm.em.fork().count(Posting, { transferId: first.id }), 0, 'no posting for the refused transfer');

    const replayed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(800), idempotencyKey: idemKey });
    assert.equal(replayed.status, 402);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replayed.body, refused.body);
  });

  it('a 402 from the balance check writes nothing and is replayed; a 400 releases the key', async () => {
    const client = await fundedClient(500);
    const idemKey = randomUUID();
    const refused = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(501), idempotencyKey: idemKey });
    assert.equal(refused.status, 402);
    const replayed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(501), idempotencyKey: idemKey });
    assert.equal(replayed.status, 402);
    assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
    assert.equal((await transfers(client.id)).length, 0);

    const badKey = randomUUID();
    const bad = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { ...body(100), currency: 'usd' }, idempotencyKey: badKey });
    assert.equal(bad.status, 400);
    const fixed = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(100), idempotencyKey: badKey });
    assert.equal(fixed.status, 201, 'the key refused with 400 is free for the corrected request');
  });

  it('keeps keys 24 hours, then sweeps them; an expired key is free again', async () => {
    const client = await fundedClient(5_000);
    const idemKey = randomUUID();
    const first = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(100), idempotencyKey: idemKey });
    assert.equal(first.status, 201);
    const em = stack.orm.em.fork();
    assert.equal(await sweepIdempotencyKeys(stack.orm), 0, 'nothing is younger than 24 hours and swept');
    assert.ok(await em.findOne(IdempotencyKey, { idemKey }));
    await em.nativeUpdate(IdempotencyKey, { idemKey }, { createdAt: new Date(Date.now() - IDEMPOTENCY_TTL_MS - 1_000) });
    // Past its retention but not yet swept, the key no longer binds: another body is a new request.
    const reused = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: body(101), idempotencyKey: idemKey });
    assert.equal(reused.status, 201);
    assert.notEqual(reused.body.id, first.body.id);
    await em.nativeUpdate(IdempotencyKey, { idemKey }, { createdAt: new Date(Date.now() - IDEMPOTENCY_TTL_MS - 1_000) });
    assert.ok((await sweepIdempotencyKeys(stack.orm)) >= 1);
    assert.equal(await em.fork().findOne(IdempotencyKey, { idemKey }), null);
  });
});

describe('starting a transfer while no worker polls its queue', () => {
  it('answers 503 within the start deadline, keeps the transfer and its started workflow for a resumed retry', async () => {
    const stack = await apiStack();
    const client = await apiClient(stack, 'No Worker', 5_000);
    const taskQueue = `nobody-polls-${randomUUID()}`;
    const deps = {
      em: stack.orm.em.fork() as SqlEntityManager,
      temporal: stack.temporal,
      taskQueue,
      timing: railTiming('demo'),
      rates: createRatesSource(),
      pricing: { quoteTtlMs: 60_000, spreadBps: 30, feeBps: 25 },
      startDeadlineMs: 1_500,
    };
    const startedAt = Date.now();
    await assert.rejects(
      startTransfer(deps, client.id, { amountMinor: 100, currency: 'USD', beneficiary: BENEFICIARY }),
      (err: unknown) => err instanceof AppError && err.code === 'service_unavailable',
    );
    const waitedMs = Date.now() - startedAt;
    assert.ok(waitedMs < 5_000, `the API waited ${waitedMs} ms for a worker`);
    const [transfer] = await stack.orm.em.fork().find(Transfer, { clientId: client.id });
    assert.equal(transfer.status, 'created');
    const handle = stack.temporal.workflow.getHandle(`transfer-${transfer.id}`);
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the workflow was started and waits for a worker');
    // A resumed retry joins that workflow rather than starting another, and is bounded the same way.
    await assert.rejects(resumeTransfer(deps, client.id, transfer.id), (err: unknown) => err instanceof AppError && err.code === 'service_unavailable');
    const countRuns = async () => {
      let runs = 0;
      for await (const _ of stack.temporal.workflow.list({ query: `WorkflowId="transfer-${transfer.id}"` })) runs++;
      return runs;
    };
    await until('the run to be listed', countRuns, (n) => n >= 1);
    assert.equal(await countRuns(), 1, 'one run for the transfer');
    // No worker will ever come for this queue: end the test's transfer.
    await handle.terminate('test over');
    await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, transfer.id, 'canceled', 'test over'));
  });
});
