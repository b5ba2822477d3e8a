/**
 * Payload encryption end to end on the Temporal dev server: what the server stores for a transfer
 * is ciphertext, Railyard's clients read it, and the codec server (the API's /codec routes, what
 * the Temporal UI and the CLI call) decodes it for the operator key only.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporal as proto } from '@temporalio/proto';
import { railTiming, workflowIdFor } from '../../core/transfer';
import { createApp } from '../../api/app';
import { createRatesSource } from '../../fx/rates';
import { PRICING } from '../support/fixtures';
import { ENCODING_ENCRYPTED, EncryptionCodec, parseCodecKeys } from '../../core/payload-codec';
import { findBinary } from '../../devtools/temporal';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient } from '../support/api-clients';
import { devServer, testDataConverter } from '../support/global';

const run = promisify(execFile);

type JsonPayload = { metadata: Record<string, string>; data: string };
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});
const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

describe('payload encryption and the codec server (dev server, API over HTTP)', () => {
  let stack: ApiStack;
  let workflowId: string;
  let clientId: string;
  let startInput: Payload;
  let signalInput: Payload;
  // Personal data this test puts into Temporal: none of it may be readable there.
  const suffix = randomBytes(3).toString('hex');
  const beneficiaryName = `Katherine J ${suffix}`;
  const accountNumber = '000555555550'; // the simulator holds this payment: the workflow stays open for the signal
  const operator = `grace.hopper.${suffix}`;
  const reason = `asked by the beneficiary ${suffix}`;

  const codecCall = (path: string, options: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> }) =>
    call(stack.url, 'POST', path, { ...options, idempotencyKey: null, headers: { 'x-namespace': 'default', ...options.headers } });

  before(async function () {
    this.timeout(120_000);
    stack = await apiStack();
    const client = await apiClient(stack, 'Encrypted Co', 10_000);
    clientId = client.id;
    const created = await call(stack.url, 'POST', '/v1/transfers', {
      key: client.key,
      body: { amountMinor: 1_000, currency: 'USD', beneficiary: { name: beneficiaryName, country: 'US', accountNumber, routingNumber: '110000000' } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    workflowId = workflowIdFor(created.body.id);
    const handle = stack.temporal.workflow.getHandle(workflowId);
    await until('the payout to reach the bank', async () => (await call(stack.url, 'GET', `/v1/transfers/${created.body.id}`, { key: client.key })).body.status, (s) => s === 'submitted');
    // An operator's signal: not allowed in this state, so refused and audited, but its arguments are in the history.
    await handle.signal('retry', { reason, operator });
    const history = await until(
      'the signal in the history',
      () => handle.fetchHistory(),
      (h) => (h.events ?? []).some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retry'),
    );
    startInput = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0] as Payload;
    // The operator's signal, not the ACH batch's file answer that also reaches the workflow.
    signalInput = history.events!.find((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'retry')!.workflowExecutionSignaledEventAttributes!.input!.payloads![0] as Payload;
  });

  after(async () => {
    await stack.temporal.workflow.getHandle(workflowId).terminate('codec test over').catch(() => undefined);
  });

  it('stores every payload of the history encrypted: a client without the codec sees no beneficiary or operator text', async () => {
    const raw = new Client({ connection: stack.temporal.connection, namespace: 'default' });
    const history = await raw.workflow.getHandle(workflowId).fetchHistory();
    const bytes = Buffer.from(proto.api.history.v1.History.encode(history).finish()).toString('latin1');
    for (const secret of [beneficiaryName, accountNumber, operator, reason, 'Katherine']) assert.ok(!bytes.includes(secret), `"${secret}" is readable in the stored history`);
    const encodings = new Map<string, number>();
    const visit = (value: unknown, path: string): void => {
      if (!value || typeof value !== 'object') return;
      const p = value as { metadata?: Record<string, Uint8Array>; data?: Uint8Array };
      // Search attributes are indexed by the server, the request-ID header is an opaque UUID, a
      // local activity's marker keeps the SDK's own record (sequence, activity type, times) beside
      // its encrypted result, and a patch marker names its patch (`patched()`, a constant of the
      // code): none of them passes a codec.
      const sdkRecord = /markerRecordedEventAttributes\.details\.(data|patch-data)\./.test(path);
      if (p.metadata?.encoding && !path.includes('searchAttributes') && !path.includes('header.fields.railyard-request-id') && !sdkRecord) {
        const encoding = text(p.metadata.encoding);
        encodings.set(encoding, (encodings.get(encoding) ?? 0) + 1);
      }
      for (const [k, v] of Object.entries(value)) if (!(v instanceof Uint8Array)) visit(v, `${path}.${k}`);
    };
    visit(history, '');
    assert.ok((encodings.get(ENCODING_ENCRYPTED) ?? 0) >= 5, `encrypted payloads: ${JSON.stringify([...encodings])}`);
    assert.deepEqual([...encodings.keys()], [ENCODING_ENCRYPTED], 'no payload but search attributes is stored in the clear');
    // The raw client cannot make sense of the memo either.
    await assert.rejects(raw.workflow.getHandle(workflowId).describe().then((d) => d.memo), /encoding|binary\/encrypted/i);
  });

  it('decodes with the codec to the real values: the transfer input, the operator signal, the memo', async () => {
    const [codec] = testDataConverter.payloadCodecs!;
    const [input, signal] = await codec.decode([startInput, signalInput]);
    const transfer = JSON.parse(text(input.data));
    assert.equal(transfer.clientId, clientId);
    assert.equal(transfer.amountMinor, 1_000);
    assert.deepEqual(JSON.parse(text(signal.data)), { reason, operator });
    // The workflow carries IDs, never the beneficiary: activities read it from the database, so even
    // decoded, no payload of the history holds the name or the account number.
    const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
    const all: Payload[] = [];
    const collect = (value: unknown, path: string): void => {
      if (!value || typeof value !== 'object') return;
      const p = value as Payload;
      if (p.metadata?.encoding && p.data && !path.includes('searchAttributes')) all.push(p);
      for (const [k, v] of Object.entries(value)) if (!(v instanceof Uint8Array)) collect(v, `${path}.${k}`);
    };
    collect(history, '');
    const decodedText = (await codec.decode(all)).map((p) => text(p.data)).join('\n');
    assert.ok(decodedText.includes(operator), 'the decoded history holds the operator signal');
    for (const secret of [beneficiaryName, accountNumber]) assert.ok(!decodedText.includes(secret), `"${secret}" travels through Temporal`);
    const described = await stack.temporal.workflow.getHandle(workflowId).describe();
    assert.match(String(described.memo?.requestId), /\S/);
  });

  it('the codec server decodes for the operator key, and encodes what decodes back', async () => {
    const decoded = await codecCall('/codec/decode', { key: stack.opsKey, body: { payloads: [toJson(startInput), toJson(signalInput)] } });
    assert.equal(decoded.status, 200, JSON.stringify(decoded.body));
    const [input, signal] = (decoded.body.payloads as JsonPayload[]).map(fromJson);
    assert.equal(text(input.metadata!.encoding), 'json/plain');
    assert.equal(JSON.parse(text(input.data)).clientId, clientId);
    assert.deepEqual(JSON.parse(text(signal.data)), { reason, operator });

    const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify({ reason: 'typed in the UI', operator: 'ada' })) };
    const encoded = await codecCall('/codec/encode', { key: stack.opsKey, body: { payloads: [toJson(plain)] } });
    assert.equal(encoded.status, 200);
    const [sealed] = (encoded.body.payloads as JsonPayload[]).map(fromJson);
    assert.equal(text(sealed.metadata!.encoding), ENCODING_ENCRYPTED);
    assert.ok(!text(sealed.data).includes('typed in the UI'));
    const [opened] = await testDataConverter.payloadCodecs![0].decode([sealed]);
    assert.equal(text(opened.data), text(plain.data));
    // A plain payload (the CLI's --input) comes back as it was.
    const passthrough = await codecCall('/codec/decode', { key: stack.opsKey, body: { payloads: [toJson(plain)] } });
    assert.deepEqual(passthrough.body.payloads, [toJson(plain)]);
  });

  it('refuses without the operator key: 401 with none or a wrong one, 403 for a client key', async () => {
    const client = await apiClient(stack, 'Curious Client', 0);
    const body = { payloads: [toJson(startInput)] };
    for (const path of ['/codec/decode', '/codec/encode']) {
      const none = await codecCall(path, { body });
      assert.equal(none.status, 401);
      assert.equal(none.body.error.code, 'unauthenticated');
      const wrong = await codecCall(path, { key: `ry_ops_${randomBytes(16).toString('hex')}`, body });
      assert.equal(wrong.status, 401);
      const asClient = await codecCall(path, { key: client.key, body });
      assert.equal(asClient.status, 403);
      assert.equal(asClient.body.error.code, 'forbidden');
      for (const reply of [none, wrong, asClient]) assert.ok(!JSON.stringify(reply.body).includes(clientId), 'nothing decoded leaks into a refusal');
    }
  });

  it('rejects malformed bodies with 400 naming what is wrong, and a payload from an unknown key with its ID', async () => {
    const bad: [unknown, string][] = [
      [{ payloads: 'x' }, 'payloads'],
      [{ payloads: [1] }, 'payloads.0'],
      [{ payloads: [{ data: 'not base64!' }] }, 'payloads.0.data'],
      [{ payloads: [{ metadata: { encoding: 42 }, data: '' }] }, 'payloads.0.metadata.encoding'],
      [[toJson(startInput)], 'body'],
    ];
    for (const [body, param] of bad) {
      const reply = await codecCall('/codec/decode', { key: stack.opsKey, body });
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(reply.body.error.param, param, JSON.stringify(reply.body));
    }
    const notJson = await codecCall('/codec/decode', { key: stack.opsKey, rawBody: '{"payloads": [' });
    assert.equal(notJson.status, 400);
    const stranger = new EncryptionCodec(parseCodecKeys(`retired-1:${randomBytes(32).toString('base64')}`));
    const [foreign] = await stranger.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') }]);
    const unknownKey = await codecCall('/codec/decode', { key: stack.opsKey, body: { payloads: [toJson(foreign)] } });
    assert.equal(unknownKey.status, 400);
    assert.equal(unknownKey.body.error.param, 'payloads');
    assert.match(unknownKey.body.error.message, /key "retired-1", which is not in PAYLOAD_CODEC_KEYS/);
  });

  it('answers the Temporal UI origin with credentialed CORS, preflight included, and no other origin', async () => {
    const preflight = await fetch(`${stack.url}/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:8233', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://127.0.0.1:8233');
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const decoded = await codecCall('/codec/decode', { key: stack.opsKey, body: { payloads: [] }, headers: { origin: 'http://localhost:8233' } });
    assert.equal(decoded.status, 200);
    assert.equal(decoded.headers.get('access-control-allow-origin'), 'http://localhost:8233');
    const elsewhere = await fetch(`${stack.url}/codec/decode`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(elsewhere.headers.get('access-control-allow-origin'), null);
  });

  it('lets the local Temporal UI decode without the key only where CODEC_LOCAL_UI_DECODE allows it, and never encode', async () => {
    const ui = { origin: 'http://127.0.0.1:8233' };
    const body = { payloads: [toJson(startInput)] };
    // The shared stack runs without it: the UI's origin alone is not a key.
    assert.equal((await codecCall('/codec/decode', { body, headers: ui })).status, 401);

    const deps = { orm: stack.orm, opsApiKey: stack.opsKey, taskQueue: 'unused', timing: railTiming('demo'), rates: createRatesSource(), pricing: PRICING, rateLimit: { ratePerSecond: 100, burst: 100 }, codecCorsOrigins: ['http://127.0.0.1:8233'] };
    const app = createApp({ ...deps, temporal: stack.temporal, codecLocalUiDecode: true });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      const local = (path: string, headers: Record<string, string>) => call(url, 'POST', path, { body, idempotencyKey: null, headers: { 'x-namespace': 'default', ...headers } });
      const decoded = await local('/codec/decode', ui);
      assert.equal(decoded.status, 200);
      assert.notEqual(decoded.body.payloads[0].metadata.encoding, Buffer.from('binary/encrypted').toString('base64'), 'decoded, not passed through');
      assert.equal((await local('/codec/decode', {})).status, 401, 'no origin: the key is needed');
      assert.equal((await local('/codec/decode', { origin: 'http://evil.example' })).status, 401, 'another origin: the key is needed');
      assert.equal((await local('/codec/encode', ui)).status, 401, 'encoding always needs the key');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('will not build the API on a Temporal client without the codec (a wiring mistake, caught at start)', () => {
    const plain = new Client({ connection: stack.temporal.connection, namespace: 'default' });
    const deps = { orm: stack.orm, opsApiKey: stack.opsKey, taskQueue: 'unused', timing: railTiming('demo'), rates: createRatesSource(), pricing: PRICING, rateLimit: { ratePerSecond: 1, burst: 1 }, codecCorsOrigins: [] };
    assert.throws(() => createApp({ ...deps, temporal: plain }), /the Temporal client has no payload codec/);
    assert.doesNotThrow(() => createApp({ ...deps, temporal: stack.temporal }));
  });

  it('serves the Temporal CLI as a remote codec: `temporal workflow show --codec-endpoint` shows the decoded history', async function () {
    this.timeout(60_000);
    const temporalCli = findBinary('temporal');
    assert.ok(temporalCli, 'the temporal CLI is installed by scripts/bootstrap-tools.sh');
    const dev = await devServer();
    const show = (extra: string[]) => run(temporalCli, ['workflow', 'show', '--workflow-id', workflowId, '--address', dev.address, '--namespace', 'default', '--detailed', ...extra], { encoding: 'utf8' });
    const without = await show([]);
    for (const secret of [operator, reason, clientId]) assert.ok(!without.stdout.includes(secret), `without the codec the CLI shows ciphertext, not "${secret}"`);
    const withCodec = await show(['--codec-endpoint', `${stack.url}/codec`, '--codec-auth', `Bearer ${stack.opsKey}`]);
    for (const secret of [operator, reason, clientId]) assert.ok(withCodec.stdout.includes(secret), `"${secret}", decoded by the codec server`);
    // With a wrong key every decode is refused; the CLI retries until its deadline, then gives up, having shown nothing.
    const refused = await show(['--codec-endpoint', `${stack.url}/codec`, '--codec-auth', 'Bearer wrong-key-0123456789']).then(
      () => undefined,
      (err: Error & { stdout?: string }) => err,
    );
    assert.ok(refused, 'the CLI fails without a valid key');
    assert.ok(!(refused.stdout ?? '').includes(operator));
  });
});
