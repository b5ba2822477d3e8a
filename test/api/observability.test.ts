/**
 * The API's observability over real HTTP: Prometheus metrics (latency by route template, transfers
 * by status from the database, process metrics), readiness that says which dependency is down
 * (and answers 503 when Temporal is unreachable), and the request ID carried into the workflow.
 */
import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import type { MikroORM } from '@mikro-orm/core';
import { loadConfig } from '../../core/config';
import { workflowIdFor } from '../../core/transfer';
import { openOrm } from '../../db/orm';
import { startApiServer, type ApiServer } from '../../api/server';
import { freePort } from '../../devtools/temporal';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, type ApiStack } from '../support/api-stack';
import { testDataConverter } from '../support/global';

/** The value of one sample in a Prometheus text exposition, or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf('}'));
    const found = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

async function scrape(url: string): Promise<{ status: number; contentType: string | null; text: string }> {
  const res = await fetch(`${url}/metrics`);
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

describe('API: metrics, readiness and request IDs', () => {
  let stack: ApiStack;
  let client: { id: string; apiKey: string };

  before(async () => {
    stack = await apiStack();
    client = (await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Observed Co' } })).body;
    await call(stack.url, 'POST', `/v1/ops/clients/${client.id}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor: 100_000, reference: 'obs-seed' } });
  });

  describe('GET /metrics', () => {
    it('times requests by route template, method and status, never by raw URL', async () => {
      const before = await scrape(stack.url);
      const bucket = (route: string, status: string, method = 'GET') => sample(before.text, 'railyard_http_request_duration_seconds_count', { route, status, method }) ?? 0;
      const balancesBefore = bucket('/v1/balances', '200');
      const transferBefore = bucket('/v1/transfers/:id', '404');
      const unmatchedBefore = bucket('unmatched', '404');

      for (let i = 0; i < 3; i++) assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: client.apiKey })).status, 200);
      await call(stack.url, 'GET', '/v1/transfers/tr_00000000000000000000000001', { key: client.apiKey });
      await call(stack.url, 'GET', '/v1/transfers/tr_00000000000000000000000002', { key: client.apiKey });
      await call(stack.url, 'GET', '/no/such/route/42', { key: client.apiKey });

      const after = await scrape(stack.url);
      assert.equal(after.status, 200);
      assert.match(after.contentType ?? '', /^text\/plain; version=0\.0\.4/);
      const count = (route: string, status: string) => sample(after.text, 'railyard_http_request_duration_seconds_count', { route, status, method: 'GET' }) ?? 0;
      assert.equal(count('/v1/balances', '200') - balancesBefore, 3);
      assert.equal(count('/v1/transfers/:id', '404') - transferBefore, 2);
      assert.equal(count('unmatched', '404') - unmatchedBefore, 1);
      assert.doesNotMatch(after.text, /tr_0000000000000000000000000[12]|\/no\/such\/route/, 'no raw URL becomes a label');
      assert.match(after.text, /# TYPE railyard_http_request_duration_seconds histogram/);
    });

    it('reports transfers by status from the database, every status included', async () => {
      const created = await call(stack.url, 'POST', '/v1/transfers', { key: client.apiKey, body: { amountMinor: 500, currency: 'USD', beneficiary: BENEFICIARY } });
      assert.equal(created.status, 201);
      const dbCounts = async () => {
        const rows: { status: string; n: number | string }[] = await stack.orm.em.fork().getConnection().execute('select status, count(*) as n from transfers group by status');
        return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
      };
      // Workflows of this and other suites move transfers on; compare a scrape taken between two equal reads.
      for (let attempt = 0; ; attempt++) {
        const first = await dbCounts();
        const { text } = await scrape(stack.url);
        const second = await dbCounts();
        if (JSON.stringify(first) !== JSON.stringify(second)) {
          assert.ok(attempt < 50, 'the transfer counts never held still long enough to compare');
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        assert.ok(Object.values(first).reduce((a, b) => a + b, 0) >= 1);
        for (const [status, n] of Object.entries(first)) assert.equal(sample(text, 'railyard_transfers', { status }), n, status);
        assert.equal(sample(text, 'railyard_transfers', { status: 'needs_attention' }), first.needs_attention ?? 0, 'a status with no transfers reports 0');
        break;
      }
    });

    it('reports the webhook backlog: deliveries not yet delivered', async () => {
      const pending = async () => Number((await stack.orm.em.fork().getConnection().execute("select count(*) as n from webhook_deliveries where status = 'pending'"))[0].n);
      // Deliveries of other suites come and go; compare a scrape taken between two equal reads.
      for (let attempt = 0; ; attempt++) {
        const first = await pending();
        const { text } = await scrape(stack.url);
        const second = await pending();
        if (first !== second) {
          assert.ok(attempt < 50, 'the webhook backlog never held still long enough to compare');
          await new Promise((r) => setTimeout(r, 200));
          continue;
        }
        const line = text.split('\n').find((l) => l.startsWith('railyard_webhook_backlog '));
        assert.ok(line, 'railyard_webhook_backlog is exported');
        assert.equal(Number(line.slice(line.lastIndexOf(' ') + 1)), first);
        break;
      }
    });

    it('includes the default process metrics', async () => {
      const { text } = await scrape(stack.url);
      for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
        assert.match(text, new RegExp(`^${name} `, 'm'), name);
      }
    });
  });

  describe('when dependencies are down', () => {
    let deadTemporal: Connection;
    let brokenOrm: MikroORM;
    const apis: ApiServer[] = [];

    before(async () => {
      // Nothing listens on this port: every Temporal call fails to connect.
      deadTemporal = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
      brokenOrm = await openOrm({ databaseUrl: stack.orm.config.get('clientUrl'), dataDir: '' });
      await brokenOrm.close(true);
    });
    after(async () => {
      for (const api of apis) await api.close();
      await deadTemporal.close();
    });

    async function apiWith(orm: MikroORM, temporal: Client): Promise<ApiServer> {
      const api = await startApiServer({ orm, temporal, config: loadConfig({ PORT: '0', HOST: '127.0.0.1' }), opsApiKey: stack.opsKey });
      apis.push(api);
      return api;
    }

    it('answers /readyz 200 when the database and Temporal answer', async () => {
      const res = await call(stack.url, 'GET', '/readyz');
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ok: true, checks: { database: 'ok', temporal: 'ok' } });
    });

    it('answers /readyz 503 naming Temporal when Temporal is unreachable, within the check timeout, while /healthz stays 200', async () => {
      const api = await apiWith(stack.orm, new Client({ connection: deadTemporal, namespace: 'default', dataConverter: testDataConverter }));
      const startedMs = Date.now();
      const res = await call(api.url, 'GET', '/readyz');
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { ok: false, checks: { database: 'ok', temporal: 'unreachable' } });
      assert.ok(Date.now() - startedMs < 5_000, `answered in ${Date.now() - startedMs} ms`);
      assert.equal((await call(api.url, 'GET', '/healthz')).status, 200);
    });

    it('answers a transfer with 503 service_unavailable when Temporal is unreachable, naming no host', async () => {
      const api = await apiWith(stack.orm, new Client({ connection: deadTemporal, namespace: 'default', dataConverter: testDataConverter }));
      const res = await call(api.url, 'POST', '/v1/transfers', { key: client.apiKey, body: { amountMinor: 100, currency: 'USD', beneficiary: BENEFICIARY } });
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'service_unavailable');
      assert.doesNotMatch(JSON.stringify(res.body), /127\.0\.0\.1|14 UNAVAILABLE|grpc|ECONNREFUSED/);
    });

    it('answers /readyz 503 naming the database when it is down, and /metrics still answers without the database gauges', async () => {
      const api = await apiWith(brokenOrm, stack.temporal);
      const res = await call(api.url, 'GET', '/readyz');
      assert.equal(res.status, 503);
      assert.deepEqual(res.body, { ok: false, checks: { database: 'unreachable', temporal: 'ok' } });
      const metrics = await scrape(api.url);
      assert.equal(metrics.status, 200);
      assert.doesNotMatch(metrics.text, /^railyard_transfers\{/m, 'no stale or invented transfer counts');
      assert.match(metrics.text, /railyard_http_request_duration_seconds_count\{[^}]*route="\/readyz"[^}]*\} 1/);
    });
  });

  describe('request IDs', () => {
    it('keeps a given X-Request-Id, echoes it, and puts it in the memo of the workflow the request started', async () => {
      const requestId = `req-obs-${Date.now()}`;
      const res = await call(stack.url, 'POST', '/v1/transfers', {
        key: client.apiKey,
        body: { amountMinor: 700, currency: 'USD', beneficiary: BENEFICIARY },
        headers: { 'x-request-id': requestId },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.headers.get('x-request-id'), requestId);
      const description = await stack.temporal.workflow.getHandle(workflowIdFor(res.body.id)).describe();
      assert.deepEqual(description.memo, { requestId });
    });

    it('issues its own ID when none or an unsafe one is given', async () => {
      const none = await call(stack.url, 'GET', '/healthz');
      assert.match(none.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
      const unsafe = await call(stack.url, 'GET', '/healthz', { headers: { 'x-request-id': 'a b\tc;drop' } });
      assert.match(unsafe.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });
  });
});
