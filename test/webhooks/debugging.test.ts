/**
 * Webhooks a client can debug, over real HTTP with a real receiver: each delivery listed with its
 * attempts, last answer, last error and next attempt; a delivery sent again on request; the
 * client's events; secret rotation signing with both secrets for a day; and, outside local
 * development, endpoints on private addresses refused at creation.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../core/config';
import { newId } from '../../core/ids';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { moveStatus } from '../../transfers/status';
import { startApiServer } from '../../api/server';
import { startWebhookDispatcher, type DispatcherOptions, type RunningDispatcher } from '../../webhooks/dispatcher';
import { WEBHOOK_RETENTION_MS } from '../../webhooks/outbox';
import { verifyWebhookSignature, WebhookVerificationError } from '../../webhooks/verify';
import { createdTransfer } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient, type ApiClient } from '../support/api-clients';

interface Received {
  raw: string;
  signature: string;
}

/** A receiver on a free loopback port answering `answer(n)` to its n-th request (1-based). */
async function startReceiver(answer: (n: number) => number) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ raw: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['railyard-signature']) });
      res.writeHead(answer(received.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Automatic retries a minute apart: within a test, only the retry route sends a delivery again.
const SLOW_RETRIES: DispatcherOptions = { pollIntervalMs: 20, retryBaseMs: 60_000, retryMaxMs: 60_000, maxAgeMs: 3_600_000, requestTimeoutMs: 2_000, batchSize: 20, allowPrivateAddresses: true };

describe('webhooks: deliveries, retry now, events, secret rotation, private URLs', () => {
  let stack: ApiStack;
  let dispatcher: RunningDispatcher | undefined;

  before(async () => {
    stack = await apiStack();
  });

  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = undefined;
  });

  async function endpoint(client: ApiClient, url: string): Promise<{ id: string; secret: string }> {
    const created = await call(stack.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body: { url, events: ['transfer.updated'] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  }

  /** One `transfer.updated` event for the client (a transfer canceled before it started). */
  async function emitEvent(client: ApiClient): Promise<string> {
    const input = await createdTransfer(stack.orm, client.id, 100);
    await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'canceled for the webhook test'));
    return input.transferId;
  }

  const deliveries = (client: ApiClient, hookId: string, query = '') => call(stack.url, 'GET', `/v1/webhook_endpoints/${hookId}/deliveries${query}`, { key: client.key });
  const retry = (client: ApiClient, hookId: string, deliveryId: string, idempotencyKey?: string) =>
    call(stack.url, 'POST', `/v1/webhook_endpoints/${hookId}/deliveries/${deliveryId}/retry`, { key: client.key, idempotencyKey });

  it('lists a failing delivery with its attempts, status code, error and next attempt; retry sends it now until the receiver takes it', async () => {
    const receiver = await startReceiver((n) => (n <= 2 ? 500 : 200));
    try {
      // A loopback receiver is accepted: the test API runs on a loopback HOST, as `npm start` does.
      const client = await apiClient(stack, 'Debugging Co', 0);
      const hook = await endpoint(client, receiver.url);
      const transferId = await emitEvent(client);
      dispatcher = startWebhookDispatcher(stack.orm, SLOW_RETRIES);
      await until('the first attempt recorded', () => stack.orm.em.fork().findOneOrFail(WebhookDelivery, { endpointId: hook.id }), (d) => d.attempts === 1 && d.lastError !== null);
      await dispatcher.stop();
      dispatcher = undefined;

      const listed = await deliveries(client, hook.id);
      assert.equal(listed.status, 200);
      assert.equal(listed.body.hasMore, false);
      assert.equal(listed.body.data.length, 1);
      const failed = listed.body.data[0];
      const [event] = await stack.orm.em.fork().find(WebhookEvent, { transferId });
      assert.equal(failed.eventId, event.id);
      assert.equal(failed.endpointId, hook.id);
      assert.equal(failed.status, 'pending');
      assert.equal(failed.attempts, 1);
      assert.equal(failed.lastStatusCode, 500);
      assert.equal(failed.lastError, 'HTTP 500');
      assert.equal(failed.deliveredAt, null);
      assert.ok(Date.parse(failed.nextAttemptAt) - Date.parse(failed.lastAttemptAt) >= SLOW_RETRIES.retryBaseMs, 'the next attempt is a backoff away');

      const second = await retry(client, hook.id, failed.id);
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(second.body.attempts, 2);
      assert.equal(second.body.lastStatusCode, 500);
      assert.equal(second.body.status, 'pending');

      const key = randomUUID();
      const third = await retry(client, hook.id, failed.id, key);
      assert.equal(third.body.status, 'delivered');
      assert.equal(third.body.attempts, 3);
      assert.equal(third.body.lastStatusCode, 200);
      assert.equal(third.body.lastError, null);
      assert.equal(third.body.nextAttemptAt, null);
      assert.ok(third.body.deliveredAt);
      assert.deepEqual((await deliveries(client, hook.id)).body.data, [third.body], 'the list shows what the retry answered');
      assert.equal(receiver.received.length, 3);
      for (const r of receiver.received) {
        assert.equal(r.raw, event.payload, 'every attempt sends the same body');
        assert.equal(verifyWebhookSignature(r.raw, r.signature, hook.secret).id, event.id);
      }
      // The same Idempotency-Key replays the answer and sends nothing.
      const replayed = await retry(client, hook.id, failed.id, key);
      assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
      assert.equal(receiver.received.length, 3);
      // A delivered event can be sent once more, on request.
      assert.equal((await retry(client, hook.id, failed.id)).body.attempts, 4);
      assert.equal(receiver.received.length, 4);
    } finally {
      await receiver.close();
    }
  });

  it('revives a dead delivery, filters by status, pages newest first, and hides other clients', async () => {
    const receiver = await startReceiver(() => 200);
    try {
      const client = await apiClient(stack, 'Paging Co', 0);
      const hook = await endpoint(client, receiver.url);
      await emitEvent(client);
      await emitEvent(client);
      const all = await stack.orm.em.fork().find(WebhookDelivery, { endpointId: hook.id }, { orderBy: { id: 'desc' } });
      assert.equal(all.length, 2);
      await stack.orm.em.fork().nativeUpdate(WebhookDelivery, { id: all[1].id }, { status: 'dead', attempts: 20, lastError: 'gave up after 20 attempts: HTTP 503', lastStatusCode: 503 });

      const first = await deliveries(client, hook.id, '?limit=1');
      assert.deepEqual(first.body.data.map((d: { id: string }) => d.id), [all[0].id]);
      assert.equal(first.body.hasMore, true);
      const next = await deliveries(client, hook.id, `?limit=1&startingAfter=${all[0].id}`);
      assert.deepEqual(next.body.data.map((d: { id: string }) => d.id), [all[1].id]);
      assert.equal(next.body.hasMore, false);
      const dead = await deliveries(client, hook.id, '?status=dead');
      assert.deepEqual(dead.body.data.map((d: { id: string; nextAttemptAt: string | null }) => [d.id, d.nextAttemptAt]), [[all[1].id, null]]);
      assert.equal((await deliveries(client, hook.id, '?status=lost')).body.error.param, 'status');

      const revived = await retry(client, hook.id, all[1].id);
      assert.equal(revived.body.status, 'delivered');
      assert.equal(revived.body.attempts, 21);
      assert.equal(receiver.received.length, 1);

      const other = await apiClient(stack, 'Nosy Co', 0);
      assert.equal((await deliveries(other, hook.id)).status, 404);
      assert.equal((await retry(other, hook.id, all[1].id)).status, 404);
      const otherHook = await endpoint(other, 'https://hooks.example.com/nosy');
      const crossed = await retry(other, otherHook.id, all[1].id);
      assert.equal(crossed.status, 404, "another endpoint's delivery is not found under yours");
      assert.equal(crossed.body.error.param, 'deliveryId');
      assert.equal(receiver.received.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it("lists the client's own events newest first, by type, within 30 days, as deliveries send them", async () => {
    const client = await apiClient(stack, 'Evented Co', 0);
    const firstTransfer = await emitEvent(client);
    const secondTransfer = await emitEvent(client);
    const em = stack.orm.em.fork();
    // An event past the retention that the hourly sweep has not removed yet is not listed.
    const oldAt = new Date(Date.now() - WEBHOOK_RETENTION_MS - 60_000);
    await em.insert(WebhookEvent, { id: newId('whev', oldAt.getTime()), clientId: client.id, type: 'transfer.updated', transferId: null, payload: '{}', createdAt: oldAt });

    const listed = await call(stack.url, 'GET', '/v1/events', { key: client.key });
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.data.map((e: { data: { transfer: { id: string } } }) => e.data.transfer.id), [secondTransfer, firstTransfer]);
    const stored = await em.fork().findOneOrFail(WebhookEvent, { transferId: firstTransfer });
    assert.deepEqual(listed.body.data[1], { ...JSON.parse(stored.payload), object: 'event' });
    assert.equal((await call(stack.url, 'GET', '/v1/events?type=transfer.updated&limit=1', { key: client.key })).body.hasMore, true);
    assert.equal((await call(stack.url, 'GET', `/v1/events?createdGte=${encodeURIComponent(oldAt.toISOString())}`, { key: client.key })).body.data.length, 2, 'createdGte cannot reach past the retention');
    const badType = await call(stack.url, 'GET', '/v1/events?type=transfer.created', { key: client.key });
    assert.equal(badType.status, 400);
    assert.equal(badType.body.error.param, 'type');

    const other = await apiClient(stack, 'Quiet Co', 0);
    assert.deepEqual((await call(stack.url, 'GET', '/v1/events', { key: other.key })).body.data, []);
  });

  it('rotates the secret: both sign for 24 hours, verifyWebhookSignature takes either, then only the new one signs', async () => {
    const receiver = await startReceiver(() => 200);
    try {
      const client = await apiClient(stack, 'Rotating Co', 0);
      const hook = await endpoint(client, receiver.url);
      const key = randomUUID();
      const rotated = await call(stack.url, 'POST', `/v1/webhook_endpoints/${hook.id}/rotate_secret`, { key: client.key, idempotencyKey: key });
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      const newSecret = rotated.body.secret as string;
      assert.match(newSecret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.notEqual(newSecret, hook.secret);
      const overlapMs = Date.parse(rotated.body.previousSecretExpiresAt) - Date.now();
      assert.ok(overlapMs > 23.9 * 3_600_000 && overlapMs <= 24 * 3_600_000, `the old secret signs for 24 h (${overlapMs} ms)`);
      // A replay answers the same rotation; it does not rotate again (which would end the old secret).
      const replayed = await call(stack.url, 'POST', `/v1/webhook_endpoints/${hook.id}/rotate_secret`, { key: client.key, idempotencyKey: key });
      assert.equal(replayed.body.secret, newSecret);
      const listed = (await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: client.key })).body.data[0];
      assert.equal(listed.previousSecretExpiresAt, rotated.body.previousSecretExpiresAt);
      assert.equal(listed.secret, undefined);

      dispatcher = startWebhookDispatcher(stack.orm, SLOW_RETRIES);
      await emitEvent(client);
      await until('the delivery', async () => receiver.received.length, (n) => n === 1);
      const during = receiver.received[0];
      assert.equal(during.signature.match(/v1=/g)?.length, 2, 'one v1= per live secret');
      for (const secrets of [hook.secret, newSecret, [hook.secret, newSecret], ['whsec_unrelated', newSecret]]) {
        assert.doesNotThrow(() => verifyWebhookSignature(during.raw, during.signature, secrets), JSON.stringify(secrets));
      }
      assert.throws(() => verifyWebhookSignature(during.raw, during.signature, 'whsec_unrelated'), (err: unknown) => err instanceof WebhookVerificationError && err.code === 'bad_signature');

      // Once the overlap is over, only the new secret signs.
      await stack.orm.em.fork().nativeUpdate(WebhookEndpoint, { id: hook.id }, { previousSecretExpiresAt: new Date(Date.now() - 1_000) });
      await emitEvent(client);
      await until('the second delivery', async () => receiver.received.length, (n) => n === 2);
      const after = receiver.received[1];
      assert.equal(after.signature.match(/v1=/g)?.length, 1);
      verifyWebhookSignature(after.raw, after.signature, newSecret);
      assert.throws(() => verifyWebhookSignature(after.raw, after.signature, hook.secret), (err: unknown) => err instanceof WebhookVerificationError && err.code === 'bad_signature');
      assert.equal((await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: client.key })).body.data[0].previousSecretExpiresAt, null);

      const other = await apiClient(stack, 'Other Rotator', 0);
      assert.equal((await call(stack.url, 'POST', `/v1/webhook_endpoints/${hook.id}/rotate_secret`, { key: other.key })).status, 404);
    } finally {
      await receiver.close();
    }
  });

  describe('outside local development (a non-loopback HOST)', () => {
    let api: { url: string; close(): Promise<void> };

    before(async () => {
      const config = loadConfig({ PORT: '0', HOST: '0.0.0.0', RAIL_TIME: 'demo' });
      const server = await startApiServer({ orm: stack.orm, temporal: stack.temporal, config, opsApiKey: stack.opsKey });
      api = { url: server.url.replace('0.0.0.0', '127.0.0.1'), close: () => server.close() };
    });

    after(() => api.close());

    const refused: [string, RegExp][] = [
      ['http://127.0.0.1:8080/hooks', /127\.0\.0\.1 is a private address/],
      ['http://localhost:8080/hooks', /localhost resolves to the private address/],
      ['https://10.1.2.3/hooks', /10\.1\.2\.3 is a private address/],
      ['https://192.168.0.10/hooks', /is a private address/],
      ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is a private address/],
      ['https://[::1]/hooks', /::1 is a private address/],
      ['https://[fe80::1]/hooks', /fe80::1 is a private address/],
      ['https://[::ffff:127.0.0.1]/hooks', /is a private address/],
      ['https://hooks.does-not-exist.invalid/x', /does not resolve/],
    ];
    for (const [url, message] of refused) {
      it(`refuses ${url} at creation with 400 param url, and creates nothing`, async () => {
        const client = await apiClient(stack, 'Remote Co', 0);
        const reply = await call(api.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body: { url, events: ['transfer.updated'] } });
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
        assert.equal(reply.body.error.param, 'url');
        assert.match(reply.body.error.message, message);
        assert.deepEqual((await call(api.url, 'GET', '/v1/webhook_endpoints', { key: client.key })).body.data, []);
      });
    }

    it('accepts a public address', async () => {
      const client = await apiClient(stack, 'Public Co', 0);
      const reply = await call(api.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body: { url: 'https://93.184.216.34/hooks', events: ['transfer.updated'] } });
      assert.equal(reply.status, 201, JSON.stringify(reply.body));
    });
  });
});
