/**
 * Webhooks end to end over real HTTP: endpoints through the API, events written to the outbox with
 * each status change, delivered by the dispatcher to a real HTTP receiver, signed, retried with
 * backoff (compressed for the test), and given up on after the maximum age.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Transfer, WebhookDelivery, WebhookEvent } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { moveStatus } from '../../transfers/status';
import { retryDelayMs, startWebhookDispatcher, type DispatcherOptions, type RunningDispatcher } from '../../webhooks/dispatcher';
import { webhookBacklog } from '../../webhooks/outbox';
import { isPrivateAddress } from '../../webhooks/send';
import { ReplayGuard, verifyWebhookSignature, WebhookVerificationError } from '../../webhooks/verify';
import { BENEFICIARY, createdTransfer } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient } from '../support/api-clients';

interface Received {
  atMs: number;
  raw: string;
  signature: string | undefined;
  answered: number;
}

/**
 * A client's webhook receiver on a free port; `answer(n)` is the status for the n-th request
 * (1-based), or `null` to never answer.
 */
async function startReceiver(answer: (n: number) => number | null = () => 200) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = answer(received.length + 1);
      received.push({ atMs: Date.now(), raw: Buffer.concat(chunks).toString('utf8'), signature: req.headers['railyard-signature'] as string | undefined, answered: status ?? 0 });
      if (status !== null) res.writeHead(status, { location: 'http://127.0.0.1:1/elsewhere' }).end();
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

// The test receivers listen on loopback, which production refuses (see the SSRF test below).
const FAST: DispatcherOptions = { pollIntervalMs: 20, retryBaseMs: 100, retryMaxMs: 1_000, maxAgeMs: 60_000, requestTimeoutMs: 2_000, batchSize: 20, allowPrivateAddresses: true };

