/**
 * Over HTTP: a beneficiary name or reference the chosen rail cannot carry is a 400 naming the field
 * and the rule, with nothing written; the same text is taken on a rail that can carry it.
 */
import assert from 'node:assert/strict';
import { Transfer } from '../../db/schema';
import { BENEFICIARY, IBAN_BENEFICIARY } from '../support/fixtures';
import { apiStack, call, type ApiStack } from '../support/api-stack';

describe('API: rail character sets and field lengths', () => {
  let stack: ApiStack;

  before(async () => {
    stack = await apiStack();
  });

  it('refuses text the routed rail cannot carry, naming the field, writing nothing', async () => {
    const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Text rules' } });
    const client = { id: created.body.id as string, key: created.body.apiKey as string };
    for (const currency of ['USD', 'EUR']) {
      const funded = await call(stack.url, 'POST', `/v1/ops/clients/${client.id}/deposits`, { key: stack.opsKey, body: { currency, amountMinor: 1_000_000, reference: `seed-${currency}` } });
      assert.equal(funded.status, 201);
    }
    const cases: [Record<string, unknown>, string, RegExp][] = [
      // ACH: 23 characters do not fit NACHA's 22-position individual name.
      [{ amountMinor: 1_000, currency: 'USD', beneficiary: { ...BENEFICIARY, name: 'Augusta Ada King Lovela' } }, 'beneficiary.name', /rail ach carries at most 22/],
      [{ amountMinor: 1_000, currency: 'USD', beneficiary: { ...BENEFICIARY, name: 'Zoë Lovelace' } }, 'beneficiary.name', /NACHA alphanumeric set/],
      // SEPA Instant (routed for EUR to a German IBAN): an accented name is outside the SEPA Latin set.
      [{ amountMinor: 1_000, currency: 'EUR', beneficiary: { ...IBAN_BENEFICIARY, name: 'Émilie du Châtelet' } }, 'beneficiary.name', /SEPA Latin character set/],
      [{ amountMinor: 1_000, currency: 'EUR', beneficiary: IBAN_BENEFICIARY, reference: 'Order #7' }, 'reference', /"#"/],
      // RTP named by the client: a 23-character name fits RTP but not ACH, its fallback rail.
      [{ amountMinor: 1_000, currency: 'USD', rail: 'rtp', beneficiary: { ...BENEFICIARY, name: 'Augusta Ada King Lovela' } }, 'beneficiary.name', /rail ach/],
    ];
    for (const [body, param, message] of cases) {
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.type, 'invalid_request_error');
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.param, param);
      assert.match(res.body.error.message, message);
    }
    assert.equal(await stack.orm.em.fork().count(Transfer, { clientId: client.id }), 0, 'no transfer was written');
    const balances = await call(stack.url, 'GET', '/v1/balances', { key: client.key });
    assert.deepEqual(balances.body.data.map((b: { heldMinor: number }) => b.heldMinor), [0, 0]);

    // Text within the rail's set and lengths is taken.
    const ok = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 1_000, currency: 'EUR', beneficiary: IBAN_BENEFICIARY, reference: 'Invoice 7/2026' } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });
});
