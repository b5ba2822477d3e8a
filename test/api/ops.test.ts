/**
 * Operator controls end to end: stuck transfers retried and canceled through the ops API and with
 * the real `temporal workflow signal` CLI, late returns accepted through the ops API and dishonored
 * from the CLI, the client's own cancel, the operator transfer list and the audit log — over real HTTP, on the time-skipping Temporal server (so a bank outage exhausts
 * its retry budget at once), MariaDB and the bank simulator.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { findBinary } from '../../devtools/temporal';
import { SEARCH_ATTRIBUTES, type TransferTiming } from '../../core/transfer';
import { auditLedger } from '../../ledger/auditor';
import { createClient, deposit } from '../../services/clients';
import { statusQuery, type transferWorkflow } from '../../workflows/transfer';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { BENEFICIARY, balanceOf, createdTransfer, transferRow } from '../support/fixtures';
import { opsStack, type OpsStack } from '../support/ops-stack';
import { apiOperator, type ApiOperator } from '../support/api-clients';

type Handle = WorkflowHandle<typeof transferWorkflow>;

/** RAIL_TIME=real's return watch (a look a day for 62 days), so days can be skipped to a late return. */
const LONG_WATCH: TransferTiming = { pollIntervalMs: 1_000, settlementTimeoutMs: 5 * 60_000, returnWindowMs: 62 * 86_400_000, returnPollIntervalMs: 86_400_000, reconcileWindowMs: 60_000, reconcilePollIntervalMs: 2_000 };

