/**
 * The OpenAPI document is the contract: it is valid OpenAPI 3.1, it names every route the app
 * serves, live answers of every route match its response schemas, requests it refuses the API
 * refuses, and /docs renders it in a real (headless) Chromium from local files.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Validator } from '@seriousme/openapi-schema-validator';
import { chromium } from 'playwright-core';
import { createApp } from '../../api/app';
import { railTiming, TASK_QUEUE_TRANSFERS, TRANSFER_STATUSES } from '../../core/transfer';
import { createRatesSource } from '../../fx/rates';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, until, type ApiStack, type Reply } from '../support/api-stack';
import { assertReplyDocumented } from '../support/openapi-check';
import { CODEC_PATHS } from '../../api/routes-codec';

type Doc = {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema: { enum?: string[] } }[]; requestBody?: { content: Record<string, { schema: object }> }; responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
  components: object;
};

/**
 * Routes that are not part of the JSON API and so are not in the document: the document itself,
 * its viewer, metrics, and the codec server (Temporal's remote codec protocol, api/routes-codec.ts).
 */
const UNDOCUMENTED = new Set([
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/init.js',
  'GET /metrics',
  ...CODEC_PATHS.flatMap((p) => [`POST ${p}`, `OPTIONS ${p}`]),
]);

const CHROMIUM = '/usr/bin/chromium';

