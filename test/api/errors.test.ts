/**
 * The error path over real HTTP: one shape for every failure, `param` on what the client got wrong,
 * and 5xx answers that never show what broke inside (it goes to the log, with the request ID).
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import type { MikroORM } from '@mikro-orm/core';
import { ERROR_CODES } from '../../core/errors';
import { loadConfig } from '../../core/config';
import { openOrm } from '../../db/orm';
import { startApiServer, type ApiServer } from '../../api/server';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, type ApiStack } from '../support/api-stack';

describe('API: errors', () => {
  let stack: ApiStack;
  let clientKey: string;

  before(async () => {
    stack = await apiStack();
    const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Erroneous' } });
    clientKey = created.body.apiKey;
  });

  it('maps every code of the closed table to the status SPEC §5 gives it', () => {
    const expected: Record<string, number> = {
      invalid_request: 400,
      quote_expired: 400,
      unauthenticated: 401,
      insufficient_funds: 402,
      forbidden: 403,
      four_eyes_required: 403,
      not_found: 404,
      method_not_allowed: 405,
      idempotency_key_in_use: 409,
      invalid_state: 409,
      payload_too_large: 413,
      idempotency_key_reused: 422,
      rate_limited: 429,
      internal_error: 500,
      service_unavailable: 503,
    };
    assert.deepEqual(Object.fromEntries(Object.entries(ERROR_CODES).map(([code, v]) => [code, v.status])), expected);
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const res = await call(stack.url, 'GET', '/v1/nowhere', { key: clientKey });
    assert.equal(res.status, 404);
    assert.deepEqual(Object.keys(res.body), ['error']);
    assert.equal(res.body.error.code, 'not_found');
    assert.equal(res.body.error.type, 'invalid_request_error');
  });

  it('refuses a body that is not JSON with 400 naming Content-Type, instead of reporting its fields missing', async () => {
    const res = await fetch(`${stack.url}/v1/transfers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clientKey}`, 'idempotency-key': `ct-${Date.now()}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ amountMinor: 1, currency: 'USD', beneficiary: BENEFICIARY }),
    });
    const body = (await res.json()) as { error: { code: string; param: string } };
    assert.equal(res.status, 400);
    assert.equal(body.error.code, 'invalid_request');
    assert.equal(body.error.param, 'Content-Type');
  });

  it('names the nested field at fault in param', async () => {
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: { amountMinor: 1, currency: 'USD', beneficiary: { ...BENEFICIARY, accountNumber: '12' } } });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.param, 'beneficiary.accountNumber');
    assert.match(res.body.error.message, /beneficiary\.accountNumber/);
  });

  describe('when the database fails under a request', () => {
    let brokenOrm: MikroORM;
    let api: ApiServer;
    const logLines: string[] = [];

    before(async () => {
      // A second ORM on the test database, closed before use: every query fails inside the driver.
      brokenOrm = await openOrm({ databaseUrl: stack.orm.config.get('clientUrl'), dataDir: '' });
      await brokenOrm.close(true);
      const logger = pino({ level: 'error' }, { write: (line: string) => void logLines.push(line) });
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1' });
      api = await startApiServer({ orm: brokenOrm, temporal: stack.temporal, config, opsApiKey: stack.opsKey, logger });
    });
    after(async () => {
      await api.close();
    });

    it('answers 500 internal_error with a fixed message, and logs the real error under the request ID', async () => {
      const requestId = `req-broken-${Date.now()}`;
      const res = await call(api.url, 'GET', '/v1/balances', { key: clientKey, headers: { 'x-request-id': requestId } });
      assert.equal(res.status, 500);
      assert.deepEqual(res.body, { error: { type: 'api_error', code: 'internal_error', message: 'an internal error occurred; it has been logged with this request ID' } });
      assert.equal(res.headers.get('x-request-id'), requestId);
      const raw = JSON.stringify(res.body);
      for (const leak of [/select/i, /mysql|maria|knex|mikro/i, /\bat \S+:\d+/, /127\.0\.0\.1/, /railyard_test/]) assert.doesNotMatch(raw, leak);

      const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.req?.id === requestId);
      assert.ok(logged, `the error is logged with the request ID; log: ${logLines.join('')}`);
      assert.equal(logged.msg, 'unhandled error');
      assert.ok(logged.err?.stack, 'the log keeps the stack for whoever investigates');
    });

    it('answers a POST with the same 500 and nothing more', async () => {
      const res = await call(api.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Doomed' } });
      assert.equal(res.status, 500);
      assert.equal(res.body.error.code, 'internal_error');
      assert.equal(res.body.error.param, undefined);
    });
  });
});
