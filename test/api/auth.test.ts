/**
 * Who may call what, over real HTTP: client keys issued, listed and revoked by ops; a client never
 * sees another's transfers, balances or quotes; ops routes refuse client keys; per-key rate limits;
 * body size limits; helmet's headers.
 */
import assert from 'node:assert/strict';
import { ApiKey, Transfer } from '../../db/schema';
import { hashApiKey } from '../../api/keys';
import { startApiServer, type ApiServer } from '../../api/server';
import { ConfigError, loadConfig } from '../../core/config';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, type ApiStack } from '../support/api-stack';

async function newClient(stack: ApiStack, name: string, fundUsdMinor = 0): Promise<{ id: string; key: string; keyId: string }> {
  const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  if (fundUsdMinor > 0) {
    const funded = await call(stack.url, 'POST', `/v1/ops/clients/${created.body.id}/deposits`, {
      key: stack.opsKey,
      body: { currency: 'USD', amountMinor: fundUsdMinor, reference: `seed-${created.body.id}` },
    });
    assert.equal(funded.status, 201, JSON.stringify(funded.body));
  }
  return { id: created.body.id, key: created.body.apiKey, keyId: created.body.apiKeyId };
}

describe('API: authentication, isolation and limits', () => {
  let stack: ApiStack;

  before(async () => {
    stack = await apiStack();
  });

  describe('client API keys', () => {
    it('never stores a plaintext key with the idempotency record: a replay answers without it', async () => {
      const idempotencyKey = `keys-${Date.now()}`;
      const first = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Replayed Co' }, idempotencyKey });
      assert.equal(first.status, 201, JSON.stringify(first.body));
      assert.match(first.body.apiKey, /^ry_client_/);
      const stored: { response_body: string }[] = await stack.orm.em.fork().getConnection().execute('select response_body from idempotency_keys where idem_key = ?', [idempotencyKey]);
      assert.equal(stored.length, 1);
      assert.ok(!stored[0].response_body.includes(first.body.apiKey), 'the idempotency table holds no plaintext key');
      const replay = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Replayed Co' }, idempotencyKey });
      assert.equal(replay.status, 201);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.id, first.body.id);
      assert.equal(replay.body.apiKey, undefined, 'the key was shown once');
      assert.equal(replay.body.apiKeyId, first.body.apiKeyId);
    });

    it('issues an additional key shown once and stored hashed; both keys work', async () => {
      const client = await newClient(stack, 'Rotating Co');
      assert.match(client.keyId, /^key_[0-9a-z]{26}$/);
      const issued = await call(stack.url, 'POST', `/v1/ops/clients/${client.id}/keys`, { key: stack.opsKey });
      assert.equal(issued.status, 201, JSON.stringify(issued.body));
      assert.match(issued.body.apiKey, /^ry_client_/);
      assert.notEqual(issued.body.apiKey, client.key);
      assert.equal(issued.body.last4, issued.body.apiKey.slice(-4));
      assert.equal(issued.body.revokedAt, null);

      const rows = await stack.orm.em.fork().find(ApiKey, { clientId: client.id });
      assert.equal(rows.length, 2);
      const stored = rows.find((r) => r.id === issued.body.id)!;
      assert.equal(stored.keyHash, hashApiKey(issued.body.apiKey));
      assert.ok(rows.every((r) => !JSON.stringify(r).includes(issued.body.apiKey)), 'the plaintext key is not stored');

      for (const key of [client.key, issued.body.apiKey]) {
        assert.equal((await call(stack.url, 'GET', '/v1/balances', { key })).status, 200);
      }
      const listed = await call(stack.url, 'GET', `/v1/ops/clients/${client.id}/keys`, { key: stack.opsKey });
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.data.map((k: { id: string }) => k.id),
        [issued.body.id, client.keyId],
        'newest first',
      );
      assert.ok(listed.body.data.every((k: Record<string, unknown>) => !('apiKey' in k) && !('keyHash' in k)), 'listings never show a key');
    });

    it('refuses a revoked key with 401 at once, keeps the others, and revokes idempotently', async () => {
      const client = await newClient(stack, 'Revoking Co');
      const second = await call(stack.url, 'POST', `/v1/ops/clients/${client.id}/keys`, { key: stack.opsKey });
      const revoked = await call(stack.url, 'DELETE', `/v1/ops/clients/${client.id}/keys/${client.keyId}`, { key: stack.opsKey });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.equal(revoked.body.id, client.keyId);
      assert.ok(!Number.isNaN(Date.parse(revoked.body.revokedAt)));

      const refused = await call(stack.url, 'GET', '/v1/balances', { key: client.key });
      assert.equal(refused.status, 401);
      assert.equal(refused.body.error.code, 'unauthenticated');
      assert.equal(refused.body.error.type, 'authentication_error');
      const post = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 1, currency: 'USD', beneficiary: BENEFICIARY } });
      assert.equal(post.status, 401);
      assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: second.body.apiKey })).status, 200, 'the other key still works');

      const again = await call(stack.url, 'DELETE', `/v1/ops/clients/${client.id}/keys/${client.keyId}`, { key: stack.opsKey });
      assert.equal(again.status, 200);
      assert.equal(again.body.revokedAt, revoked.body.revokedAt, 'revoking twice keeps the first revocation time');
    });

    it("answers 404 for an unknown client or for another client's key, and 403 to a client key", async () => {
      const a = await newClient(stack, 'Key Owner');
      const b = await newClient(stack, 'Key Thief');
      const wrongOwner = await call(stack.url, 'DELETE', `/v1/ops/clients/${b.id}/keys/${a.keyId}`, { key: stack.opsKey });
      assert.equal(wrongOwner.status, 404);
      assert.equal(wrongOwner.body.error.param, 'keyId');
      assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: a.key })).status, 200, "a's key was not revoked");
      const unknown = await call(stack.url, 'POST', '/v1/ops/clients/cl_00000000000000000000000000/keys', { key: stack.opsKey });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.error.param, 'id');
      const extraField = await call(stack.url, 'POST', `/v1/ops/clients/${a.id}/keys`, { key: stack.opsKey, body: { name: 'x' } });
      assert.equal(extraField.status, 400);
      assert.equal(extraField.body.error.param, 'name');

      for (const [method, path] of [
        ['POST', `/v1/ops/clients/${a.id}/keys`],
        ['GET', `/v1/ops/clients/${a.id}/keys`],
        ['DELETE', `/v1/ops/clients/${a.id}/keys/${a.keyId}`],
        ['POST', `/v1/ops/clients/${a.id}/deposits`],
      ] as const) {
        const res = await call(stack.url, method, path, { key: a.key, body: method === 'POST' ? {} : undefined });
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.error.code, 'forbidden');
        assert.equal(res.body.error.type, 'permission_error');
      }
      assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: a.key })).status, 200, 'the 403 revoked nothing');
      assert.equal(await stack.orm.em.fork().count(ApiKey, { clientId: a.id }), 1, 'nothing was issued');
    });

    it('refuses requests without a key or with a malformed Authorization header with 401', async () => {
      for (const headers of [{} as Record<string, string>, { authorization: 'Basic abc' }, { authorization: 'Bearer' }, { authorization: 'Bearer a b' }]) {
        const res = await call(stack.url, 'GET', '/v1/balances', { headers });
        assert.equal(res.status, 401, JSON.stringify(headers));
        assert.equal(res.body.error.code, 'unauthenticated');
      }
    });
  });

  describe('isolation between clients', () => {
    let a: { id: string; key: string };
    let b: { id: string; key: string };
    let transferId: string;
    let quoteId: string;

    before(async () => {
      a = await newClient(stack, 'Isolated A', 50_000);
      b = await newClient(stack, 'Isolated B');
      const transfer = await call(stack.url, 'POST', '/v1/transfers', { key: a.key, body: { amountMinor: 1_000, currency: 'USD', beneficiary: BENEFICIARY } });
      assert.equal(transfer.status, 201, JSON.stringify(transfer.body));
      transferId = transfer.body.id;
      const quote = await call(stack.url, 'POST', '/v1/fx/quotes', { key: a.key, body: { sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 2_000 } });
      assert.equal(quote.status, 201, JSON.stringify(quote.body));
      quoteId = quote.body.id;
    });

    it("answers 404 for another client's transfer, as for one that does not exist", async () => {
      const theirs = await call(stack.url, 'GET', `/v1/transfers/${transferId}`, { key: b.key });
      const none = await call(stack.url, 'GET', '/v1/transfers/tr_00000000000000000000000000', { key: b.key });
      assert.equal(theirs.status, 404);
      assert.equal(theirs.body.error.code, 'not_found');
      assert.equal(none.status, 404);
      assert.equal(theirs.body.error.type, none.body.error.type);
      assert.equal((await call(stack.url, 'GET', `/v1/transfers/${transferId}`, { key: a.key })).status, 200, 'the owner sees it');
    });

    it("never lists another client's transfers or balances", async () => {
      const list = await call(stack.url, 'GET', '/v1/transfers?limit=100', { key: b.key });
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.data, []);
      const balances = await call(stack.url, 'GET', '/v1/balances', { key: b.key });
      assert.deepEqual(balances.body.data, []);
      const own = await call(stack.url, 'GET', '/v1/balances', { key: a.key });
      assert.equal(own.body.data[0].currency, 'USD');
    });

    it("refuses another client's quote with 404 and writes nothing", async () => {
      await call(stack.url, 'POST', `/v1/ops/clients/${b.id}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor: 10_000, reference: 'b-seed' } });
      const res = await call(stack.url, 'POST', '/v1/transfers', {
        key: b.key,
        body: { amountMinor: 2_000, currency: 'USD', targetCurrency: 'EUR', quoteId, beneficiary: { name: 'Émilie du Châtelet', country: 'DE', iban: 'DE89370400440532013000' } },
      });
      assert.equal(res.status, 404, JSON.stringify(res.body));
      assert.equal(res.body.error.param, 'quoteId');
      assert.equal(await stack.orm.em.fork().count(Transfer, { clientId: b.id }), 0);
    });
  });

  describe('rate limits per key', () => {
    let limitedApi: ApiServer;

    before(async () => {
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RATE_LIMIT_PER_SECOND: '2', RATE_LIMIT_BURST: '3' });
      limitedApi = await startApiServer({ orm: stack.orm, temporal: stack.temporal, config, opsApiKey: stack.opsKey });
    });
    after(async () => {
      await limitedApi.close();
    });

    it('answers 429 rate_limited with Retry-After once a key spends its burst, without touching other keys, and recovers', async () => {
      const a = await newClient(stack, 'Hasty');
      const b = await newClient(stack, 'Patient');
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await call(limitedApi.url, 'GET', '/v1/balances', { key: a.key })).status);
      const refused = await call(limitedApi.url, 'GET', '/v1/balances', { key: a.key });
      assert.deepEqual(statuses, [200, 200, 200]);
      assert.equal(refused.status, 429);
      assert.equal(refused.body.error.code, 'rate_limited');
      assert.equal(refused.body.error.type, 'rate_limit_error');
      assert.equal(refused.headers.get('retry-after'), '1');
      assert.equal((await call(limitedApi.url, 'GET', '/v1/balances', { key: b.key })).status, 200, "another key has its own bucket");
      await new Promise((r) => setTimeout(r, 600));
      assert.equal((await call(limitedApi.url, 'GET', '/v1/balances', { key: a.key })).status, 200, 'a token came back');
    });

    it('limits the ops key too, and a refused POST writes nothing', async () => {
      const clientsBefore = await stack.orm.em.fork().count(ApiKey, {});
      const results: number[] = [];
      for (let i = 0; i < 5; i++) results.push((await call(limitedApi.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: `burst ${i}` } })).status);
      assert.deepEqual(results.slice(0, 3), [201, 201, 201]);
      assert.deepEqual(results.slice(3), [429, 429]);
      assert.equal(await stack.orm.em.fork().count(ApiKey, {}), clientsBefore + 3);
    });

    it('limits requests without a valid key per source address, so keys cannot be guessed faster than the limit', async () => {
      const valid = await newClient(stack, 'Honest');
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(limitedApi.url, 'GET', '/v1/balances', { key: `ry_client_guess${i}` })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
      const noKey = await call(limitedApi.url, 'GET', '/v1/balances');
      assert.equal(noKey.status, 429);
      assert.equal(noKey.body.error.code, 'rate_limited');
      assert.ok(Number(noKey.headers.get('retry-after')) >= 1);
      assert.equal((await call(limitedApi.url, 'GET', '/v1/balances', { key: valid.key })).status, 200, 'a valid key has its own bucket');
    });

    it('validates the limits at start, naming the variable', () => {
      assert.throws(() => loadConfig({ RATE_LIMIT_PER_SECOND: '0' }), (err: Error) => err instanceof ConfigError && /RATE_LIMIT_PER_SECOND/.test(err.message));
      assert.throws(() => loadConfig({ RATE_LIMIT_BURST: '2.5' }), (err: Error) => err instanceof ConfigError && /RATE_LIMIT_BURST/.test(err.message));
      assert.throws(() => loadConfig({ RATE_LIMIT_BURST: 'many' }), (err: Error) => err instanceof ConfigError && /RATE_LIMIT_BURST/.test(err.message));
      const config = loadConfig({});
      assert.equal(config.RATE_LIMIT_PER_SECOND, 25);
      assert.equal(config.RATE_LIMIT_BURST, 50);
    });
  });

  describe('body limits and headers', () => {
    it('refuses a body over 100 KiB with 413 in the error shape and writes nothing', async () => {
      const client = await newClient(stack, 'Verbose');
      const before = await stack.orm.em.fork().count(Transfer, { clientId: client.id });
      const big = JSON.stringify({ amountMinor: 1, currency: 'USD', beneficiary: BENEFICIARY, reference: 'x'.repeat(110 * 1024) });
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, rawBody: big });
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'payload_too_large');
      assert.equal(res.body.error.type, 'invalid_request_error');
      assert.match(res.body.error.message, /102400 bytes/);
      assert.equal(await stack.orm.em.fork().count(Transfer, { clientId: client.id }), before);
    });

    it("sets helmet's security headers on every answer, errors included", async () => {
      for (const res of [await fetch(`${stack.url}/healthz`), await fetch(`${stack.url}/v1/balances`)]) {
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
        assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
        assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /upgrade-insecure-requests/, 'docs must load over plain HTTP too');
        assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=/);
        assert.equal(res.headers.get('x-powered-by'), null);
      }
    });
  });
});
