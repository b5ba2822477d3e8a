/**
 * Operators are people, and four eyes on money that cannot come back (SPEC §5), over real HTTP on
 * the Temporal dev server with a worker, MariaDB and the bank simulator (the npm start stack):
 * each role's allowed and refused routes and the audit naming the operator from the key; a revoked
 * key refused at once; a payout at or above its client's threshold waiting in needs_approval until
 * a second person approves (it completes) or denies (canceled, hold voided); a reconciliation break
 * resolved both ways, through an approval, with the ledger auditor clean.
 *
 * (A recall refused to its requester and done by a second operator is in test/api/recall.test.ts,
 * a late return accepted through an approval in test/api/ops.test.ts: both need the time-skipping
 * server.)
 */
import assert from 'node:assert/strict';
import { auditLedger } from '../../ledger/auditor';
import { Posting } from '../../db/schema';
import { BENEFICIARY } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient, apiOperator, type ApiClient, type ApiOperator } from '../support/api-clients';

describe('operators, roles and four eyes (dev server, real HTTP)', function () {
  this.timeout(120_000);
  let stack: ApiStack;
  let viewer: ApiOperator;
  let alice: ApiOperator;
  let bob: ApiOperator;
  let admin: ApiOperator;
  /** Account numbers of this run's own: the simulator is shared with other suites, whose files must not match them. */
  let seq = 0;
  const runTag = String(Date.now() % 1_000_000).padStart(6, '0');

  before(async () => {
    stack = await apiStack();
    viewer = await apiOperator(stack, 'vera', 'viewer');
    alice = await apiOperator(stack, 'alice', 'operator');
    bob = await apiOperator(stack, 'bob', 'operator');
    admin = await apiOperator(stack, 'ada', 'admin');
  });

  afterEach(() => fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' }));

  const get = (path: string, who: { key: string }) => call(stack.url, 'GET', path, { key: who.key });
  const post = (path: string, who: { key: string }, body: unknown) => call(stack.url, 'POST', path, { key: who.key, body });
  const auditOf = async (query: string) => (await get(`/v1/ops/audit?${query}&limit=100`, { key: stack.opsKey })).body.data as Record<string, string>[];
  const transferOf = (client: ApiClient, id: string) => call(stack.url, 'GET', `/v1/transfers/${id}`, { key: client.key });
  const balance = async (client: ApiClient) => (await call(stack.url, 'GET', '/v1/balances', { key: client.key })).body.data.find((b: { currency: string }) => b.currency === 'USD');

  async function rule(body: unknown): Promise<void> {
    const res = await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
  }

  async function payout(client: ApiClient, amountMinor: number, accountNumber = BENEFICIARY.accountNumber): Promise<string> {
    const created = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor, currency: 'USD', beneficiary: { ...BENEFICIARY, accountNumber } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.id;
  }

  const statusOf = (client: ApiClient, id: string, status: string) => until(status, () => transferOf(client, id), (r) => r.body.status === status || r.body.status === 'failed');

  it('lists the bootstrap admin, named from OPS_API_KEY, and the operators an admin created (never their keys)', async () => {
    const page = await get('/v1/ops/operators?limit=100', admin);
    assert.equal(page.status, 200);
    const byName = new Map(page.body.data.map((o: { name: string }) => [o.name, o]));
    assert.deepEqual((byName.get('bootstrap') as { role: string }).role, 'admin');
    assert.deepEqual((byName.get(viewer.name) as { role: string; createdBy: string }).role, 'viewer');
    assert.equal((byName.get(viewer.name) as { createdBy: string }).createdBy, 'bootstrap');
    assert.ok(page.body.data.every((o: Record<string, unknown>) => !('apiKey' in o) && !('keyHash' in o)));
    const taken = await post('/v1/ops/operators', admin, { name: alice.name, role: 'viewer' });
    assert.equal(taken.status, 409, 'a name is never reused');
    const badRole = await post('/v1/ops/operators', admin, { name: 'zed', role: 'root' });
    assert.equal(badRole.status, 400);
    assert.equal(badRole.body.error.param, 'role');
  });

  it('a viewer reads the ops routes and is refused every action', async () => {
    const client = await apiClient(stack, 'Viewer Co', 10_000);
    for (const path of ['/v1/ops/transfers', '/v1/ops/audit', '/v1/ops/approvals?status=pending', '/v1/ops/reconciliation/breaks', `/v1/ops/clients/${client.id}/keys`]) {
      assert.equal((await get(path, viewer)).status, 200, path);
    }
    const refused: [string, string, unknown][] = [
      ['POST', '/v1/ops/transfers/tr_00000000000000000000000000/retry', { reason: 'x' }],
      ['POST', '/v1/ops/transfers/tr_00000000000000000000000000/cancel', { reason: 'x' }],
      ['POST', '/v1/ops/transfers/tr_00000000000000000000000000/return-decision', { decision: 'dishonor', reason: 'x' }],
      ['POST', '/v1/ops/approvals/apr_00000000000000000000000000/approve', { reason: 'x' }],
      ['POST', '/v1/ops/approvals/apr_00000000000000000000000000/deny', { reason: 'x' }],
      ['POST', '/v1/ops/reconciliation/breaks/brk_00000000000000000000000000/resolve', { resolution: 'accept', reason: 'x' }],
      ['POST', `/v1/ops/clients/${client.id}/deposits`, { currency: 'USD', amountMinor: 1, reference: 'viewer' }],
      ['POST', '/v1/ops/clients', { name: 'Nope' }],
      ['POST', '/v1/ops/operators', { name: 'nope', role: 'admin' }],
      ['GET', '/v1/ops/operators', undefined],
      ['PATCH', `/v1/ops/clients/${client.id}`, { approvalThresholdMinor: { USD: 1 } }],
    ];
    for (const [method, path, body] of refused) {
      const res = await call(stack.url, method, path, { key: viewer.key, body });
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'forbidden');
      assert.match(res.body.error.message, /needs the (operator|admin) role/);
    }
    assert.equal((await balance(client)).availableMinor, 10_000, 'the refused deposit wrote nothing');
  });

  it('an operator acts (the audit names it from its key) and is refused what only an admin may do', async () => {
    const client = await apiClient(stack, 'Operator Co', 0);
    const deposited = await post(`/v1/ops/clients/${client.id}/deposits`, alice, { currency: 'USD', amountMinor: 3_000, reference: 'wire-alice' });
    assert.equal(deposited.status, 201);
    const id = await payout(client, 1_000);
    await statusOf(client, id, 'completed');
    const retry = await call(stack.url, 'POST', `/v1/ops/transfers/${id}/retry`, { key: alice.key, body: { reason: 'just in case' }, headers: { 'x-operator': 'mallory' } });
    assert.equal(retry.status, 409);
    const named = await post(`/v1/ops/transfers/${id}/retry`, alice, { reason: 'x', operator: 'mallory' });
    assert.equal(named.status, 400);
    assert.equal(named.body.error.param, 'operator');
    const [entry] = await until('the refusal in the audit log', () => auditOf(`transferId=${id}`), (rows) => rows.length === 1);
    assert.deepEqual([entry.action, entry.outcome, entry.operator, entry.channel], ['retry', 'refused', alice.name, 'api']);

    for (const [method, path, body] of [
      ['POST', '/v1/ops/operators', { name: 'nope', role: 'viewer' }],
      ['GET', '/v1/ops/operators', undefined],
      ['POST', '/v1/ops/clients', { name: 'Nope' }],
      ['PATCH', `/v1/ops/clients/${client.id}`, { approvalThresholdMinor: { USD: 1 } }],
      ['POST', `/v1/ops/clients/${client.id}/keys`, undefined],
    ] as const) {
      const res = await call(stack.url, method, path, { key: alice.key, body });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.match(res.body.error.message, /needs the admin role/);
    }
  });

  it('an admin manages operators and client settings; a revoked key is 401 at once', async () => {
    const created = await post('/v1/ops/clients', admin, { name: 'Admin Co' });
    assert.equal(created.status, 201);
    const settings = await call(stack.url, 'PATCH', `/v1/ops/clients/${created.body.id}`, { key: admin.key, body: { approvalThresholdMinor: { USD: 5_000_000, EUR: 100 } } });
    assert.equal(settings.status, 200, JSON.stringify(settings.body));
    assert.deepEqual(settings.body.approvalThresholdMinor, { USD: 5_000_000, EUR: 100 });
    const removed = await call(stack.url, 'PATCH', `/v1/ops/clients/${created.body.id}`, { key: admin.key, body: { approvalThresholdMinor: { EUR: null }, reason: 'EUR payouts go through the treasury desk' } });
    assert.deepEqual(removed.body.approvalThresholdMinor, { USD: 5_000_000 }, 'null removes one currency; the others stay');
    for (const [body, param] of [
      [{ approvalThresholdMinor: { XYZ: 1 } }, 'approvalThresholdMinor.XYZ'],
      [{ approvalThresholdMinor: { usd: 1 } }, 'approvalThresholdMinor.usd'],
      [{ approvalThresholdMinor: { USD: -1 } }, 'approvalThresholdMinor.USD'],
      [{ approvalThresholdMinor: { USD: 1.5 } }, 'approvalThresholdMinor.USD'],
      [{ approvalThresholdMinor: { USD: 2 ** 53 } }, 'approvalThresholdMinor.USD'],
      [{ approvalThresholdMinor: {}, thresholds: {} }, 'thresholds'],
    ] as const) {
      const bad = await call(stack.url, 'PATCH', `/v1/ops/clients/${created.body.id}`, { key: admin.key, body });
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.error.param, param);
    }
    assert.deepEqual((await call(stack.url, 'PATCH', `/v1/ops/clients/${created.body.id}`, { key: admin.key, body: { approvalThresholdMinor: {} } })).body.approvalThresholdMinor, { USD: 5_000_000 }, 'the refused changes wrote nothing');
    // Loosening four eyes is on the record: who, from what to what, why; a change that changes nothing writes nothing.
    const changes = await auditOf(`clientId=${created.body.id}`);
    assert.deepEqual(changes.map((e) => [e.action, e.operator, e.via, e.outcome, e.statusBefore, e.transferId, e.detail, e.reason]), [
      ['client_settings_changed', admin.name, 'request', 'accepted', null, null, `approval thresholds of ${created.body.id}: EUR 100, USD 5000000 -> USD 5000000`, 'EUR payouts go through the treasury desk'],
      ['client_settings_changed', admin.name, 'request', 'accepted', null, null, `approval thresholds of ${created.body.id}: none -> EUR 100, USD 5000000`, ''],
    ]);
    assert.equal((await call(stack.url, 'PATCH', `/v1/ops/clients/${created.body.id}`, { key: alice.key, body: { approvalThresholdMinor: { USD: null } } })).status, 403, 'an operator cannot loosen it');
    assert.equal((await auditOf(`clientId=${created.body.id}`)).length, 2);

    const temp = await post('/v1/ops/operators', admin, { name: `temp-${Date.now()}`, role: 'operator' });
    assert.equal(temp.status, 201);
    assert.match(temp.body.apiKey, /^ry_ops_/);
    assert.equal((await get('/v1/ops/transfers', { key: temp.body.apiKey })).status, 200);
    const revoked = await call(stack.url, 'DELETE', `/v1/ops/operators/${temp.body.id}`, { key: admin.key });
    assert.equal(revoked.status, 200);
    assert.ok(revoked.body.revokedAt);
    const after = await get('/v1/ops/transfers', { key: temp.body.apiKey });
    assert.equal(after.status, 401);
    assert.equal(after.body.error.code, 'unauthenticated');
  });

  it('a payout at its client\'s threshold waits in needs_approval; a viewer and the client cannot decide; approved, it completes', async () => {
    const client = await apiClient(stack, 'Big Payouts Co', 20_000);
    assert.equal((await call(stack.url, 'PATCH', `/v1/ops/clients/${client.id}`, { key: admin.key, body: { approvalThresholdMinor: { USD: 5_000 } } })).status, 200);
    const small = await payout(client, 4_999);
    const big = await payout(client, 5_000);
    await statusOf(client, big, 'needs_approval');
    await statusOf(client, small, 'completed');
    assert.deepEqual(await balance(client), { currency: 'USD', availableMinor: 20_000 - 4_999 - 5_000, heldMinor: 5_000 }, 'held while it waits');

    const pending = await get('/v1/ops/approvals?status=pending&kind=payout&limit=100', viewer);
    const approval = pending.body.data.find((a: { transferId: string }) => a.transferId === big);
    assert.ok(approval, 'listed for a second person');
    assert.equal(pending.body.data.filter((a: { transferId: string }) => a.transferId === small).length, 0, 'below the threshold, no approval');
    assert.deepEqual([approval.kind, approval.status, approval.requestedBy], ['payout', 'pending', `client:${client.id}`]);

    assert.equal((await post(`/v1/ops/approvals/${approval.id}/approve`, viewer, { reason: 'ok' })).status, 403);
    assert.equal((await post(`/v1/ops/approvals/${approval.id}/approve`, client, { reason: 'ok' })).status, 403);
    const approved = await post(`/v1/ops/approvals/${approval.id}/approve`, alice, { reason: 'confirmed by phone with the client' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.deepEqual([approved.body.status, approved.body.decidedBy, approved.body.outcome], ['approved', alice.name, 'done: the payout goes on']);
    const done = await statusOf(client, big, 'completed');
    assert.deepEqual(done.body.events.map((e: { status: string }) => e.status).slice(0, 4), ['created', 'funds_held', 'needs_approval', 'funds_held']);
    assert.match(done.body.events[3].reason, new RegExp(`approval ${approval.id} given by ${alice.name}: `));
    const second = await post(`/v1/ops/approvals/${approval.id}/deny`, bob, { reason: 'too late' });
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'invalid_state');

    const audit = await auditOf(`approvalId=${approval.id}`);
    assert.deepEqual(audit.map((e) => [e.action, e.outcome, e.operator]).sort(), [
      ['approval_approved', 'accepted', alice.name],
      ['approval_requested', 'accepted', `client:${client.id}`],
    ]);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('a payout over its threshold denied: canceled, the hold voided, nothing sent to the bank', async () => {
    const client = await apiClient(stack, 'Denied Co', 9_000);
    await call(stack.url, 'PATCH', `/v1/ops/clients/${client.id}`, { key: admin.key, body: { approvalThresholdMinor: { USD: 0 } } });
    const accountNumber = `81${runTag}${String(++seq).padStart(4, '0')}`;
    const id = await payout(client, 7_000, accountNumber);
    await statusOf(client, id, 'needs_approval');
    const approval = (await get('/v1/ops/approvals?status=pending&limit=100', bob)).body.data.find((a: { transferId: string }) => a.transferId === id);
    const denied = await post(`/v1/ops/approvals/${approval.id}/deny`, bob, { reason: 'the client did not mean this beneficiary' });
    assert.equal(denied.status, 200, JSON.stringify(denied.body));
    assert.deepEqual([denied.body.status, denied.body.decidedBy], ['denied', bob.name]);
    const end = await statusOf(client, id, 'canceled');
    assert.equal(end.body.failure.code, 'approval_denied');
    assert.match(end.body.events.at(-1).reason, new RegExp(`approval ${approval.id} denied by ${bob.name}: the client did not mean this beneficiary`));
    assert.deepEqual(await balance(client), { currency: 'USD', availableMinor: 9_000, heldMinor: 0 });
    assert.equal(stack.bank.sim.submissions.filter((s) => s.raw.includes(accountNumber)).length, 0);
    assert.deepEqual((await auditOf(`approvalId=${approval.id}`)).map((e) => [e.action, e.operator]).sort(), [
      ['approval_denied', bob.name],
      ['approval_requested', `client:${client.id}`],
    ]);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('a payout waiting for its approval canceled by its client: the approval is withdrawn, and deciding it is 409', async () => {
    const client = await apiClient(stack, 'Second Thoughts Co', 6_000);
    await call(stack.url, 'PATCH', `/v1/ops/clients/${client.id}`, { key: admin.key, body: { approvalThresholdMinor: { USD: 1_000 } } });
    const id = await payout(client, 2_500);
    await statusOf(client, id, 'needs_approval');
    const approval = (await get('/v1/ops/approvals?status=pending&limit=100', bob)).body.data.find((a: { transferId: string }) => a.transferId === id);
    assert.ok(approval, 'pending while the payout waits');
    const canceled = await call(stack.url, 'POST', `/v1/transfers/${id}/cancel`, { key: client.key, body: {} });
    assert.ok([200, 202].includes(canceled.status), JSON.stringify(canceled.body));
    await statusOf(client, id, 'canceled');
    assert.deepEqual(await balance(client), { currency: 'USD', availableMinor: 6_000, heldMinor: 0 });
    const listed = (await get('/v1/ops/approvals?status=withdrawn&limit=100', viewer)).body.data.find((a: { id: string }) => a.id === approval.id);
    assert.ok(listed, 'listed as withdrawn');
    assert.deepEqual([listed.status, listed.decidedBy, listed.outcome], ['withdrawn', null, 'withdrawn: the transfer ended canceled before anyone decided']);
    assert.equal((await get('/v1/ops/approvals?status=pending&limit=100', viewer)).body.data.filter((a: { id: string }) => a.id === approval.id).length, 0, 'no longer pending');
    const late = await post(`/v1/ops/approvals/${approval.id}/approve`, bob, { reason: 'looks fine' });
    assert.equal(late.status, 409, JSON.stringify(late.body));
    assert.match(late.body.error.message, /was withdrawn .*: withdrawn: the transfer ended canceled/);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  /** A payout the bank's statement shows for `statementMinor` instead: it settles, then waits in needs_attention on the amount_mismatch break. */
  async function mismatched(sentMinor: number, statementMinor: number): Promise<{ client: ApiClient; transferId: string; breakId: string }> {
    const client = await apiClient(stack, 'Mismatch Co', 10_000);
    const accountNumber = `82${runTag}${String(++seq).padStart(4, '0')}`;
    await rule({ match: { accountNumber }, behavior: 'accept', statement: { amountMinor: statementMinor } });
    const transferId = await payout(client, sentMinor, accountNumber);
    const parked = await statusOf(client, transferId, 'needs_attention');
    assert.match(parked.body.events.at(-1).reason, /reconciliation break brk_/);
    const page = await get('/v1/ops/reconciliation/breaks?status=open&kind=amount_mismatch&limit=100', viewer);
    const b = page.body.data.find((x: { transferId: string }) => x.transferId === transferId);
    assert.deepEqual([b.expectedMinor, b.actualMinor], [sentMinor, statementMinor]);
    return { client, transferId, breakId: b.id };
  }

  async function resolve(breakId: string, resolution: 'accept' | 'write_off', reason: string) {
    const asked = await post(`/v1/ops/reconciliation/breaks/${breakId}/resolve`, alice, { resolution, reason });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.deepEqual([asked.body.approval.kind, asked.body.approval.status, asked.body.approval.subjectId], ['break_resolution', 'pending', breakId]);
    const own = await post(`/v1/ops/approvals/${asked.body.approval.id}/approve`, alice, { reason: 'sure' });
    assert.equal(own.status, 403);
    assert.equal(own.body.error.code, 'four_eyes_required');
    const open = (await get(`/v1/ops/reconciliation/breaks?status=open&limit=100`, viewer)).body.data.map((x: { id: string }) => x.id);
    assert.ok(open.includes(breakId), 'nothing booked before the approval');
    const approved = await post(`/v1/ops/approvals/${asked.body.approval.id}/approve`, bob, { reason: 'matches the bank advice' });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    return approved.body;
  }

  it("a break accepted: the bank's 30 more booked to bank_fees with new postings, the break resolved naming who and why, the transfer completes", async () => {
    const { client, transferId, breakId } = await mismatched(2_000, 2_030);
    const approval = await resolve(breakId, 'accept', 'the bank charged a fee on top');
    assert.match(approval.outcome, /^done: booked 30 USD minor units more out of bank_settlement:ach against bank_fees as break_accepted/);
    await statusOf(client, transferId, 'completed');
    const b = (await get(`/v1/ops/reconciliation/breaks?status=resolved&limit=100`, viewer)).body.data.find((x: { id: string }) => x.id === breakId);
    assert.equal(b.resolvedBy, bob.name);
    assert.match(b.resolution, new RegExp(`^accept by ${bob.name} \\(approval ${approval.id}\\): the bank charged a fee on top`));
    const [posting] = await stack.orm.em.fork().find(Posting, { externalId: `${breakId}:accept` });
    assert.deepEqual([posting.kind, posting.amountMinor, posting.code, posting.transferId], ['single', 30, 'break_accepted', transferId]);
    const audit = await auditOf(`approvalId=${approval.id}`);
    assert.deepEqual(audit.map((e) => [e.action, e.outcome, e.operator]).sort(), [
      ['approval_approved', 'accepted', bob.name],
      ['approval_approved', 'refused', alice.name],
      ['approval_requested', 'accepted', alice.name],
      ['break_resolved', 'accepted', bob.name],
      ['retry', 'accepted', bob.name],
    ]);
    const again = await post(`/v1/ops/reconciliation/breaks/${breakId}/resolve`, alice, { resolution: 'write_off', reason: 'twice' });
    assert.equal(again.status, 409, 'a resolved break is resolved');
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('a break written off: the 40 the bank paid less booked to suspense, the transfer completes; an unresolvable resolution is 409', async () => {
    const { client, transferId, breakId } = await mismatched(3_000, 2_960);
    const approval = await resolve(breakId, 'write_off', 'bank short-paid; chasing it separately');
    assert.match(approval.outcome, /^done: booked 40 USD minor units less out of bank_settlement:ach against suspense as break_written_off/);
    await statusOf(client, transferId, 'completed');
    const [posting] = await stack.orm.em.fork().find(Posting, { externalId: `${breakId}:write_off` });
    assert.deepEqual([posting.amountMinor, posting.code], [40, 'break_written_off']);
    const b = (await get(`/v1/ops/reconciliation/breaks?status=resolved&limit=100`, viewer)).body.data.find((x: { id: string }) => x.id === breakId);
    assert.equal(b.resolvedBy, bob.name);
    assert.match(b.resolution, /^write_off by /);
    assert.equal((await post('/v1/ops/reconciliation/breaks/brk_00000000000000000000000000/resolve', alice, { resolution: 'accept', reason: 'x' })).status, 404);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });
});
