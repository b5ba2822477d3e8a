/**
 * The first vertical slice over real HTTP: ops create and fund a client, the client pays out over
 * ACH, and the transfer completes through the worker, the Temporal dev server and the bank
 * simulator, with MariaDB underneath. Bad input is refused with the SPEC's errors and leaves
 * nothing written.
 */
import assert from 'node:assert/strict';
import { Deposit, Posting, Transfer } from '../../db/schema';
import { workflowIdFor } from '../../core/transfer';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';


describe('API: payout slice over HTTP (MariaDB, Temporal dev server, bank simulator)', () => {
  let stack: ApiStack;
  let clientKey: string;
  let clientId: string;

  before(async () => {
    stack = await apiStack();
    const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Acme Payouts' } });
    assert.equal(created.status, 201);
    clientKey = created.body.apiKey;
    clientId = created.body.id;
    const funded = await call(stack.url, 'POST', `/v1/ops/clients/${clientId}/deposits`, {
      key: stack.opsKey,
      body: { currency: 'USD', amountMinor: 100_000, reference: 'wire-0001' },
    });
    assert.equal(funded.status, 201, JSON.stringify(funded.body));
  });

  const transferBody = (overrides: Record<string, unknown> = {}) => ({ amountMinor: 12_345, currency: 'USD', beneficiary: BENEFICIARY, reference: 'invoice 42', ...overrides });

  it('creates a client whose key is shown once and works, and an ops key that clients cannot use', async () => {
    assert.match(clientKey, /^ry_client_/);
    assert.match(clientId, /^cl_[0-9a-z]{26}$/);
    const balances = await call(stack.url, 'GET', '/v1/balances', { key: clientKey });
    assert.equal(balances.status, 200);
    assert.deepEqual(balances.body.data, [{ currency: 'USD', availableMinor: 100_000, heldMinor: 0 }]);
    assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: stack.opsKey })).status, 403);
    assert.equal((await call(stack.url, 'POST', '/v1/ops/clients', { key: clientKey, body: { name: 'x' } })).status, 403);
    const unauth = await call(stack.url, 'GET', '/v1/balances', { key: 'ry_client_nope' });
    assert.equal(unauth.status, 401);
    assert.equal(unauth.body.error.type, 'authentication_error');
  });

  it('pays out end to end: 201 once funds are held, then completed in the API and in Temporal', async () => {
    const created = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody() });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const transfer = created.body;
    assert.match(transfer.id, /^tr_/);
    assert.ok(['funds_held', 'submitted', 'settled', 'completed'].includes(transfer.status), transfer.status);
    assert.equal(transfer.workflowId, workflowIdFor(transfer.id));
    assert.equal(transfer.rail, 'ach');
    assert.equal(transfer.beneficiary.accountNumber, '********6789', 'account number is masked');

    const done = await until('completion', async () => (await call(stack.url, 'GET', `/v1/transfers/${transfer.id}`, { key: clientKey })).body, (t) => t.status === 'completed' || t.status === 'failed');
    assert.equal(done.status, 'completed');
    // The entry waits in its ACH window (status unchanged, the event names the window) until its file is accepted.
    assert.deepEqual(done.events.map((e: { status: string }) => e.status), ['created', 'funds_held', 'funds_held', 'submitted', 'settled', 'completed']);
    assert.match(done.events[2].reason, /^queued for the .* window \(ach-demo-\d+\), trace 12345678\d{7}$/);
    assert.match(done.events[3].reason, /^in file ach-demo-\d+-\w of the .* window, accepted by the bank, trace 12345678\d{7}$/);
    assert.equal(done.attempts.length, 1);
    assert.match(done.attempts[0].railReference, /^12345678\d{7}$/);
    assert.equal(done.attempts[0].status, 'settled');

    const balances = await call(stack.url, 'GET', '/v1/balances', { key: clientKey });
    assert.deepEqual(balances.body.data, [{ currency: 'USD', availableMinor: 100_000 - 12_345, heldMinor: 0 }]);

    const submissions = await fetch(`${stack.bank.url}/sim/submissions?reference=${done.attempts[0].railReference}`).then((r) => r.json() as Promise<any>);
    assert.equal(submissions.data.length, 1);
    assert.equal(submissions.duplicateCount, 0);

    const listed = await until(
      'the TransferStatus search attribute',
      async () => {
        const ids: string[] = [];
        for await (const wf of stack.temporal.workflow.list({ query: `TransferStatus="completed" AND TransferClientId="${clientId}"` })) ids.push(wf.workflowId);
        return ids;
      },
      (ids) => ids.includes(transfer.workflowId),
    );
    assert.deepEqual(listed, [transfer.workflowId]);
    const description = await stack.temporal.workflow.getHandle(transfer.workflowId).describe();
    assert.equal(description.searchAttributes.TransferAmountMinor?.[0], 12_345);
    assert.equal(description.searchAttributes.TransferRail?.[0], 'ach');
  });

  it('fails the transfer with the bank code when the bank rejects it, and releases the hold', async () => {
    await fetch(`${stack.bank.url}/sim/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ match: { accountNumber: '55501234' }, behavior: 'reject', code: 'R02', times: 1 }),
    });
    const before = (await call(stack.url, 'GET', '/v1/balances', { key: clientKey })).body.data[0];
    const created = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody({ amountMinor: 500, beneficiary: { ...BENEFICIARY, accountNumber: '55501234' } }) });
    assert.equal(created.status, 201);
    const done = await until('failure', async () => (await call(stack.url, 'GET', `/v1/transfers/${created.body.id}`, { key: clientKey })).body, (t) => t.status === 'failed' || t.status === 'completed');
    assert.equal(done.status, 'failed');
    assert.equal(done.failure.code, 'R02');
    assert.equal(done.attempts[0].status, 'rejected');
    const after = (await call(stack.url, 'GET', '/v1/balances', { key: clientKey })).body.data[0];
    assert.deepEqual(after, before);
  });

  it('replays the first response for a repeated Idempotency-Key and refuses a changed body', async () => {
    const key = `idem-${Date.now()}`;
    const first = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody({ amountMinor: 100 }), idempotencyKey: key });
    const second = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody({ amountMinor: 100 }), idempotencyKey: key });
    assert.equal(first.status, 201);
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.body.id, first.body.id);
    const changed = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody({ amountMinor: 101 }), idempotencyKey: key });
    assert.equal(changed.status, 422);
    assert.equal(changed.body.error.code, 'idempotency_key_reused');
  });

  it('lists transfers newest first, each with its events and attempts, a page at a time', async () => {
    const first = await call(stack.url, 'GET', '/v1/transfers?limit=2', { key: clientKey });
    assert.equal(first.status, 200);
    assert.equal(first.body.data.length, 2);
    assert.equal(first.body.hasMore, true);
    assert.ok(first.body.data[0].id > first.body.data[1].id, 'newest first');
    for (const t of first.body.data) {
      assert.ok(t.events.length >= 2, `${t.id} lists its events`);
      assert.equal(t.events[0].status, 'created');
    }
    const next = await call(stack.url, 'GET', `/v1/transfers?limit=2&startingAfter=${first.body.data[1].id}`, { key: clientKey });
    assert.ok(next.body.data.every((t: { id: string }) => t.id < first.body.data[1].id));
  });

  it("hides another client's transfer behind a 404", async () => {
    const other = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Other' } });
    const mine = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody({ amountMinor: 200 }) });
    const peek = await call(stack.url, 'GET', `/v1/transfers/${mine.body.id}`, { key: other.body.apiKey });
    assert.equal(peek.status, 404);
    assert.equal(peek.body.error.code, 'not_found');
  });

  describe('bad input: a clear error and nothing written', () => {
    before(async () => {
      // Let the transfers above finish so that their postings do not land during the counts below.
      await until('earlier transfers to end', () => stack.orm.em.fork().count(Transfer, { clientId, status: { $nin: ['completed', 'failed'] } }), (n) => n === 0);
    });

    async function counts() {
      const em = stack.orm.em.fork();
      let workflows = 0;
      for await (const _ of stack.temporal.workflow.list({ query: `TransferClientId="${clientId}"` })) workflows++;
      return { transfers: await em.count(Transfer, { clientId }), postings: await em.count(Posting, {}), deposits: await em.count(Deposit, {}), workflows };
    }

    const cases: [string, { body?: unknown; rawBody?: string }, number, string, string | undefined][] = [
      ['malformed JSON', { rawBody: '{"amountMinor": 1,' }, 400, 'invalid_request', 'body'],
      ['a JSON array', { rawBody: '[1]' }, 400, 'invalid_request', 'body'],
      ['a missing amountMinor', { body: { currency: 'USD', beneficiary: BENEFICIARY } }, 400, 'invalid_request', 'amountMinor'],
      ['a missing beneficiary', { body: { amountMinor: 100, currency: 'USD' } }, 400, 'invalid_request', 'beneficiary'],
      ['a zero amount', { body: transferBody({ amountMinor: 0 }) }, 400, 'invalid_request', 'amountMinor'],
      ['a negative amount', { body: transferBody({ amountMinor: -5 }) }, 400, 'invalid_request', 'amountMinor'],
      ['a fractional amount', { body: transferBody({ amountMinor: 10.5 }) }, 400, 'invalid_request', 'amountMinor'],
      ['an unsafe-integer amount', { body: transferBody({ amountMinor: 2 ** 53 }) }, 400, 'invalid_request', 'amountMinor'],
      ['an amount as a string', { body: transferBody({ amountMinor: '100' }) }, 400, 'invalid_request', 'amountMinor'],
      ['an unknown currency', { body: transferBody({ currency: 'XYZ' }) }, 400, 'invalid_request', 'currency'],
      ['a lower-case currency', { body: transferBody({ currency: 'usd' }) }, 400, 'invalid_request', 'currency'],
      ['a currency no rail carries', { body: transferBody({ currency: 'EUR' }) }, 400, 'invalid_request', 'currency'],
      ['a routing number failing the checksum', { body: transferBody({ beneficiary: { ...BENEFICIARY, routingNumber: '110000001' } }) }, 400, 'invalid_request', 'beneficiary.routingNumber'],
      ['an unknown field', { body: transferBody({ colour: 'red' }) }, 400, 'invalid_request', 'colour'],
      ['an ACH amount beyond the NACHA amount field (10 digits)', { body: transferBody({ amountMinor: 10_000_000_000 }) }, 400, 'invalid_request', 'amountMinor'],
      ['an ACH amount beyond the NACHA amount field, ach named', { body: transferBody({ amountMinor: 10_000_000_000, rail: 'ach' }) }, 400, 'invalid_request', 'amountMinor'],
      ['more than the balance', { body: transferBody({ amountMinor: 10_000_000 }) }, 402, 'insufficient_funds', 'amountMinor'],
    ];

    for (const [name, request, status, code, param] of cases) {
      it(`refuses ${name} with ${status} ${code}${param ? ` (param ${param})` : ''}`, async () => {
        const before = await counts();
        const res = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, ...request });
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.error.code, code);
        assert.equal(res.body.error.param, param);
        assert.equal(typeof res.body.error.message, 'string');
        assert.deepEqual(await counts(), before);
      });
    }

    it('refuses a transfer from a client with no balance at all with 402', async () => {
      const fresh = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Unfunded' } });
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: fresh.body.apiKey, body: transferBody({ amountMinor: 1 }) });
      assert.equal(res.status, 402);
      assert.equal(res.body.error.code, 'insufficient_funds');
      assert.equal(await stack.orm.em.fork().count(Transfer, { clientId: fresh.body.id }), 0);
    });

    it('refuses a POST without an Idempotency-Key', async () => {
      const before = await counts();
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: clientKey, body: transferBody(), idempotencyKey: null });
      assert.equal(res.status, 400);
      assert.equal(res.body.error.param, 'Idempotency-Key');
      assert.deepEqual(await counts(), before);
    });

    it('refuses bad deposits: unknown client 404, bad amount and currency 400', async () => {
      const before = await counts();
      const unknown = await call(stack.url, 'POST', '/v1/ops/clients/cl_00000000000000000000000000/deposits', { key: stack.opsKey, body: { currency: 'USD', amountMinor: 1, reference: 'r' } });
      assert.equal(unknown.status, 404);
      const zero = await call(stack.url, 'POST', `/v1/ops/clients/${clientId}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor: 0, reference: 'r' } });
      assert.equal(zero.status, 400);
      assert.equal(zero.body.error.param, 'amountMinor');
      const currency = await call(stack.url, 'POST', `/v1/ops/clients/${clientId}/deposits`, { key: stack.opsKey, body: { currency: 'ABC', amountMinor: 1, reference: 'r' } });
      assert.equal(currency.status, 400);
      assert.equal(currency.body.error.param, 'currency');
      const noName = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: {} });
      assert.equal(noName.status, 400);
      assert.equal(noName.body.error.param, 'name');
      assert.deepEqual(await counts(), before);
    });
  });
});
