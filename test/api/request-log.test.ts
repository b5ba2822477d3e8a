/**
 * The request log at `info`, as production writes it, captured from real requests over HTTP: one
 * line per request with its method, URL, status and headers, and never a credential — neither a
 * client's key nor the operator key, whether the key is valid or a guess, nor a cookie.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { loadConfig } from '../../core/config';
import { startApiServer, type ApiServer } from '../../api/server';
import { apiStack, call, type ApiStack } from '../support/api-stack';

describe('API: the request log never holds a credential', () => {
  let stack: ApiStack;
  let api: ApiServer;
  const lines: string[] = [];

  before(async () => {
    stack = await apiStack();
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1' });
    api = await startApiServer({ orm: stack.orm, temporal: stack.temporal, config, opsApiKey: stack.opsKey, logger });
  });

  after(async () => {
    await api.close();
  });

  /** The log line pino-http wrote when the request with this ID finished. */
  function lineOf(requestId: string) {
    const found = lines.map((l) => JSON.parse(l)).find((l) => l.req?.id === requestId && l.res);
    assert.ok(found, `a log line for ${requestId}; log:\n${lines.join('')}`);
    return found;
  }

  it('logs each request with its headers, the Authorization and Cookie values redacted', async () => {
    const opsRequest = `req-ops-${randomUUID()}`;
    const created = await call(api.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Logged Co' }, headers: { 'x-request-id': opsRequest } });
    assert.equal(created.status, 201);
    const clientKey: string = created.body.apiKey;

    const clientRequest = `req-client-${randomUUID()}`;
    const cookie = `session=${randomUUID()}`;
    const balances = await call(api.url, 'GET', '/v1/balances', { key: clientKey, headers: { 'x-request-id': clientRequest, cookie, 'proxy-authorization': `Basic ${Buffer.from('u:p').toString('base64')}` } });
    assert.equal(balances.status, 200);

    const guessRequest = `req-guess-${randomUUID()}`;
    const guessedKey = `ry_live_${randomUUID().replaceAll('-', '')}`;
    assert.equal((await call(api.url, 'GET', '/v1/balances', { key: guessedKey, headers: { 'x-request-id': guessRequest } })).status, 401);

    const ops = lineOf(opsRequest);
    assert.equal(ops.req.method, 'POST');
    assert.equal(ops.req.url, '/v1/ops/clients');
    assert.equal(ops.res.statusCode, 201);
    assert.equal(ops.req.headers.authorization, '[Redacted]');
    assert.ok(ops.req.headers['idempotency-key'], 'headers that are not credentials stay in the log');

    const client = lineOf(clientRequest);
    assert.equal(client.req.headers.authorization, '[Redacted]');
    assert.equal(client.req.headers.cookie, '[Redacted]');
    assert.equal(client.req.headers['proxy-authorization'], '[Redacted]');
    assert.equal(lineOf(guessRequest).req.headers.authorization, '[Redacted]');

    const log = lines.join('');
    for (const [what, secret] of [['the operator key', stack.opsKey], ["the client's key", clientKey], ['a guessed key', guessedKey], ['the cookie', cookie.split('=')[1]], ['the basic credentials', 'dTpw']]) {
      assert.ok(!log.includes(secret), `${what} appears in the log`);
    }
  });
});