describe('webhooks: endpoints, the outbox, signed delivery with retries', () => {
  let stack: ApiStack;
  let dispatcher: RunningDispatcher | undefined;

  before(async () => {
    stack = await apiStack();
  });

  afterEach(async () => {
    await dispatcher?.stop();
    dispatcher = undefined;
  });

  const fundedClient = (amountMinor: number) => apiClient(stack, 'Hooked Marketplace', amountMinor);

  async function endpoint(clientKey: string, url: string): Promise<{ id: string; secret: string }> {
    const created = await call(stack.url, 'POST', '/v1/webhook_endpoints', { key: clientKey, body: { url, events: ['transfer.updated'] } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body;
  }

  describe('endpoints API', () => {
    it('creates an endpoint with a secret shown once, lists it without the secret, deletes it', async () => {
      const client = await fundedClient(0);
      const idemKey = randomUUID();
      const created = await call(stack.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body: { url: 'https://hooks.example.com/railyard', events: ['transfer.updated'] }, idempotencyKey: idemKey });
      assert.equal(created.status, 201);
      assert.match(created.body.id, /^we_[0-9a-z]{26}$/);
      assert.match(created.body.secret, /^whsec_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(created.body.events, ['transfer.updated']);
      const replayed = await call(stack.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body: { url: 'https://hooks.example.com/railyard', events: ['transfer.updated'] }, idempotencyKey: idemKey });
      assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
      assert.equal(replayed.body.id, created.body.id);

      const listed = await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: client.key });
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body.data.map((e: { id: string }) => e.id), [created.body.id]);
      assert.equal(listed.body.data[0].secret, undefined, 'the secret is not shown again');
      assert.equal(listed.body.hasMore, false);

      const deleted = await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${created.body.id}`, { key: client.key });
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, { id: created.body.id, object: 'webhook_endpoint', deleted: true });
      assert.deepEqual((await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: client.key })).body.data, []);
      assert.equal((await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${created.body.id}`, { key: client.key })).status, 404);
    });

    it("hides another client's endpoint: not listed, DELETE is 404 and leaves it", async () => {
      const owner = await fundedClient(0);
      const other = await fundedClient(0);
      const created = await endpoint(owner.key, 'https://hooks.example.com/a');
      assert.deepEqual((await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: other.key })).body.data, []);
      const attempt = await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${created.id}`, { key: other.key });
      assert.equal(attempt.status, 404);
      assert.equal(attempt.body.error.code, 'not_found');
      assert.equal((await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: owner.key })).body.data.length, 1);
      assert.equal((await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: stack.opsKey })).status, 403);
    });

    const bad: [string, unknown, string][] = [
      ['a missing url', { events: ['transfer.updated'] }, 'url'],
      ['a relative url', { url: '/hooks', events: ['transfer.updated'] }, 'url'],
      ['an ftp url', { url: 'ftp://example.com/x', events: ['transfer.updated'] }, 'url'],
      ['a url with credentials', { url: 'https://user:pw@example.com/x', events: ['transfer.updated'] }, 'url'],
      ['missing events', { url: 'https://example.com/x' }, 'events'],
      ['no events', { url: 'https://example.com/x', events: [] }, 'events'],
      ['an unknown event', { url: 'https://example.com/x', events: ['transfer.created'] }, 'events.0'],
      ['a repeated event', { url: 'https://example.com/x', events: ['transfer.updated', 'transfer.updated'] }, 'events'],
      ['an unknown field', { url: 'https://example.com/x', events: ['transfer.updated'], secret: 'mine' }, 'secret'],
    ];
    for (const [what, body, param] of bad) {
      it(`refuses ${what} with 400 naming ${param}, and creates nothing`, async () => {
        const client = await fundedClient(0);
        const reply = await call(stack.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body });
        assert.equal(reply.status, 400, JSON.stringify(reply.body));
        assert.equal(reply.body.error.code, 'invalid_request');
        assert.equal(reply.body.error.param, param);
        assert.deepEqual((await call(stack.url, 'GET', '/v1/webhook_endpoints', { key: client.key })).body.data, []);
      });
    }

    it('requires an Idempotency-Key', async () => {
      const client = await fundedClient(0);
      const reply = await call(stack.url, 'POST', '/v1/webhook_endpoints', { key: client.key, body: { url: 'https://example.com/x', events: ['transfer.updated'] }, idempotencyKey: null });
      assert.equal(reply.status, 400);
      assert.equal(reply.body.error.param, 'Idempotency-Key');
    });
  });

  it("delivers a transfer's lifecycle to a real receiver, signed, each event verifiable and the account masked", async () => {
    const receiver = await startReceiver();
    try {
      const client = await fundedClient(50_000);
      const hook = await endpoint(client.key, receiver.url);
      dispatcher = startWebhookDispatcher(stack.orm, FAST);
      const created = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 4_200, currency: 'USD', beneficiary: BENEFICIARY } });
      assert.equal(created.status, 201);

      const statusesOf = () => receiver.received.map((r) => JSON.parse(r.raw).data.transfer.status as string);
      await until('the completed event', async () => statusesOf(), (s) => s.includes('completed'));
      const guard = new ReplayGuard();
      const events = receiver.received.map((r) => {
        const event = verifyWebhookSignature(r.raw, r.signature, hook.secret);
        guard.check(event.id);
        return event;
      });
      // One webhook event per change of the transfer: each status it moved through, and each note
      // added to a status (an ACH entry's place in its window), which the transfer's events show.
      const api = await call(stack.url, 'GET', `/v1/transfers/${created.body.id}`, { key: client.key });
      const changes = (api.body.events as { status: string }[]).map((e) => e.status);
      assert.deepEqual([...new Set(changes)].sort(), ['completed', 'created', 'funds_held', 'settled', 'submitted']);
      assert.deepEqual([...statusesOf()].sort(), [...changes].sort(), 'one webhook event per change of the transfer');
      for (const event of events) {
        assert.equal(event.type, 'transfer.updated');
        assert.match(event.id, /^whev_/);
        assert.ok(!Number.isNaN(Date.parse(event.createdAt)));
        assert.deepEqual(Object.keys(event).sort(), ['createdAt', 'data', 'id', 'type']);
        assert.equal(event.data.transfer.id, created.body.id);
        assert.equal((event.data.transfer.beneficiary as Record<string, string>).accountNumber, '********6789');
        assert.equal(event.data.transfer.workflowId, `transfer-${created.body.id}`);
      }
      const last = events.find((e) => e.data.transfer.status === 'completed')!;
      assert.deepEqual(last.data.transfer, api.body, 'the event carries the transfer as the API shows it');
      // A replayed delivery is caught by the guard; a forged one by the signature.
      rejectsCode('replayed_event', () => guard.check(events[0].id));
      rejectsCode('bad_signature', () => verifyWebhookSignature(receiver.received[0].raw.replace('4200', '4201'), receiver.received[0].signature, hook.secret));
      // The receiver saw the last event before the dispatcher recorded its answer: wait for that.
      const deliveries = await until('every delivery recorded', () => stack.orm.em.fork().find(WebhookDelivery, { endpointId: hook.id }), (ds) => ds.every((d) => d.status !== 'pending'));
      assert.equal(deliveries.length, changes.length);
      assert.ok(deliveries.every((d) => d.status === 'delivered' && d.attempts === 1), 'each event delivered at the first attempt');
    } finally {
      await receiver.close();
    }
  });

  it('redelivers the same event after the receiver answers 500, with growing delays, then marks it delivered', async () => {
    const receiver = await startReceiver((n) => (n <= 3 ? 500 : 200));
    try {
      const client = await fundedClient(0);
      const hook = await endpoint(client.key, receiver.url);
      const input = await createdTransfer(stack.orm, client.id, 100);
      await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'canceled for the webhook test'));
      const [event] = await stack.orm.em.fork().find(WebhookEvent, { transferId: input.transferId });
      assert.ok(event, 'the status change wrote its event');
      assert.ok((await webhookBacklog(stack.orm.em)) >= 1, 'the undelivered event counts as backlog');

      dispatcher = startWebhookDispatcher(stack.orm, FAST);
      const delivery = await until(
        'delivery',
        () => stack.orm.em.fork().findOneOrFail(WebhookDelivery, { eventId: event.id, endpointId: hook.id }),
        (d) => d.status !== 'pending',
      );
      assert.equal(delivery.status, 'delivered');
      assert.equal(delivery.attempts, 4);
      assert.equal(delivery.lastError, null);
      assert.deepEqual(receiver.received.map((r) => r.answered), [500, 500, 500, 200]);
      assert.ok(receiver.received.every((r) => r.raw === event.payload), 'every attempt sends the same body');
      for (const r of receiver.received) assert.equal(verifyWebhookSignature(r.raw, r.signature, hook.secret).id, event.id);
      // Each wait is at least the backoff for that attempt: 100, 200, 400 ms.
      for (let i = 1; i < receiver.received.length; i++) {
        const gap = receiver.received[i].atMs - receiver.received[i - 1].atMs;
        assert.ok(gap >= retryDelayMs(i, FAST) - 15, `wait before attempt ${i + 1} was ${gap} ms, expected ≥ ${retryDelayMs(i, FAST)}`);
      }
    } finally {
      await receiver.close();
    }
  });

  it('marks a delivery dead once retries pass the maximum age, and it leaves the backlog', async () => {
    const receiver = await startReceiver(() => 500);
    try {
      const client = await fundedClient(0);
      const hook = await endpoint(client.key, receiver.url);
      const input = await createdTransfer(stack.orm, client.id, 100);
      await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'canceled for the webhook test'));
      dispatcher = startWebhookDispatcher(stack.orm, { ...FAST, retryBaseMs: 50, maxAgeMs: 600 });
      const delivery = await until('dead', () => stack.orm.em.fork().findOneOrFail(WebhookDelivery, { endpointId: hook.id }), (d) => d.status !== 'pending');
      assert.equal(delivery.status, 'dead');
      assert.match(delivery.lastError ?? '', /^gave up after \d+ attempts: HTTP 500$/);
      assert.ok(delivery.attempts >= 2 && delivery.attempts === receiver.received.length, `${delivery.attempts} attempts`);
      assert.equal(await stack.orm.em.fork().count(WebhookDelivery, { endpointId: hook.id, status: 'pending' }), 0);
    } finally {
      await receiver.close();
    }
  });

  it('retries a receiver that refuses connections, and stops for an endpoint deleted meanwhile', async () => {
    const receiver = await startReceiver();
    const url = receiver.url;
    await receiver.close(); // nothing listens there now
    const client = await fundedClient(0);
    const hook = await endpoint(client.key, url);
    const input = await createdTransfer(stack.orm, client.id, 100);
    await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'canceled for the webhook test'));
    dispatcher = startWebhookDispatcher(stack.orm, FAST);
    const retrying = await until('a failed attempt', () => stack.orm.em.fork().findOneOrFail(WebhookDelivery, { endpointId: hook.id }), (d) => d.attempts >= 1 && d.lastError !== null);
    assert.equal(retrying.status, 'pending');
    assert.match(retrying.lastError!, /ECONNREFUSED|fetch failed/);
    assert.equal((await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${hook.id}`, { key: client.key })).status, 200);
    const stopped = await stack.orm.em.fork().findOneOrFail(WebhookDelivery, { endpointId: hook.id });
    assert.equal(stopped.status, 'dead');
    assert.equal(stopped.lastError, 'the endpoint was deleted');
  });

  /** An endpoint for a fresh client and one `transfer.updated` event owed to it. */
  async function owedEvent(url: string): Promise<{ client: { id: string; key: string }; hookId: string }> {
    const client = await fundedClient(0);
    const hook = await endpoint(client.key, url);
    const input = await createdTransfer(stack.orm, client.id, 100);
    await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'canceled for the webhook test'));
    return { client, hookId: hook.id };
  }

  const deliveryTo = (hookId: string) => stack.orm.em.fork().findOneOrFail(WebhookDelivery, { endpointId: hookId });

  it('treats a redirect and a receiver that never answers as failures to retry', async () => {
    const redirecting = await startReceiver(() => 302);
    const silent = await startReceiver(() => null);
    try {
      const redirect = await owedEvent(redirecting.url);
      const hang = await owedEvent(silent.url);
      dispatcher = startWebhookDispatcher(stack.orm, { ...FAST, requestTimeoutMs: 300 });
      const redirected = await until('a redirect answer', () => deliveryTo(redirect.hookId), (d) => d.lastError !== null);
      assert.equal(redirected.status, 'pending');
      assert.equal(redirected.lastError, 'HTTP 302');
      const timedOut = await until('a timeout', () => deliveryTo(hang.hookId), (d) => d.lastError !== null);
      assert.equal(timedOut.status, 'pending');
      assert.equal(timedOut.lastError, 'no answer within 300 ms');
      for (const { client, hookId } of [redirect, hang]) await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${hookId}`, { key: client.key });
    } finally {
      await Promise.all([redirecting.close(), silent.close()]);
    }
  });

  it('refuses to call loopback and private addresses unless allowed, by address or by name', async () => {
    assert.ok(isPrivateAddress('127.0.0.1') && isPrivateAddress('10.1.2.3') && isPrivateAddress('169.254.169.254') && isPrivateAddress('192.168.0.1'));
    assert.ok(isPrivateAddress('::1') && isPrivateAddress('fd00::1') && isPrivateAddress('::ffff:127.0.0.1'));
    assert.ok(!isPrivateAddress('93.184.216.34') && !isPrivateAddress('2606:2800:220:1::1'));
    const receiver = await startReceiver();
    try {
      const byAddress = await owedEvent(receiver.url);
      const byName = await owedEvent(receiver.url.replace('127.0.0.1', 'localhost'));
      dispatcher = startWebhookDispatcher(stack.orm, { ...FAST, allowPrivateAddresses: false });
      const refused = await until('a refused attempt', () => deliveryTo(byAddress.hookId), (d) => d.lastError !== null);
      assert.equal(refused.status, 'pending');
      assert.match(refused.lastError!, /127\.0\.0\.1 is a private address/);
      const refusedByName = await until('a refused attempt', () => deliveryTo(byName.hookId), (d) => d.lastError !== null);
      assert.match(refusedByName.lastError!, /localhost resolves to the private address/);
      assert.equal(receiver.received.length, 0, 'nothing reached the private address');
      for (const { client, hookId } of [byAddress, byName]) await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${hookId}`, { key: client.key });
    } finally {
      await receiver.close();
    }
  });

  describe('the outbox commits or rolls back with the status change', () => {
    it('a committed change writes exactly one event, a no-op move writes none', async () => {
      const client = await fundedClient(0);
      const input = await createdTransfer(stack.orm, client.id, 100);
      await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'test'));
      await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'test again'));
      const events = await stack.orm.em.fork().find(WebhookEvent, { transferId: input.transferId });
      assert.equal(events.length, 1);
      assert.equal(JSON.parse(events[0].payload).data.transfer.status, 'canceled');
    });

    it('a rolled-back change leaves neither the status nor the event', async () => {
      const client = await fundedClient(0);
      const hook = await endpoint(client.key, 'https://hooks.example.com/never');
      const input = await createdTransfer(stack.orm, client.id, 100);
      await assert.rejects(
        inTransaction(stack.orm.em.fork(), async (tx) => {
          await moveStatus(tx, input.transferId, 'funds_held', 'about to fail');
          throw new Error('the step fails after the status change');
        }),
        /the step fails/,
      );
      const em = stack.orm.em.fork();
      assert.equal((await em.findOneOrFail(Transfer, { id: input.transferId })).status, 'created');
      assert.equal(await em.count(WebhookEvent, { transferId: input.transferId }), 0);
      assert.equal(await em.count(WebhookDelivery, { endpointId: hook.id }), 0);
      // Leave nothing in `created` for the recovery sweep to find, and nothing owed to a fake receiver.
      assert.equal((await call(stack.url, 'DELETE', `/v1/webhook_endpoints/${hook.id}`, { key: client.key })).status, 200);
      await inTransaction(stack.orm.em.fork(), (tx) => moveStatus(tx, input.transferId, 'canceled', 'test over'));
    });
  });
});

function rejectsCode(code: string, fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => err instanceof WebhookVerificationError && err.code === code);
}
