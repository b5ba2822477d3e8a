/**
 * Lists over HTTP: cursor pages (`limit`, `startingAfter`, `{data, hasMore}`), newest first, with
 * filters by status and creation time, and a 400 naming the parameter for every bad value.
 * Transfers are written straight to the database (as the API writes them before their workflow
 * starts) so that creation times and statuses are exactly what the filters are tested against.
 */
import assert from 'node:assert/strict';
import { newId } from '../../core/ids';
import type { TransferStatus } from '../../core/transfer';
import { Transfer, TransferEvent, type TransferRow } from '../../db/schema';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, type ApiStack } from '../support/api-stack';

const BASE_MS = Date.parse('2026-03-02T09:00:00.000Z');
const HOUR_MS = 3600_000;

describe('API: lists', () => {
  let stack: ApiStack;
  let client: { id: string; apiKey: string };
  /** Oldest first: transfer i was created at BASE + i hours, every third failed, the others canceled. */
  const rows: { id: string; status: TransferStatus; createdAt: Date }[] = [];

  before(async () => {
    stack = await apiStack();
    client = (await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Listed Co' } })).body;
    const em = stack.orm.em.fork();
    for (let i = 0; i < 12; i++) {
      const createdAt = new Date(BASE_MS + i * HOUR_MS);
      // Statuses that need no postings, so the ledger auditor of other suites finds nothing amiss.
      const status: TransferStatus = i % 3 === 0 ? 'failed' : 'canceled';
      const row: TransferRow = {
        id: newId('tr', createdAt.getTime()),
        clientId: client.id,
        status,
        amountMinor: 100 + i,
        currency: 'USD',
        targetCurrency: 'USD',
        targetAmountMinor: 100 + i,
        fxRate: null,
        quoteId: null,
        feeMinor: 0,
        rail: 'ach',
        beneficiary: BENEFICIARY,
        reference: null,
        metadata: null,
        failureCode: status === 'failed' ? 'R03' : 'canceled',
        failureMessage: status === 'failed' ? 'no account' : 'canceled by the client',
        createdAt,
        updatedAt: createdAt,
        version: 1,
      };
      em.persist(em.create(Transfer, row));
      em.persist(em.create(TransferEvent, { id: newId('evt', createdAt.getTime()), transferId: row.id, status: 'created', reason: null, at: createdAt }));
      rows.push({ id: row.id, status, createdAt });
    }
    await em.flush();
  });

  const list = (query: string) => call(stack.url, 'GET', `/v1/transfers${query}`, { key: client.apiKey });
  const newestFirst = () => [...rows].reverse();

  it('answers 10 by default, newest first, with hasMore', async () => {
    const res = await list('');
    assert.equal(res.status, 200);
    assert.equal(res.body.object, 'list');
    assert.deepEqual(
      res.body.data.map((t: { id: string }) => t.id),
      newestFirst().slice(0, 10).map((r) => r.id),
    );
    assert.equal(res.body.hasMore, true);
  });

  it('walks every transfer exactly once in pages of 5 with startingAfter', async () => {
    const seen: string[] = [];
    const pages: { size: number; hasMore: boolean }[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const res = await list(`?limit=5${cursor ? `&startingAfter=${cursor}` : ''}`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      seen.push(...res.body.data.map((t: { id: string }) => t.id));
      pages.push({ size: res.body.data.length, hasMore: res.body.hasMore });
      if (!res.body.hasMore) break;
      cursor = res.body.data.at(-1).id;
    }
    assert.deepEqual(pages, [
      { size: 5, hasMore: true },
      { size: 5, hasMore: true },
      { size: 2, hasMore: false },
    ]);
    assert.deepEqual(seen, newestFirst().map((r) => r.id));
  });

  it('takes limit from 1 to 100', async () => {
    const one = await list('?limit=1');
    assert.equal(one.body.data.length, 1);
    assert.equal(one.body.hasMore, true);
    const all = await list('?limit=100');
    assert.equal(all.body.data.length, 12);
    assert.equal(all.body.hasMore, false);
  });

  it('filters by status, across pages', async () => {
    const failed = newestFirst().filter((r) => r.status === 'failed');
    const first = await list('?status=failed&limit=3');
    assert.deepEqual(
      first.body.data.map((t: { id: string; status: string }) => [t.id, t.status]),
      failed.slice(0, 3).map((r) => [r.id, 'failed']),
    );
    assert.equal(first.body.hasMore, true);
    const rest = await list(`?status=failed&limit=3&startingAfter=${first.body.data[2].id}`);
    assert.deepEqual(
      rest.body.data.map((t: { id: string }) => t.id),
      failed.slice(3).map((r) => r.id),
    );
    assert.equal(rest.body.hasMore, false);
    assert.deepEqual((await list('?status=needs_attention')).body.data, []);
  });

  it('filters by creation time: createdGte inclusive, createdLt exclusive, with any offset', async () => {
    const from = new Date(BASE_MS + 3 * HOUR_MS).toISOString();
    const to = new Date(BASE_MS + 7 * HOUR_MS).toISOString();
    const res = await list(`?limit=100&createdGte=${from}&createdLt=${to}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.data.map((t: { id: string }) => t.id),
      rows.slice(3, 7).reverse().map((r) => r.id),
    );
    // The same instant written in another zone selects the same transfers.
    const sameInParis = await list(`?limit=100&createdGte=${encodeURIComponent('2026-03-02T13:00:00+01:00')}&createdLt=${encodeURIComponent('2026-03-02T17:00:00+01:00')}`);
    assert.deepEqual(sameInParis.body.data, res.body.data);
    const withStatus = await list(`?limit=100&createdGte=${from}&status=failed`);
    assert.deepEqual(
      withStatus.body.data.map((t: { id: string }) => t.id),
      rows.filter((r, i) => i >= 3 && r.status === 'failed').reverse().map((r) => r.id),
    );
  });

  it('answers an empty range (createdLt at or before createdGte) with an empty page, as the document says', async () => {
    for (const query of ['?createdGte=2026-03-02T10:00:00Z&createdLt=2026-03-02T10:00:00Z', '?createdGte=2026-03-02T17:00:00Z&createdLt=2026-03-02T13:00:00Z']) {
      const res = await list(query);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body.data, []);
      assert.equal(res.body.hasMore, false);
    }
  });

  const bad: [string, string][] = [
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=2.5', 'limit'],
    ['?limit=ten', 'limit'],
    ['?startingAfter=42', 'startingAfter'],
    ['?startingAfter=key_00000000000000000000000000', 'startingAfter'],
    ['?status=lost', 'status'],
    ['?status=failed&status=completed', 'status'],
    ['?createdGte=yesterday', 'createdGte'],
    ['?createdGte=2026-03-02', 'createdGte'],
    ['?createdLt=2026-03-02T10:00:00', 'createdLt'],
    ['?colour=red', 'colour'],
  ];
  for (const [query, param] of bad) {
    it(`refuses ${query} with 400 naming ${param}`, async () => {
      const res = await list(query);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.param, param);
    });
  }

  it('pages API keys the same way', async () => {
    for (let i = 0; i < 2; i++) await call(stack.url, 'POST', `/v1/ops/clients/${client.id}/keys`, { key: stack.opsKey });
    const ids: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const res = await call(stack.url, 'GET', `/v1/ops/clients/${client.id}/keys?limit=1${cursor ? `&startingAfter=${cursor}` : ''}`, { key: stack.opsKey });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      ids.push(...res.body.data.map((k: { id: string }) => k.id));
      if (!res.body.hasMore) break;
      cursor = res.body.data[0].id;
    }
    assert.equal(ids.length, 3);
    assert.deepEqual([...ids].sort().reverse(), ids, 'newest first');
    const unknown = await call(stack.url, 'GET', '/v1/ops/clients/cl_00000000000000000000000000/keys', { key: stack.opsKey });
    assert.equal(unknown.status, 404);
  });
});