describe('ops API and CLI over stuck transfers (time-skipping server, real HTTP)', () => {
  let stack: OpsStack;
  let seq = 0;
  /** Two people with the operator role: the audit names them from their keys. */
  let alice: ApiOperator;
  let bob: ApiOperator;

  before(async () => {
    stack = await opsStack();
    alice = await apiOperator(stack, 'alice', 'operator');
    bob = await apiOperator(stack, 'bob', 'operator');
  });

  afterEach(() => fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' }));

  async function client(): Promise<{ clientId: string; key: string }> {
    const em = stack.orm.em.fork() as SqlEntityManager;
    const { client: row, apiKey } = await createClient(em, 'Ops Test Client');
    await deposit(em, { clientId: row.id, currency: 'USD', amountMinor: 5_000, reference: `seed-${row.id}` });
    return { clientId: row.id, key: apiKey };
  }

  async function rule(body: unknown): Promise<void> {
    const res = await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
  }

  async function statusReached(handle: Handle, status: string): Promise<void> {
    await until(`status ${status}`, () => handle.query(statusQuery), (s) => s.status === status, 30_000);
  }

  /**
   * A transfer parked in needs_attention: the bank refused it (503) through BANK_SUBMIT's whole
   * budget. Over RTP, one instruction per payout, so the payout's own submit step meets the outage
   * (an ACH payout's window file meets it instead: test/workflows/bank-behaviors.test.ts).
   */
  async function stuck(): Promise<{ clientId: string; key: string; transferId: string; handle: Handle; accountNumber: string }> {
    const { clientId, key } = await client();
    const accountNumber = `73${String(++seq).padStart(7, '0')}`;
    const input = await createdTransfer(stack.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber }, undefined, 'rtp');
    await rule({ match: { accountNumber }, behavior: 'unavailable' });
    const handle = await stack.start(input);
    await stack.env.sleep('30 minutes'); // through the submission's retry budget
    await statusReached(handle, 'needs_attention');
    return { clientId, key, transferId: input.transferId, handle, accountNumber };
  }

  /** A completed payout (on the long return watch) whose R02 return comes nine days late: needs_attention. */
  async function lateReturn(): Promise<{ clientId: string; transferId: string; handle: Handle }> {
    const { clientId } = await client();
    const accountNumber = `76${String(++seq).padStart(7, '0')}`;
    const input = await createdTransfer(stack.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber }, LONG_WATCH);
    const handle = await stack.start(input);
    await statusReached(handle, 'completed');
    await stack.env.sleep('10 days');
    const res = await fetch(`${stack.bank.url}/sim/payments/${(await handle.query(statusQuery)).railReference}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"R02"}' });
    assert.equal(res.status, 200, await res.text());
    await stack.env.sleep('1 day'); // the return file reaches it through the ACH inbox meanwhile
    await statusReached(handle, 'needs_attention');
    return { clientId, transferId: input.transferId, handle };
  }

  const sentTo = (accountNumber: string) => stack.bank.sim.submissions.filter((s) => s.raw.includes(accountNumber) && s.status !== 'unavailable').length;
  const auditOf = async (transferId: string) => (await call(stack.url, 'GET', `/v1/ops/audit?transferId=${transferId}&limit=100`, { key: stack.opsKey })).body.data;

  async function temporalCli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const binary = findBinary('temporal');
    assert.ok(binary, 'the temporal CLI is installed (scripts/bootstrap-tools.sh)');
    return promisify(execFile)(binary, [...args, '--address', stack.env.address, '--namespace', 'default'], { timeout: 30_000 });
  }

  it('lists stuck transfers of any client for ops, and refuses clients and unknown statuses', async () => {
    const { key, transferId, handle } = await stuck();
    assert.equal((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.status), 'needs_attention', 'TransferStatus is current');
    const list = await call(stack.url, 'GET', '/v1/ops/transfers?status=needs_attention&limit=100', { key: stack.opsKey });
    assert.equal(list.status, 200);
    assert.equal(list.body.object, 'list');
    const mine = list.body.data.find((t: { id: string }) => t.id === transferId);
    assert.ok(mine, 'the stuck transfer is listed');
    assert.equal(mine.status, 'needs_attention');
    assert.match(mine.events.at(-1).reason, /submitPayout failed after its retries: bank answered 503/);
    assert.ok(list.body.data.every((t: { status: string }) => t.status === 'needs_attention'));
    assert.equal((await call(stack.url, 'GET', '/v1/ops/transfers', { key })).status, 403);
    const bad = await call(stack.url, 'GET', '/v1/ops/transfers?status=stuck', { key: stack.opsKey });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.param, 'status');
  });

  it('retry through the ops API: the operator is the key\'s, the bank takes the payment once, the action is audited', async () => {
    const { transferId, handle, accountNumber } = await stuck();
    const path = `/v1/ops/transfers/${transferId}/retry`;

    const named = await call(stack.url, 'POST', path, { key: alice.key, body: { reason: 'bank back', operator: 'mallory' } });
    assert.equal(named.status, 400, 'no one acts in a name they type');
    assert.equal(named.body.error.param, 'operator');
    const noReason = await call(stack.url, 'POST', path, { key: alice.key, body: {} });
    assert.equal(noReason.status, 400);
    assert.equal(noReason.body.error.param, 'reason');
    assert.deepEqual(await auditOf(transferId), [], 'requests refused before reaching the workflow are not operator actions');

    await fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' });
    const idempotencyKey = `retry-${transferId}`;
    // X-Operator is ignored: the audit names the key's operator.
    const retried = await call(stack.url, 'POST', path, { key: alice.key, body: { reason: 'bank back up' }, headers: { 'x-operator': 'mallory' }, idempotencyKey });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.deepEqual(retried.body, { object: 'operator_action_result', transferId, action: 'retry', accepted: true, status: 'submitted', message: 'submitted' });
    const replay = await call(stack.url, 'POST', path, { key: alice.key, body: { reason: 'bank back up' }, idempotencyKey });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, retried.body);

    assert.equal((await handle.result()).status, 'completed');
    assert.equal(sentTo(accountNumber), 1, 'the bank took the payment once');

    const again = await call(stack.url, 'POST', path, { key: alice.key, body: { reason: 'once more' } });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'invalid_state');
    assert.match(again.body.error.message, /is completed/);

    const entries = await auditOf(transferId);
    assert.deepEqual(
      // Sorted: the workflow stamps actions with its own clock, which the test server has moved ahead.
      entries.map((e: Record<string, string>) => [e.action, e.outcome, e.operator, e.reason, e.channel, e.via]).sort(),
      [
        ['retry', 'accepted', alice.name, 'bank back up', 'api', 'update'],
        ['retry', 'refused', alice.name, 'once more', 'api', 'update'],
      ],
    );
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('cancel through the ops API: the hold is voided, nothing reached the bank; a second cancel is 409', async () => {
    const { clientId, transferId, handle, accountNumber } = await stuck();
    const path = `/v1/ops/transfers/${transferId}/cancel`;
    const canceled = await call(stack.url, 'POST', path, { key: bob.key, body: { reason: 'bank down for the week' } });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.accepted, true);
    assert.equal((await handle.result()).status, 'canceled');
    assert.equal((await transferRow(stack.orm, transferId)).status, 'canceled');
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    assert.equal(sentTo(accountNumber), 0);
    const twice = await call(stack.url, 'POST', path, { key: bob.key, body: { reason: 'again' } });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'invalid_state');
    const named = await call(stack.url, 'POST', path, { key: bob.key, body: { reason: 'x', operator: 'eve' } });
    assert.equal(named.status, 400);
    assert.equal(named.body.error.param, 'operator');
    const page1 = await call(stack.url, 'GET', `/v1/ops/audit?transferId=${transferId}&limit=1`, { key: stack.opsKey });
    assert.equal(page1.body.hasMore, true);
    const page2 = await call(stack.url, 'GET', `/v1/ops/audit?transferId=${transferId}&limit=1&startingAfter=${page1.body.data[0].id}`, { key: stack.opsKey });
    assert.equal(page2.body.hasMore, false);
    assert.equal(page2.body.data.length, 1);
    assert.notEqual(page2.body.data[0].id, page1.body.data[0].id);
    assert.equal((await call(stack.url, 'GET', `/v1/ops/audit?startingAfter=nope`, { key: stack.opsKey })).body.error.param, 'startingAfter');
    assert.deepEqual((await auditOf(transferId)).map((e: Record<string, string>) => [e.action, e.outcome, e.operator]).sort(), [
      ['cancel', 'accepted', bob.name],
      ['cancel', 'refused', bob.name],
    ]);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('client cancel: its own stuck transfer before submission is canceled; after submission it is 409; another client gets 404', async () => {
    const { clientId, key, transferId, handle } = await stuck();
    const other = await client();
    assert.equal((await call(stack.url, 'POST', `/v1/transfers/${transferId}/cancel`, { key: other.key })).status, 404);
    const canceled = await call(stack.url, 'POST', `/v1/transfers/${transferId}/cancel`, { key });
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.equal(canceled.body.status, 'canceled');
    assert.equal(canceled.body.cancellation.accepted, true);
    assert.equal((await handle.result()).status, 'canceled');
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });

    // A payment the bank holds: submitted, so the client can no longer cancel it.
    const accountNumber = `74${String(++seq).padStart(7, '0')}`;
    const input = await createdTransfer(stack.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber });
    await rule({ match: { accountNumber }, behavior: 'hold' });
    const held = await stack.start(input);
    // An ACH entry's acceptance is recorded by the window's send: the database says submitted first.
    await until('submitted', () => transferRow(stack.orm, input.transferId), (t) => t.status === 'submitted', 30_000);
    const refused = await call(stack.url, 'POST', `/v1/transfers/${input.transferId}/cancel`, { key, body: { reason: 'changed my mind' } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'invalid_state');
    assert.match(refused.body.error.message, /cannot recall it/);
    const { railReference } = await held.query(statusQuery);
    await fetch(`${stack.bank.url}/sim/payments/${railReference}/release`, { method: 'POST' });
    assert.equal((await held.result()).status, 'completed');
    const entries = await auditOf(input.transferId);
    assert.deepEqual(entries.map((e: Record<string, string>) => [e.action, e.outcome, e.operator, e.reason]), [['cancel', 'refused', `client:${clientId}`, 'changed my mind']]);
  });

  it('retry with `temporal workflow signal` from the CLI: completes, submitted once, audited as a signal', async () => {
    const { transferId, handle, accountNumber } = await stuck();
    await fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' });
    await temporalCli('workflow', 'signal', '--workflow-id', `transfer-${transferId}`, '--name', 'retry', '--input', '{"reason":"bank back up","operator":"alice"}');
    assert.equal((await handle.result()).status, 'completed');
    assert.equal(sentTo(accountNumber), 1);
    const [entry] = await auditOf(transferId);
    assert.deepEqual([entry.action, entry.outcome, entry.operator, entry.channel, entry.via], ['retry', 'accepted', 'alice', 'temporal', 'signal']);
  });

  it('cancel with `temporal workflow signal` from the CLI: canceled, the hold voided; a malformed signal is refused and audited', async () => {
    const { clientId, transferId, handle, accountNumber } = await stuck();
    await temporalCli('workflow', 'signal', '--workflow-id', `transfer-${transferId}`, '--name', 'cancel', '--input', '{"reason":"","operator":"mallory"}');
    await until('the refused signal in the audit log', () => auditOf(transferId), (rows) => rows.length === 1);
    assert.equal((await handle.query(statusQuery)).status, 'needs_attention', 'a cancel without a reason changes nothing');
    await temporalCli('workflow', 'signal', '--workflow-id', `transfer-${transferId}`, '--name', 'cancel', '--input', '{"reason":"beneficiary closed","operator":"bob"}');
    assert.equal((await handle.result()).status, 'canceled');
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    assert.equal(sentTo(accountNumber), 0);
    const entries = await auditOf(transferId);
    assert.deepEqual(entries.map((e: Record<string, string>) => [e.action, e.outcome, e.operator, e.via]).sort(), [
      ['cancel', 'accepted', 'bob', 'signal'],
      ['cancel', 'refused', 'mallory', 'signal'],
    ]);
    assert.match(entries.find((e: Record<string, string>) => e.outcome === 'refused').detail, /reason is required/);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('a late return accepted through the ops API once a second operator approves: returned, the client credited back with new postings, audited; retry and cancel refused with the reason', async () => {
    const { clientId, transferId, handle } = await lateReturn();
    const path = `/v1/ops/transfers/${transferId}/return-decision`;
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 }, 'paid out, not yet credited back');
    const listed = await call(stack.url, 'GET', '/v1/ops/transfers?status=needs_attention&limit=100', { key: stack.opsKey });
    assert.match(listed.body.data.find((t: { id: string }) => t.id === transferId).events.at(-1).reason, /^late return R02 \(Account closed\) .*: an operator accepts or dishonors it/);

    const badDecision = await call(stack.url, 'POST', path, { key: alice.key, body: { decision: 'refund', reason: 'x' } });
    assert.equal(badDecision.status, 400);
    assert.equal(badDecision.body.error.param, 'decision');
    const named = await call(stack.url, 'POST', path, { key: alice.key, body: { decision: 'accept', reason: 'x', operator: 'bob' } });
    assert.equal(named.status, 400);
    assert.equal(named.body.error.param, 'operator');
    const retry = await call(stack.url, 'POST', `/v1/ops/transfers/${transferId}/retry`, { key: alice.key, body: { reason: 'try again' } });
    assert.equal(retry.status, 409);
    assert.equal(retry.body.error.code, 'invalid_state');
    assert.match(retry.body.error.message, /waits for a returnDecision \(accept or dishonor\), not a retry/);
    const cancel = await call(stack.url, 'POST', `/v1/ops/transfers/${transferId}/cancel`, { key: alice.key, body: { reason: 'undo' } });
    assert.equal(cancel.status, 409);
    assert.match(cancel.body.error.message, /not a cancel/);

    // Accepting the return pays the client back: it waits for a second person.
    const idempotencyKey = `accept-${transferId}`;
    const asked = await call(stack.url, 'POST', path, { key: alice.key, body: { decision: 'accept', reason: 'the RDFI proved the account closed' }, idempotencyKey });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.equal(asked.body.approval.status, 'pending');
    assert.equal(asked.body.approval.kind, 'return_accept');
    assert.equal(asked.body.approval.requestedBy, alice.name);
    const replay = await call(stack.url, 'POST', path, { key: alice.key, body: { decision: 'accept', reason: 'the RDFI proved the account closed' }, idempotencyKey });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, asked.body);
    const approvalId = asked.body.approval.id;
    assert.equal((await handle.query(statusQuery)).status, 'needs_attention', 'nothing happens before the approval');
    const own = await call(stack.url, 'POST', `/v1/ops/approvals/${approvalId}/approve`, { key: alice.key, body: { reason: 'looks right' } });
    assert.equal(own.status, 403);
    assert.equal(own.body.error.code, 'four_eyes_required');
    const approved = await call(stack.url, 'POST', `/v1/ops/approvals/${approvalId}/approve`, { key: bob.key, body: { reason: 'saw the RDFI letter' } });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.status, 'approved');
    assert.equal(approved.body.decidedBy, bob.name);
    assert.equal(approved.body.outcome, `accepted: returned: late return R02 accepted by ${bob.name}: the RDFI proved the account closed`);

    const final = await handle.result();
    assert.equal(final.status, 'returned');
    assert.equal(final.failureCode, 'R02');
    assert.equal((await transferRow(stack.orm, transferId)).status, 'returned');
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 5_000, heldMinor: 0 });
    assert.deepEqual(await auditLedger(stack.orm.em), []);

    const entries = await until('six audit rows', () => auditOf(transferId), (rows) => rows.length === 6);
    assert.deepEqual(entries.map((e: Record<string, string>) => [e.action, e.outcome, e.operator, e.channel, e.via, e.statusBefore]).sort(), [
      ['approval_approved', 'accepted', bob.name, 'api', 'approval', 'needs_attention'],
      ['approval_approved', 'refused', alice.name, 'api', 'approval', 'needs_attention'],
      ['approval_requested', 'accepted', alice.name, 'api', 'approval', 'needs_attention'],
      ['cancel', 'refused', alice.name, 'api', 'update', 'needs_attention'],
      ['retry', 'refused', alice.name, 'api', 'update', 'needs_attention'],
      ['returnDecision', 'accepted', bob.name, 'api', 'update', 'needs_attention'],
    ]);
    const decided = entries.find((e: Record<string, string>) => e.action === 'returnDecision');
    assert.equal(decided.reason, 'the RDFI proved the account closed');
    assert.equal(decided.approvalId, approvalId);
    assert.match(decided.detail, new RegExp(`^decision accept: accepted while needs_attention \\(carries out approval ${approvalId}\\)`));
  });

  it('a late return dishonored with `temporal workflow signal --name returnDecision` from the CLI: stays completed, the client not credited, audited as a signal', async () => {
    const { clientId, transferId, handle } = await lateReturn();
    await temporalCli('workflow', 'signal', '--workflow-id', `transfer-${transferId}`, '--name', 'returnDecision', '--input', '{"decision":"dishonor","reason":"untimely, dishonored with R68","operator":"bob"}');
    const final = await handle.result();
    assert.equal(final.status, 'completed');
    assert.match(final.reason ?? '', /return R02 dishonored by bob: untimely, dishonored with R68/);
    const row = await transferRow(stack.orm, transferId);
    assert.equal(row.status, 'completed');
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
    const transfer = (await call(stack.url, 'GET', '/v1/ops/transfers?status=completed&limit=100', { key: stack.opsKey })).body.data.find((t: { id: string }) => t.id === transferId);
    assert.deepEqual(transfer.events.slice(-3).map((e: { status: string }) => e.status), ['completed', 'needs_attention', 'completed']);
    assert.match(transfer.events.at(-1).reason, /dishonored by bob/);
    const [entry] = await until('the audit row', () => auditOf(transferId), (rows) => rows.length === 1);
    assert.deepEqual([entry.action, entry.outcome, entry.operator, entry.channel, entry.via], ['returnDecision', 'accepted', 'bob', 'temporal', 'signal']);
    assert.match(entry.detail, /^decision dishonor: /);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('return-decision on a transfer that waits on none is 409 with the reason, and audited as refused', async () => {
    const { clientId } = await client();
    const accountNumber = `77${String(++seq).padStart(7, '0')}`;
    const input = await createdTransfer(stack.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber }, LONG_WATCH);
    const handle = await stack.start(input);
    await statusReached(handle, 'completed'); // in its return watch: running, nothing returned
    const noApproval = await call(stack.url, 'POST', `/v1/ops/transfers/${input.transferId}/return-decision`, { key: alice.key, body: { decision: 'accept', reason: 'client says it bounced' } });
    assert.equal(noApproval.status, 409, 'no approval is asked for a return nobody waits on');
    assert.match(noApproval.body.error.message, /is completed and waits on no return decision/);
    const refused = await call(stack.url, 'POST', `/v1/ops/transfers/${input.transferId}/return-decision`, { key: alice.key, body: { decision: 'dishonor', reason: 'client says it bounced' } });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'invalid_state');
    assert.match(refused.body.error.message, /is completed and waits on no return decision/);
    const [entry] = await until('the refusal in the audit log', () => auditOf(input.transferId), (rows) => rows.length === 1);
    assert.deepEqual([entry.action, entry.outcome, entry.operator, entry.channel, entry.via, entry.statusBefore], ['returnDecision', 'refused', alice.name, 'api', 'update', 'completed']);
    assert.match(entry.detail, /^decision dishonor: transfer \S+ is completed and waits on no return decision/);
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
    // Through the rest of the return window (the server skips the days while the result is awaited): nothing changed.
    assert.equal((await handle.result()).status, 'completed');
    assert.deepEqual(await balanceOf(stack.orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
  });

  it('an Update from the CLI that the state does not allow is refused with the reason, and audited by the worker', async () => {
    const { clientId } = await client();
    const accountNumber = `75${String(++seq).padStart(7, '0')}`;
    const input = await createdTransfer(stack.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber });
    await rule({ match: { accountNumber }, behavior: 'hold' });
    const handle = await stack.start(input);
    await until('submitted', () => transferRow(stack.orm, input.transferId), (t) => t.status === 'submitted', 30_000);
    const failed = await temporalCli('workflow', 'update', 'execute', '--workflow-id', `transfer-${input.transferId}`, '--name', 'cancel', '--input', '{"reason":"client asked","operator":"olga"}').then(
      () => assert.fail('the CLI update was accepted'),
      (err: { stderr?: string; stdout?: string }) => `${err.stderr ?? ''}${err.stdout ?? ''}`,
    );
    assert.match(failed, /cannot recall it/);
    const rows = await until('the refusal in the audit log', () => auditOf(input.transferId), (r) => r.length === 1);
    assert.deepEqual([rows[0].action, rows[0].outcome, rows[0].operator, rows[0].channel, rows[0].via], ['cancel', 'refused', 'olga', 'temporal', 'update']);
    const { railReference } = await handle.query(statusQuery);
    await fetch(`${stack.bank.url}/sim/payments/${railReference}/release`, { method: 'POST' });
    assert.equal((await handle.result()).status, 'completed');
  });
});

describe('ops API on the Temporal dev server (the npm start stack)', () => {
  let stack: ApiStack;

  before(async () => {
    stack = await apiStack();
  });

  it('refuses retry and cancel of a completed payout with 409 and the reason, and audits both', async () => {
    const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name: 'Dev Server Ops' } });
    const key = created.body.apiKey;
    await call(stack.url, 'POST', `/v1/ops/clients/${created.body.id}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor: 10_000, reference: 'wire-ops-1' } });
    const transfer = await call(stack.url, 'POST', '/v1/transfers', { key, body: { amountMinor: 1_000, currency: 'USD', beneficiary: BENEFICIARY } });
    assert.equal(transfer.status, 201, JSON.stringify(transfer.body));
    const id = transfer.body.id;
    await until('completed', () => call(stack.url, 'GET', `/v1/transfers/${id}`, { key }), (r) => r.body.status === 'completed');

    const retry = await call(stack.url, 'POST', `/v1/ops/transfers/${id}/retry`, { key: stack.opsKey, body: { reason: 'just in case' } });
    assert.equal(retry.status, 409);
    assert.equal(retry.body.error.code, 'invalid_state');
    assert.match(retry.body.error.message, /is completed; there is nothing to retry/);
    const cancel = await call(stack.url, 'POST', `/v1/transfers/${id}/cancel`, { key });
    assert.equal(cancel.status, 409);
    assert.match(cancel.body.error.message, /is completed; there is nothing to cancel/);

    const audit = await until('two audit rows', () => call(stack.url, 'GET', `/v1/ops/audit?transferId=${id}`, { key: stack.opsKey }), (r) => r.body.data.length === 2);
    assert.deepEqual(audit.body.data.map((e: Record<string, string>) => [e.action, e.outcome, e.statusBefore]).sort(), [
      ['cancel', 'refused', 'completed'],
      ['retry', 'refused', 'completed'],
    ]);
  });
});
