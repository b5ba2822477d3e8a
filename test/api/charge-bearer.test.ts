/**
 * `chargeBearer` on POST /v1/transfers over real HTTP (MariaDB, the worker on the Temporal dev
 * server, the bank simulator): OUR by default on SWIFT, SHA and BEN on request, refused with 400
 * naming the field on other rails or values, with nothing written.
 */
import assert from 'node:assert/strict';
import { Transfer } from '../../db/schema';
import { BENEFICIARY, JP_BENEFICIARY } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';

describe('API: SWIFT charge bearer', () => {
  let stack: ApiStack;
  let client: { id: string; key: string };

  before(async () => {
    stack = await apiStack();
    const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Charge bearer' } });
    await call(stack.url, 'POST', `/v1/ops/clients/${created.body.id}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor: 1_000_000, reference: 'seed' } });
    client = { id: created.body.id, key: created.body.apiKey };
  });

  const transfer = (body: Record<string, unknown>) => call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 10_000, currency: 'USD', ...body } });

  it('pays a SWIFT wire under SHA: completed, the attempt showing what the beneficiary received', async () => {
    const accountNumber = '810000001';
    await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber }, behavior: 'accept', chargesMinor: 700 }) });
    const res = await transfer({ beneficiary: { ...JP_BENEFICIARY, accountNumber }, chargeBearer: 'SHA' });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.rail, 'swift');
    assert.equal(res.body.chargeBearer, 'SHA');
    const done = await until('completed', async () => (await call(stack.url, 'GET', `/v1/transfers/${res.body.id}`, { key: client.key })).body, (t) => ['completed', 'failed', 'needs_attention'].includes(t.status));
    assert.equal(done.status, 'completed');
    assert.equal(done.attempts[0].beneficiaryReceivedMinor, 9_300);
    assert.equal(done.attempts[0].chargesMinor, 700);
  });

  it('defaults SWIFT to OUR and leaves other rails without a charge bearer', async () => {
    const swift = await transfer({ beneficiary: JP_BENEFICIARY });
    assert.equal(swift.status, 201, JSON.stringify(swift.body));
    assert.equal(swift.body.chargeBearer, 'OUR');
    const ach = await transfer({ beneficiary: BENEFICIARY });
    assert.equal(ach.status, 201, JSON.stringify(ach.body));
    assert.equal(ach.body.rail, 'ach');
    assert.equal(ach.body.chargeBearer, null);
  });

  it('refuses a charge bearer on another rail, and an unknown one, naming chargeBearer and writing nothing', async () => {
    const before = await stack.orm.em.fork().count(Transfer, { clientId: client.id });
    for (const body of [
      { beneficiary: BENEFICIARY, chargeBearer: 'SHA' },
      { beneficiary: JP_BENEFICIARY, chargeBearer: 'SLEV' },
      { beneficiary: JP_BENEFICIARY, chargeBearer: 'sha' },
    ]) {
      const res = await transfer(body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.param, 'chargeBearer');
      assert.match(res.body.error.message, /chargeBearer/);
    }
    assert.equal(await stack.orm.em.fork().count(Transfer, { clientId: client.id }), before);
  });
});