describe('API: OpenAPI document and /docs', () => {
  let stack: ApiStack;
  let doc: Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);

  before(async () => {
    stack = await apiStack();
    const res = await fetch(`${stack.url}/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Doc;
  });

  /**
   * The answer's route is the one the test meant, and it lists the status; the body itself was
   * checked against the document by call() (test/support/openapi-check.ts), as in every suite.
   */
  function assertMatchesDocument(method: string, template: string, reply: Reply): void {
    const path = template.replace(/:(\w+)/g, '{$1}');
    const operation = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${path} is not in the document`);
    assert.ok(operation.responses[String(reply.status)], `${method} ${path} answered ${reply.status}, which the document does not list (it lists ${Object.keys(operation.responses).join(', ')})`);
  }

  it('is a valid OpenAPI 3.1 document titled Railyard API', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    assert.equal(validator.version, '3.1');
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(doc.info.title, 'Railyard API');
  });

  it('documents every route the app serves, and no route it does not serve', () => {
    const app = createApp({
      orm: stack.orm,
      temporal: stack.temporal,
      opsApiKey: stack.opsKey,
      taskQueue: TASK_QUEUE_TRANSFERS,
      timing: railTiming('demo'),
      rates: createRatesSource(),
      pricing: { quoteTtlMs: 60_000, spreadBps: 30, feeBps: 25 },
      rateLimit: { ratePerSecond: 1, burst: 1 },
      codecCorsOrigins: [],
    });
    const served = new Set<string>();
    // Routes registered on the app and in the routers it mounts at the root (ops, webhooks, reconciliation).
    type Layer = { route?: { path: string; methods: Record<string, boolean> }; handle?: { stack?: Layer[] } };
    const collect = (stack: Layer[]): void => {
      for (const layer of stack) {
        if (layer.route) for (const method of Object.keys(layer.route.methods)) served.add(`${method.toUpperCase()} ${layer.route.path}`);
        else if (layer.handle?.stack) collect(layer.handle.stack);
      }
    };
    collect((app as unknown as { router: { stack: Layer[] } }).router.stack);
    const documented = new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)));
    const undocumented = [...served].filter((r) => !documented.has(r) && !UNDOCUMENTED.has(r));
    const phantom = [...documented].filter((r) => !served.has(r));
    assert.deepEqual(undocumented, [], 'routes served but not documented: add a documentRoute() call next to each');
    assert.deepEqual(phantom, [], 'routes documented but not served');
  });

  it('answers every documented route with bodies that match the document, errors included', async () => {
    const exercised = new Set<string>();
    const check = async (method: string, template: string, path: string, options: Parameters<typeof call>[3] = {}, expectStatus?: number) => {
      const reply = await call(stack.url, method, path, options);
      if (expectStatus !== undefined) assert.equal(reply.status, expectStatus, `${method} ${path}: ${JSON.stringify(reply.body)}`);
      assertMatchesDocument(method, template, reply);
      if (reply.status < 300) exercised.add(`${method} ${template}`);
      return reply;
    };
    const ops = { key: stack.opsKey };

    await check('GET', '/healthz', '/healthz', {}, 200);
    await check('GET', '/readyz', '/readyz', {}, 200);

    const client = (await check('POST', '/v1/ops/clients', '/v1/ops/clients', { ...ops, body: { name: 'Documented Co' } }, 201)).body;
    await check('POST', '/v1/ops/clients', '/v1/ops/clients', { ...ops, body: {} }, 400);
    await check('POST', '/v1/ops/clients', '/v1/ops/clients', { key: client.apiKey, body: { name: 'x' } }, 403);
    await check('POST', '/v1/ops/clients/:id/deposits', `/v1/ops/clients/${client.id}/deposits`, { ...ops, body: { currency: 'USD', amountMinor: 500_000, reference: 'doc-seed' } }, 201);
    await check('POST', '/v1/ops/clients/:id/deposits', '/v1/ops/clients/cl_00000000000000000000000000/deposits', { ...ops, body: { currency: 'USD', amountMinor: 1, reference: 'x' } }, 404);

    const issued = (await check('POST', '/v1/ops/clients/:id/keys', `/v1/ops/clients/${client.id}/keys`, ops, 201)).body;
    await check('POST', '/v1/ops/clients/:id/keys', '/v1/ops/clients/cl_00000000000000000000000000/keys', ops, 404);
    await check('GET', '/v1/ops/clients/:id/keys', `/v1/ops/clients/${client.id}/keys?limit=1`, ops, 200);
    await check('GET', '/v1/ops/clients/:id/keys', `/v1/ops/clients/${client.id}/keys?limit=0`, ops, 400);
    await check('DELETE', '/v1/ops/clients/:id/keys/:keyId', `/v1/ops/clients/${client.id}/keys/${issued.id}`, ops, 200);
    await check('DELETE', '/v1/ops/clients/:id/keys/:keyId', `/v1/ops/clients/${client.id}/keys/key_00000000000000000000000000`, ops, 404);

    const key = { key: client.apiKey };
    await check('GET', '/v1/balances', '/v1/balances', key, 200);
    await check('GET', '/v1/balances', '/v1/balances', { key: 'ry_client_unknown' }, 401);
    await check('POST', '/v1/fx/quotes', '/v1/fx/quotes', { ...key, body: { sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 10_000 } }, 201);
    await check('POST', '/v1/fx/quotes', '/v1/fx/quotes', { ...key, body: { sourceCurrency: 'USD', targetCurrency: 'USD', sourceAmountMinor: 10_000 } }, 400);

    const idem = randomUUID();
    const transfer = (await check('POST', '/v1/transfers', '/v1/transfers', { ...key, body: { amountMinor: 1_234, currency: 'USD', beneficiary: BENEFICIARY, metadata: { order: '42' } }, idempotencyKey: idem }, 201)).body;
    await check('POST', '/v1/transfers', '/v1/transfers', { ...key, body: { amountMinor: 1_235, currency: 'USD', beneficiary: BENEFICIARY }, idempotencyKey: idem }, 422);
    await check('POST', '/v1/transfers', '/v1/transfers', { ...key, body: { amountMinor: 10_000_000, currency: 'USD', beneficiary: BENEFICIARY } }, 402);
    await check('POST', '/v1/transfers', '/v1/transfers', { ...key, rawBody: '{"amountMinor":' }, 400);
    await check('POST', '/v1/transfers', '/v1/transfers', { ...key, rawBody: JSON.stringify({ reference: 'x'.repeat(200_000) }) }, 413);
    await check('GET', '/v1/transfers/:id', `/v1/transfers/${transfer.id}`, key, 200);
    await check('GET', '/v1/transfers/:id', '/v1/transfers/tr_00000000000000000000000000', key, 404);
    await check('GET', '/v1/transfers', '/v1/transfers?limit=5&status=funds_held', key, 200);
    await check('GET', '/v1/transfers', '/v1/transfers', key, 200);
    await check('GET', '/v1/transfers', '/v1/transfers?status=lost', key, 400);

    const endpoint = (await check('POST', '/v1/webhook_endpoints', '/v1/webhook_endpoints', { ...key, body: { url: 'https://hooks.example.com/railyard', events: ['transfer.updated'] } }, 201)).body;
    await check('POST', '/v1/webhook_endpoints', '/v1/webhook_endpoints', { ...key, body: { url: 'not a url', events: ['transfer.updated'] } }, 400);
    await check('GET', '/v1/webhook_endpoints', '/v1/webhook_endpoints?limit=1', key, 200);
    await check('POST', '/v1/webhook_endpoints/:id/rotate_secret', `/v1/webhook_endpoints/${endpoint.id}/rotate_secret`, key, 200);
    await check('POST', '/v1/webhook_endpoints/:id/rotate_secret', '/v1/webhook_endpoints/we_00000000000000000000000000/rotate_secret', key, 404);
    await check('GET', '/v1/webhook_endpoints/:id/deliveries', `/v1/webhook_endpoints/${endpoint.id}/deliveries?status=pending`, key, 200);
    await check('GET', '/v1/webhook_endpoints/:id/deliveries', '/v1/webhook_endpoints/we_00000000000000000000000000/deliveries', key, 404);
    await check('GET', '/v1/webhook_endpoints/:id/deliveries', `/v1/webhook_endpoints/${endpoint.id}/deliveries?status=lost`, key, 400);
    // The endpoint subscribed after the first transfer's events: a new transfer gives it deliveries to retry.
    await check('POST', '/v1/transfers', '/v1/transfers', { ...key, body: { amountMinor: 1_000, currency: 'USD', beneficiary: BENEFICIARY } }, 201);
    const owed = await until('a delivery', async () => (await call(stack.url, 'GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries`, key)).body.data, (d: { id: string }[]) => d.length > 0);
    await check('POST', '/v1/webhook_endpoints/:id/deliveries/:deliveryId/retry', `/v1/webhook_endpoints/${endpoint.id}/deliveries/${owed[0].id}/retry`, key, 200);
    await check('POST', '/v1/webhook_endpoints/:id/deliveries/:deliveryId/retry', `/v1/webhook_endpoints/${endpoint.id}/deliveries/whdl_00000000000000000000000000/retry`, key, 404);
    await check('GET', '/v1/events', '/v1/events?type=transfer.updated&limit=2', key, 200);
    await check('GET', '/v1/events', '/v1/events?type=nope', key, 400);
    await check('DELETE', '/v1/webhook_endpoints/:id', `/v1/webhook_endpoints/${endpoint.id}`, key, 200);
    await check('DELETE', '/v1/webhook_endpoints/:id', `/v1/webhook_endpoints/${endpoint.id}`, key, 404);
    await check('GET', '/v1/ops/reconciliation/breaks', '/v1/ops/reconciliation/breaks?status=open', ops, 200);
    await check('GET', '/v1/ops/reconciliation/breaks', '/v1/ops/reconciliation/breaks?status=lost', ops, 400);
    await check('GET', '/v1/ops/reconciliation/breaks', '/v1/ops/reconciliation/breaks', key, 403);

    await check('GET', '/v1/ops/transfers', '/v1/ops/transfers?status=funds_held&limit=5', ops, 200);
    await check('GET', '/v1/ops/transfers', '/v1/ops/transfers?status=lost', ops, 400);
    await check('GET', '/v1/ops/audit', `/v1/ops/audit?transferId=${transfer.id}`, ops, 200);
    await check('POST', '/v1/ops/transfers/:id/retry', `/v1/ops/transfers/${transfer.id}/retry`, { ...ops, body: { reason: 'look again', operator: 'alice' } }, 400);
    await check('POST', '/v1/ops/transfers/:id/cancel', '/v1/ops/transfers/tr_00000000000000000000000000/cancel', { ...ops, body: { reason: 'x' } }, 404);
    await check('POST', '/v1/transfers/:id/cancel', '/v1/transfers/tr_00000000000000000000000000/cancel', key, 404);
    await check('POST', '/v1/ops/transfers/:id/return-decision', `/v1/ops/transfers/${transfer.id}/return-decision`, { ...ops, body: { decision: 'maybe', reason: 'x' } }, 400);
    await check('POST', '/v1/ops/transfers/:id/return-decision', '/v1/ops/transfers/tr_00000000000000000000000000/return-decision', { ...ops, body: { decision: 'dishonor', reason: 'x' } }, 404);

    // Operators, client settings, approvals (four eyes).
    const viewer = await check('POST', '/v1/ops/operators', '/v1/ops/operators', { ...ops, body: { name: `openapi-viewer-${transfer.id}`, role: 'viewer' } }, 201);
    await check('POST', '/v1/ops/operators', '/v1/ops/operators', { ...ops, body: { name: 'client:cl_x', role: 'viewer' } }, 400);
    await check('GET', '/v1/ops/operators', '/v1/ops/operators?limit=2', ops, 200);
    await check('GET', '/v1/ops/operators', '/v1/ops/operators', { key: viewer.body.apiKey }, 403);
    await check('GET', '/v1/ops/approvals', '/v1/ops/approvals?status=pending', { key: viewer.body.apiKey }, 200);
    await check('GET', '/v1/ops/approvals', '/v1/ops/approvals?status=maybe', ops, 400);
    await check('DELETE', '/v1/ops/operators/:id', `/v1/ops/operators/${viewer.body.id}`, ops, 200);
    await check('DELETE', '/v1/ops/operators/:id', '/v1/ops/operators/op_00000000000000000000000000', ops, 404);
    const settled = await check('POST', '/v1/ops/clients', '/v1/ops/clients', { ...ops, body: { name: 'Thresholds' } }, 201);
    await check('PATCH', '/v1/ops/clients/:id', `/v1/ops/clients/${settled.body.id}`, { ...ops, body: { approvalThresholdMinor: { USD: 5_000_000, EUR: null } } }, 200);
    await check('PATCH', '/v1/ops/clients/:id', `/v1/ops/clients/${settled.body.id}`, { ...ops, body: { approvalThresholdMinor: { XYZ: 1 } } }, 400);
    await check('PATCH', '/v1/ops/clients/:id', '/v1/ops/clients/cl_00000000000000000000000000', { ...ops, body: { approvalThresholdMinor: {} } }, 404);
    await check('POST', '/v1/ops/approvals/:id/approve', '/v1/ops/approvals/apr_00000000000000000000000000/approve', { ...ops, body: { reason: 'x' } }, 404);
    await check('POST', '/v1/ops/approvals/:id/deny', '/v1/ops/approvals/apr_00000000000000000000000000/deny', { ...ops, body: { reason: '' } }, 400);
    await check('POST', '/v1/ops/reconciliation/breaks/:id/resolve', '/v1/ops/reconciliation/breaks/brk_00000000000000000000000000/resolve', { ...ops, body: { resolution: 'accept', reason: 'x' } }, 404);
    await check('POST', '/v1/ops/reconciliation/breaks/:id/resolve', '/v1/ops/reconciliation/breaks/brk_00000000000000000000000000/resolve', { ...ops, body: { resolution: 'ignore', reason: 'x' } }, 400);
    // Their successes need a transfer parked, not yet submitted, or waiting on a late return (weeks
    // of workflow time): test/api/ops.test.ts drives those on the time-skipping server through the
    // same call(), which checks every answer against this document.
    for (const op of ['POST /v1/ops/transfers/:id/retry', 'POST /v1/ops/transfers/:id/cancel', 'POST /v1/transfers/:id/cancel', 'POST /v1/ops/transfers/:id/return-decision']) exercised.add(op);
    // Deciding an approval and resolving a break need a second operator and a break: test/api/operators.test.ts drives them through the same call().
    for (const op of ['POST /v1/ops/approvals/:id/approve', 'POST /v1/ops/approvals/:id/deny', 'POST /v1/ops/reconciliation/breaks/:id/resolve']) exercised.add(op);

    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    const missed = documented.filter((op) => !exercised.has(op));
    assert.deepEqual(missed, [], 'documented routes this test never saw succeed: add a call for each above');
  });

  it("refuses, in every suite's calls, an answer the document does not describe", async () => {
    const balances = { object: 'list', data: [{ currency: 'USD', availableMinor: 100, heldMinor: 0 }], hasMore: false };
    await assertReplyDocumented(stack.url, 'GET', '/v1/balances', 200, balances);
    await assert.rejects(assertReplyDocumented(stack.url, 'GET', '/v1/balances', 200, { ...balances, data: [{ currency: 'USD', availableMinor: 1.5, heldMinor: 0 }] }), /availableMinor|must be integer/);
    await assert.rejects(assertReplyDocumented(stack.url, 'GET', '/v1/balances', 200, { ...balances, secret: 'x' }), /additional properties/);
    await assert.rejects(assertReplyDocumented(stack.url, 'GET', '/v1/transfers/tr_x', 418, {}), /answered 418, which \/openapi\.json does not list/);
    await assert.rejects(assertReplyDocumented(stack.url, 'GET', '/v1/transfers?limit=1', 400, { error: { code: 'invalid_request' } }), /does not match/);
    await assert.rejects(assertReplyDocumented(stack.url, 'GET', '/v1/undocumented', 200, {}), /not in \/openapi\.json: add a documentRoute\(\) call/);
    await assertReplyDocumented(stack.url, 'GET', '/v1/undocumented', 404, { error: { type: 'invalid_request_error', code: 'not_found', message: 'no such route' } });
  });

  it('is the validation: a body the document refuses, the API refuses with 400 and the param; one it accepts, the API takes', async () => {
    const schema = doc.paths['/v1/transfers'].post.requestBody!.content['application/json'].schema;
    const validate = ajv.compile({ ...schema, components: doc.components });
    const client = (await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Validated Co' } })).body;
    await call(stack.url, 'POST', `/v1/ops/clients/${client.id}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor: 10_000, reference: 'seed' } });

    const refused: [Record<string, unknown>, string][] = [
      [{ amountMinor: 1.5, currency: 'USD', beneficiary: BENEFICIARY }, 'amountMinor'],
      [{ amountMinor: 0, currency: 'USD', beneficiary: BENEFICIARY }, 'amountMinor'],
      [{ currency: 'USD', beneficiary: BENEFICIARY }, 'amountMinor'],
      [{ amountMinor: 100, currency: 'USD', beneficiary: BENEFICIARY, rail: 'carrier_pigeon' }, 'rail'],
      [{ amountMinor: 100, currency: 'USD', beneficiary: BENEFICIARY, tip: 5 }, 'tip'],
      [{ amountMinor: 100, currency: 'USD', beneficiary: { ...BENEFICIARY, routingNumber: '12' } }, 'beneficiary.routingNumber'],
    ];
    for (const [body, param] of refused) {
      assert.equal(validate(body), false, `the document refuses ${JSON.stringify(body)}`);
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.apiKey, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.param, param);
    }
    const accepted = { amountMinor: 100, currency: 'USD', beneficiary: BENEFICIARY };
    assert.equal(validate(accepted), true, ajv.errorsText(validate.errors));
    assert.equal((await call(stack.url, 'POST', '/v1/transfers', { key: client.apiKey, body: accepted })).status, 201);

    const statusParam = doc.paths['/v1/transfers'].get.parameters!.find((p) => p.name === 'status')!;
    assert.deepEqual(statusParam.schema.enum, [...TRANSFER_STATUSES]);
  });

  it('renders /docs in headless Chromium from local files: the title and POST /v1/transfers, with no blocked resource', async function () {
    this.timeout(60_000);
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); CI installs it`);
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('response', (res) => {
        if (res.status() >= 400) problems.push(`${res.status()} ${res.url()}`);
      });
      const foreign: string[] = [];
      page.on('request', (req) => {
        if (!req.url().startsWith(stack.url) && !req.url().startsWith('data:')) foreign.push(req.url());
      });
      await page.goto(`${stack.url}/docs`, { waitUntil: 'load' });
      await page.locator('.info .title', { hasText: 'Railyard API' }).waitFor({ timeout: 20_000 });
      const operation = page.locator('.opblock-post .opblock-summary-path[data-path="/v1/transfers"]');
      await operation.waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('.opblock-post .opblock-summary-method').first().textContent(), 'POST');
      assert.ok((await page.locator('.opblock').count()) >= 10, 'every operation is listed');
      assert.deepEqual(foreign, [], 'the docs load nothing from outside the API');
      assert.deepEqual(problems, [], 'no console errors (a Content-Security-Policy block would show here)');
    } finally {
      await browser.close();
    }
  });
});
