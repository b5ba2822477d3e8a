/**
 * FX quotes and cross-currency payouts over HTTP, and many concurrent transfers against one
 * balance, on MariaDB with the real worker, Temporal dev server and bank simulator.
 */
import assert from 'node:assert/strict';
import { FxQuote, Posting, Transfer } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { BENEFICIARY, IBAN_BENEFICIARY } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { assertValidAgainstXsd } from '../support/xsd';

describe('API: FX quotes, cross-currency payouts, every rail, concurrency', () => {
  let stack: ApiStack;

  before(async () => {
    stack = await apiStack();
  });

  async function fundedClient(name: string, currency: string, amountMinor: number): Promise<{ id: string; key: string }> {
    const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name } });
    const funded = await call(stack.url, 'POST', `/v1/ops/clients/${created.body.id}/deposits`, { key: stack.opsKey, body: { currency, amountMinor, reference: `seed-${currency}` } });
    assert.equal(funded.status, 201);
    return { id: created.body.id, key: created.body.apiKey };
  }

  const finished = (key: string, id: string) =>
    until(`transfer ${id} to finish`, async () => (await call(stack.url, 'GET', `/v1/transfers/${id}`, { key })).body, (t) => ['completed', 'failed', 'canceled', 'needs_attention'].includes(t.status));

  it('fires 50 concurrent transfers at a balance that covers 10: those succeed, the rest get 402, the balance ends exact', async () => {
    const client = await fundedClient('Concurrent', 'USD', 10_000);
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 1_000, currency: 'USD', beneficiary: BENEFICIARY } })),
    );
    const created = replies.filter((r) => r.status === 201);
    const refused = replies.filter((r) => r.status === 402);
    assert.equal(created.length, 10, JSON.stringify(replies.filter((r) => r.status !== 201 && r.status !== 402).map((r) => r.body)));
    assert.equal(refused.length, 40);
    for (const r of refused) assert.equal(r.body.error.code, 'insufficient_funds');
    for (const r of created) assert.equal((await finished(client.key, r.body.id)).status, 'completed');
    const balances = await call(stack.url, 'GET', '/v1/balances', { key: client.key });
    assert.deepEqual(balances.body.data, [{ currency: 'USD', availableMinor: 0, heldMinor: 0 }]);
    const em = stack.orm.em.fork();
    assert.equal(await em.count(Transfer, { clientId: client.id, status: 'completed' }), 10);
    assert.equal(await em.count(Transfer, { clientId: client.id, status: { $ne: 'completed' }, failureCode: { $ne: 'insufficient_funds' } }), 0);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('quotes a rate with a fee and an expiry', async () => {
    const client = await fundedClient('Quoter', 'USD', 1);
    const res = await call(stack.url, 'POST', '/v1/fx/quotes', { key: client.key, body: { sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 100_000 } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const q = res.body;
    assert.match(q.id, /^qt_/);
    assert.match(q.rate, /^0\.9\d+$/);
    assert.equal(q.feeMinor, 250);
    assert.ok(Number.isSafeInteger(q.targetAmountMinor) && q.targetAmountMinor > 90_000 && q.targetAmountMinor < 93_000);
    const ttl = Date.parse(q.expiresAt) - Date.parse(q.createdAt);
    assert.equal(ttl, 60_000);
  });

  it('refuses quotes it cannot price with 400 naming the field, and stores nothing', async () => {
    const client = await fundedClient('Bad quotes', 'USD', 1);
    const cases: [unknown, string][] = [
      [{ sourceCurrency: 'USD', targetCurrency: 'USD', sourceAmountMinor: 100 }, 'targetCurrency'],
      [{ sourceCurrency: 'USD', targetCurrency: 'VND', sourceAmountMinor: 100 }, 'targetCurrency'],
      [{ sourceCurrency: 'XYZ', targetCurrency: 'EUR', sourceAmountMinor: 100 }, 'sourceCurrency'],
      [{ sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 0 }, 'sourceAmountMinor'],
      [{ sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 2 ** 53 }, 'sourceAmountMinor'],
      [{ sourceCurrency: 'USD', targetCurrency: 'JPY', sourceAmountMinor: Number.MAX_SAFE_INTEGER }, 'sourceAmountMinor'],
      [{ sourceCurrency: 'USD', targetCurrency: 'EUR' }, 'sourceAmountMinor'],
    ];
    for (const [body, param] of cases) {
      const res = await call(stack.url, 'POST', '/v1/fx/quotes', { key: client.key, body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.error.param, param, JSON.stringify(body));
    }
    assert.equal(await stack.orm.em.fork().count(FxQuote, { clientId: client.id }), 0);
  });

  it('pays EUR out as USD at the quoted rate, and refuses to use the quote twice', async () => {
    const client = await fundedClient('Euro payer', 'EUR', 100_000);
    const quote = (await call(stack.url, 'POST', '/v1/fx/quotes', { key: client.key, body: { sourceCurrency: 'EUR', targetCurrency: 'USD', sourceAmountMinor: 40_000 } })).body;
    const body = { amountMinor: 40_000, currency: 'EUR', targetCurrency: 'USD', quoteId: quote.id, beneficiary: BENEFICIARY };
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(res.body.fx, { rate: quote.rate, quoteId: quote.id });
    assert.equal(res.body.targetAmountMinor, quote.targetAmountMinor);
    assert.equal(res.body.feeMinor, quote.feeMinor);
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    // The second fx_locked is the ACH entry queued in its window.
    assert.deepEqual(done.events.map((e: { status: string }) => e.status), ['created', 'funds_held', 'fx_locked', 'fx_locked', 'submitted', 'settled', 'completed']);
    const sub = stack.bank.sim.submissions.find((s) => s.reference === done.attempts[0].railReference)!;
    assert.equal(sub.amountMinor, quote.targetAmountMinor);
    assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: client.key })).body.data[0].availableMinor, 60_000);

    const again = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
    assert.equal(again.body.error.param, 'quoteId');
  });

  it("refuses another client's, an expired and a mismatched quote, writing nothing", async () => {
    const owner = await fundedClient('Owner', 'EUR', 100_000);
    const other = await fundedClient('Other', 'EUR', 100_000);
    const quote = (await call(stack.url, 'POST', '/v1/fx/quotes', { key: owner.key, body: { sourceCurrency: 'EUR', targetCurrency: 'USD', sourceAmountMinor: 10_000 } })).body;
    const body = { amountMinor: 10_000, currency: 'EUR', targetCurrency: 'USD', quoteId: quote.id, beneficiary: BENEFICIARY };

    const foreign = await call(stack.url, 'POST', '/v1/transfers', { key: other.key, body });
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.param, 'quoteId');

    const mismatched = await call(stack.url, 'POST', '/v1/transfers', { key: owner.key, body: { ...body, amountMinor: 10_001 } });
    assert.equal(mismatched.status, 400);
    assert.equal(mismatched.body.error.param, 'quoteId');

    await stack.orm.em.fork().nativeUpdate(FxQuote, { id: quote.id }, { expiresAt: new Date(Date.now() - 1) });
    const expired = await call(stack.url, 'POST', '/v1/transfers', { key: owner.key, body });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.error.code, 'quote_expired');

    const em = stack.orm.em.fork();
    assert.equal(await em.count(Transfer, { clientId: { $in: [owner.id, other.id] } }), 0);
    assert.equal((await em.findOneOrFail(FxQuote, { id: quote.id })).transferId, null);
  });

  it('pays JPY out as USD at a live quote, exact in both currencies', async () => {
    const client = await fundedClient('Yen payer', 'JPY', 1_000_000);
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 123_457, currency: 'JPY', targetCurrency: 'USD', beneficiary: BENEFICIARY } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.feeMinor, 309); // 25 bps of ¥123,457 = 308.64 → 309
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    const legs = await stack.orm.em.fork().find(Posting, { transferId: done.id });
    const leg = (code: string) => legs.find((p) => p.code === code)!;
    assert.equal(leg('fx_source_leg').amountMinor, 123_457 - 309);
    assert.equal(leg('fx_source_leg').currency, 'JPY');
    assert.equal(leg('fx_target_leg').amountMinor, done.targetAmountMinor);
    assert.equal(leg('payout_settled').currency, 'USD');
    assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: client.key })).body.data[0].availableMinor, 1_000_000 - 123_457);
  });

  it('pays USD out as EUR to a German IBAN over SEPA Instant when no rail is named, with a schema-valid pacs.008', async () => {
    const client = await fundedClient('Dollar payer', 'USD', 500_000);
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 100_000, currency: 'USD', targetCurrency: 'EUR', beneficiary: IBAN_BENEFICIARY, reference: 'Rechnung 7' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.rail, 'sepa_instant');
    assert.equal(res.body.beneficiary.iban, '********3000');
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    assert.match(done.attempts[0].railReference, /^att_/);
    const sub = stack.bank.sim.submissions.find((s) => s.reference === done.attempts[0].railReference)!;
    assert.equal(sub.currency, 'EUR');
    assert.equal(sub.rail, 'sepa_instant');
    assert.equal(sub.amountMinor, done.targetAmountMinor);
    await assertValidAgainstXsd(sub.raw, 'pacs.008.001.09');
  });

  it('falls back from SEPA Instant to SEPA when the beneficiary bank is unreachable, with a new attempt', async () => {
    const client = await fundedClient('Fallback', 'EUR', 500_000);
    const beneficiary = { ...IBAN_BENEFICIARY, iban: 'DE75512108001245126199' };
    await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { iban: beneficiary.iban, rail: 'sepa_instant' }, behavior: 'reject', code: 'AB08', times: 1 }) });
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 7_500, currency: 'EUR', beneficiary } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    assert.equal(done.rail, 'sepa');
    assert.deepEqual(done.attempts.map((a: { rail: string; status: string }) => [a.rail, a.status]), [['sepa_instant', 'rejected'], ['sepa', 'settled']]);
    assert.notEqual(done.attempts[0].railReference, done.attempts[1].railReference);
    const sepa = stack.bank.sim.submissions.find((s) => s.reference === done.attempts[1].railReference)!;
    await assertValidAgainstXsd(sepa.raw, 'pain.001.001.10');
    const wf = await stack.temporal.workflow.getHandle(done.workflowId).describe();
    assert.equal(wf.searchAttributes.TransferRail?.[0], 'sepa');
  });

  it('traces a SEPA Instant payment whose answer never came with pacs.028 under the same reference', async () => {
    const client = await fundedClient('Instant unknown', 'EUR', 500_000);
    const beneficiary = { ...IBAN_BENEFICIARY, iban: 'GB29NWBK60161331926819', country: 'GB', bic: 'NWBKGB2LXXX' };
    await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { iban: beneficiary.iban, rail: 'sepa_instant' }, behavior: 'timeout_after_accept', times: 1 }) });
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 3_000, currency: 'EUR', beneficiary } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.events.map((e: { status: string }) => e.status), ['created', 'funds_held', 'unknown', 'submitted', 'settled', 'completed']);
    const subs = stack.bank.sim.submissions.filter((s) => s.reference === done.attempts[0].railReference);
    assert.equal(subs.length, 1, 'never resubmitted');
  });

  it('pays EUR above the SEPA Instant limit over SEPA, and over SWIFT when the client names it', async () => {
    const client = await fundedClient('Euro domestic', 'EUR', 50_000_000);
    for (const rail of [undefined, 'swift'] as const) {
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 12_000_000, currency: 'EUR', beneficiary: IBAN_BENEFICIARY, ...(rail ? { rail } : {}) } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.rail, rail ?? 'sepa');
      assert.equal(res.body.fx, null);
      const done = await finished(client.key, res.body.id);
      assert.equal(done.status, 'completed');
    }
    assert.equal((await call(stack.url, 'GET', '/v1/balances', { key: client.key })).body.data[0].availableMinor, 50_000_000 - 2 * 12_000_000);
    const instant = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 12_000_000, currency: 'EUR', beneficiary: IBAN_BENEFICIARY, rail: 'sepa_instant' } });
    assert.equal(instant.status, 400);
    assert.equal(instant.body.error.param, 'amountMinor');
  });

  it('refuses bad international beneficiaries naming the field, writing nothing', async () => {
    const client = await fundedClient('Bad beneficiaries', 'USD', 500_000);
    const cases: [Record<string, string>, string, string][] = [
      [{ ...IBAN_BENEFICIARY, iban: 'DE89370400440532013001' }, 'EUR', 'beneficiary.iban'],
      [{ ...IBAN_BENEFICIARY, country: 'FR' }, 'EUR', 'beneficiary.country'],
      [{ ...IBAN_BENEFICIARY, bic: 'NOTABIC' }, 'EUR', 'beneficiary.bic'],
      [{ name: 'No BIC', country: 'DE', iban: IBAN_BENEFICIARY.iban }, 'GBP', 'beneficiary.bic'],
      [{ name: 'X', country: 'JP', accountNumber: '12', bic: 'BOTKJPJTXXX' }, 'JPY', 'beneficiary.accountNumber'],
    ];
    for (const [beneficiary, targetCurrency, param] of cases) {
      const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 1_000, currency: 'USD', targetCurrency, beneficiary } });
      assert.equal(res.status, 400, JSON.stringify(beneficiary));
      assert.equal(res.body.error.param, param, JSON.stringify(res.body));
    }
    assert.equal(await stack.orm.em.fork().count(Transfer, { clientId: client.id }), 0);
  });

  it('pays USD over RTP when the client names it, settled at once, with a schema-valid pacs.008', async () => {
    const client = await fundedClient('Instant dollars', 'USD', 100_000);
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 4_200, currency: 'USD', beneficiary: BENEFICIARY, rail: 'rtp' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.rail, 'rtp');
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    const sub = stack.bank.sim.submissions.find((s) => s.reference === done.attempts[0].railReference)!;
    assert.equal(sub.rail, 'rtp');
    await assertValidAgainstXsd(sub.raw, 'pacs.008.001.09');
    assert.ok(sub.raw.includes('<MmbId>110000000</MmbId>'));
  });

  it('falls back from RTP to ACH when the receiving bank is not on the RTP network', async () => {
    const client = await fundedClient('RTP fallback', 'USD', 100_000);
    const beneficiary = { ...BENEFICIARY, accountNumber: '888000111' };
    await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber: beneficiary.accountNumber, rail: 'rtp' }, behavior: 'reject', code: 'AB08', times: 1 }) });
    const res = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor: 4_200, currency: 'USD', beneficiary, rail: 'rtp' } });
    const done = await finished(client.key, res.body.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.attempts.map((a: { rail: string; status: string }) => [a.rail, a.status]), [['rtp', 'rejected'], ['ach', 'settled']]);
  });
});
