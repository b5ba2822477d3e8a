/**
 * Cancel after submission on a rail that can recall (SEPA), through the ops API over real HTTP on
 * the time-skipping Temporal server, MariaDB and the bank simulator. The cancel asks for an
 * approval (four eyes); the recall goes to the bank once a second operator approves: the bank's CNCL cancels the
 * transfer and voids the hold; its RJCR (already settled) is a 409 with its reason and the payout
 * completes; a bank that does not answer parks the transfer with the hold still held until a retry
 * gets the answer; a client's own cancel recalls too; SWIFT still refuses. The camt.056 the bank
 * received is checked against the XSD.
 */
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { railTiming, type TransferTiming } from '../../core/transfer';
import { Attempt, Transfer } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { parseCamt056 } from '../../rails/iso20022/recall';
import { createClient, deposit } from '../../services/clients';
import { cancelSignal, cancelUpdate, statusQuery, type transferWorkflow } from '../../workflows/transfer';
import { call, until } from '../support/api-stack';
import { IBAN_BENEFICIARY, JP_BENEFICIARY, balanceOf, createdFxTransfer, createdTransfer, legsOf, recordedApproval, transferRow } from '../support/fixtures';
import { opsStack, type OpsStack } from '../support/ops-stack';
import { apiOperator, type ApiOperator } from '../support/api-clients';
import { assertValidAgainstXsd } from '../support/xsd';

type Handle = WorkflowHandle<typeof transferWorkflow>;

/**
 * Demo timing, but the workflow asks the bank only every ten minutes: on this server time only
 * skips while a test waits on a result, so between the test's requests the workflow does not
 * poll, and the bank's view (held, released, settled) is what the recall meets.
 */
const SLOW_POLL: TransferTiming = { ...railTiming('demo'), pollIntervalMs: 10 * 60_000, settlementTimeoutMs: 60 * 60_000 };

describe('SEPA recall: cancel after submission through the ops API (time-skipping server, real HTTP)', () => {
  let stack: OpsStack;
  /** Each test's payment is matched by its own amount, so rules never touch another test's. */
  let amountMinor = 2_600;

  /** bob asks for recalls, carol approves them. */
  let bob: ApiOperator;
  let carol: ApiOperator;

  before(async () => {
    stack = await opsStack();
    bob = await apiOperator(stack, 'bob', 'operator');
    carol = await apiOperator(stack, 'carol', 'operator');
  });

  /** bob's cancel of a submitted SEPA payment: a pending recall approval, nothing sent to the bank yet. */
  async function askRecall(transferId: string, reason: string): Promise<string> {
    const asked = await call(stack.url, 'POST', `/v1/ops/transfers/${transferId}/cancel`, { key: bob.key, body: { reason } });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    assert.deepEqual([asked.body.approval.kind, asked.body.approval.status, asked.body.approval.requestedBy], ['recall', 'pending', bob.name]);
    return asked.body.approval.id;
  }

  /** carol approves: the recall is asked of the bank, and the answer is the approval with what the cancel answered. */
  const approve = (approvalId: string) => call(stack.url, 'POST', `/v1/ops/approvals/${approvalId}/approve`, { key: carol.key, body: { reason: 'checked with the client' } });

  afterEach(() => fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' }));

  async function rule(body: unknown): Promise<void> {
    const res = await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201);
  }

  /** A SEPA payout of 25-odd EUR from a client holding 100.00 EUR, submitted and held pending at the bank. */
  async function heldAtBank(): Promise<{ clientId: string; key: string; transferId: string; handle: Handle; reference: string; amount: number }> {
    const em = stack.orm.em.fork() as SqlEntityManager;
    const { client, apiKey } = await createClient(em, 'Recall Test Client');
    await deposit(em, { clientId: client.id, currency: 'EUR', amountMinor: 10_000, reference: `seed-${client.id}` });
    const amount = ++amountMinor;
    const base = await createdTransfer(stack.orm, client.id, amount, IBAN_BENEFICIARY, SLOW_POLL);
    await stack.orm.em.fork().nativeUpdate(Transfer, { id: base.transferId }, { currency: 'EUR', targetCurrency: 'EUR', rail: 'sepa' });
    await rule({ match: { amountMinor: amount, rail: 'sepa' }, behavior: 'hold', times: 1 });
    const handle = await stack.start({ ...base, currency: 'EUR', targetCurrency: 'EUR', rail: 'sepa' });
    const state = await until('submitted', () => handle.query(statusQuery), (s) => s.status === 'submitted', 30_000);
    assert.equal(stack.bank.sim.payments.get(state.railReference!)!.status, 'held');
    return { clientId: client.id, key: apiKey, transferId: base.transferId, handle, reference: state.railReference!, amount };
  }

  const recallsOf = (reference: string) => stack.bank.sim.submissions.filter((s) => s.reference === reference && s.status.startsWith('recall_'));
  const auditOf = async (transferId: string) => (await call(stack.url, 'GET', `/v1/ops/audit?transferId=${transferId}&limit=100`, { key: stack.opsKey })).body.data;
  const attemptOf = (reference: string) => stack.orm.em.fork().findOneOrFail(Attempt, { railReference: reference });

  it('CNCL: a camt.056 goes to the bank, the transfer ends canceled, the hold is voided, the bank never pays', async () => {
    const { clientId, transferId, handle, reference, amount } = await heldAtBank();
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000 - amount, heldMinor: amount });

    const approvalId = await askRecall(transferId, 'client paid the wrong supplier');
    assert.equal(recallsOf(reference).length, 0, 'no recall before the approval');
    const pending = await call(stack.url, 'GET', '/v1/ops/approvals?status=pending&limit=100', { key: carol.key });
    assert.ok(pending.body.data.some((a: { id: string }) => a.id === approvalId), 'listed as pending');
    const own = await call(stack.url, 'POST', `/v1/ops/approvals/${approvalId}/approve`, { key: bob.key, body: { reason: 'I am sure' } });
    assert.equal(own.status, 403, 'four eyes: not by the one who asked');
    assert.equal(own.body.error.code, 'four_eyes_required');
    assert.equal(recallsOf(reference).length, 0);
    const canceled = await approve(approvalId);
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.equal(canceled.body.status, 'approved');
    assert.equal(canceled.body.decidedBy, carol.name);
    assert.match(canceled.body.outcome, /^accepted: canceled: .*the bank recalled .* \(camt.029 CNCL\)/);
    const again = await call(stack.url, 'POST', `/v1/ops/approvals/${approvalId}/deny`, { key: carol.key, body: { reason: 'changed my mind' } });
    assert.equal(again.status, 409, 'a decided approval is decided');
    assert.equal(again.body.error.code, 'invalid_state');

    const [recall, ...more] = recallsOf(reference);
    assert.equal(more.length, 0, 'one recall request');
    assert.equal(recall.status, 'recall_accepted');
    await assertValidAgainstXsd(recall.raw, 'camt.056.001.09');
    const request = parseCamt056(recall.raw);
    assert.equal(request.originalEndToEndId, reference);
    assert.equal(request.cancellationId, `${transferId}:r1`, 'the first recall of the transfer');
    assert.equal(request.amountMinor, amount);
    assert.equal(request.reason, 'CUST');

    const end = await handle.result();
    assert.equal(end.status, 'canceled');
    assert.equal(end.failureCode, 'recalled');
    assert.equal((await transferRow(stack.orm, transferId)).status, 'canceled');
    assert.equal((await attemptOf(reference)).status, 'recalled');
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000, heldMinor: 0 });

    // Days later the bank still has not paid it, and was sent it once.
    await stack.env.sleep('3 days');
    const payment = stack.bank.sim.payments.get(reference)!;
    assert.equal(payment.status, 'canceled');
    assert.equal(payment.settledAtMs, null);
    assert.equal(stack.bank.sim.submissions.filter((s) => s.reference === reference && !s.status.startsWith('recall_')).length, 1);

    const audit = await auditOf(transferId);
    assert.deepEqual(audit.map((e: Record<string, string>) => [e.action, e.outcome, e.operator, e.statusBefore]).sort(), [
      ['approval_approved', 'accepted', carol.name, 'submitted'],
      ['approval_approved', 'refused', bob.name, 'submitted'],
      ['approval_requested', 'accepted', bob.name, 'submitted'],
      ['cancel', 'accepted', carol.name, 'submitted'],
    ]);
    const done = audit.find((e: Record<string, string>) => e.action === 'cancel');
    assert.equal(done.approvalId, approvalId);
    assert.match(done.detail, new RegExp(`carries out approval ${approvalId}`));
    const twice = await call(stack.url, 'POST', `/v1/ops/transfers/${transferId}/cancel`, { key: bob.key, body: { reason: 'again' } });
    assert.equal(twice.status, 409);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('RJCR: after the bank settled it, the approved recall answers refused with the bank\'s reason and the payout completes', async () => {
    const { clientId, transferId, handle, reference, amount } = await heldAtBank();
    // The bank lets it go and settles it before the workflow's next look.
    assert.equal((await fetch(`${stack.bank.url}/sim/payments/${reference}/release`, { method: 'POST' })).status, 200);

    const refused = await approve(await askRecall(transferId, 'too late?'));
    assert.equal(refused.status, 200, JSON.stringify(refused.body));
    assert.equal(refused.body.status, 'approved');
    assert.match(refused.body.outcome, /^refused: the bank refused the recall \(ARDT: .*already settled/);
    assert.deepEqual(recallsOf(reference).map((s) => s.status), ['recall_refused']);
    await assertValidAgainstXsd(recallsOf(reference)[0].raw, 'camt.056.001.09');
    assert.equal((await handle.query(statusQuery)).status, 'submitted', 'nothing was undone');
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000 - amount, heldMinor: amount });

    assert.equal((await handle.result()).status, 'completed');
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000 - amount, heldMinor: 0 });
    assert.equal((await attemptOf(reference)).status, 'settled');
    assert.deepEqual((await auditOf(transferId)).filter((e: Record<string, string>) => e.action === 'cancel').map((e: Record<string, string>) => [e.action, e.outcome, e.operator]), [['cancel', 'accepted', carol.name]]);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('no answer: the transfer parks naming the unanswered recall, nothing is compensated; a retry gets the CNCL', async () => {
    const { clientId, transferId, handle, reference, amount } = await heldAtBank();
    await rule({ match: { amountMinor: amount, rail: 'sepa' }, behavior: 'unavailable' });
    const pendingCancel = approve(await askRecall(transferId, 'duplicate payout'));
    await until('a recall attempt', async () => recallsOf(reference).length, (n) => n > 0, 30_000);
    await stack.env.sleep('10 minutes'); // through BANK_RECALL's budget
    const parked = await pendingCancel;
    assert.equal(parked.status, 200, JSON.stringify(parked.body));
    assert.match(parked.body.outcome, /^accepted: needs_attention: the bank did not answer the recall of .*nothing was compensated/);
    const state = await handle.query(statusQuery);
    assert.equal(state.status, 'needs_attention');
    assert.equal(state.waitingFor?.step, 'recall');
    assert.ok(recallsOf(reference).every((s) => s.status === 'recall_unavailable'));
    assert.equal(stack.bank.sim.payments.get(reference)!.status, 'held', 'the bank still has it');
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000 - amount, heldMinor: amount }, 'the hold stands');

    const cancelAgain = await call(stack.url, 'POST', `/v1/ops/transfers/${transferId}/cancel`, { key: bob.key, body: { reason: 'now?' } });
    assert.equal(cancelAgain.status, 409);
    assert.match(cancelAgain.body.error.message, /recall of .* is unanswered; retry sends it again/);

    await fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' });
    const retried = await call(stack.url, 'POST', `/v1/ops/transfers/${transferId}/retry`, { key: bob.key, body: { reason: 'bank back' } });
    assert.equal(retried.status, 200, JSON.stringify(retried.body));
    assert.equal(retried.body.status, 'canceled');
    assert.equal((await handle.result()).status, 'canceled');
    assert.equal(stack.bank.sim.payments.get(reference)!.status, 'canceled');
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000, heldMinor: 0 });
    assert.deepEqual((await auditOf(transferId)).map((e: Record<string, string>) => [e.action, e.outcome]).sort(), [
      ['approval_approved', 'accepted'],
      ['approval_requested', 'accepted'],
      ['cancel', 'accepted'],
      ['cancel', 'refused'],
      ['retry', 'accepted'],
    ]);
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it('CNCL on a cross-currency payout: the conversion is unwound and the client made whole', async () => {
    const em = stack.orm.em.fork() as SqlEntityManager;
    const { client } = await createClient(em, 'Recall Test Client (fx)');
    await deposit(em, { clientId: client.id, currency: 'USD', amountMinor: 10_000, reference: `seed-${client.id}` });
    const { input, quote } = await createdFxTransfer(stack.orm, client.id, 5_000, 'USD', 'EUR', IBAN_BENEFICIARY);
    await stack.orm.em.fork().nativeUpdate(Transfer, { id: input.transferId }, { rail: 'sepa' });
    await rule({ match: { amountMinor: quote.targetAmountMinor, rail: 'sepa' }, behavior: 'hold', times: 1 });
    const handle = await stack.start({ ...input, rail: 'sepa', timing: SLOW_POLL });
    const { railReference } = await until('submitted', () => handle.query(statusQuery), (s) => s.status === 'submitted', 30_000);

    const canceled = await approve(await askRecall(input.transferId, 'wrong currency'));
    assert.equal(canceled.status, 200, JSON.stringify(canceled.body));
    assert.match(canceled.body.outcome, /^accepted: canceled/);
    assert.equal(parseCamt056(recallsOf(railReference!)[0].raw).amountMinor, quote.targetAmountMinor, 'the recall names the EUR amount sent');
    assert.equal((await handle.result()).status, 'canceled');
    assert.deepEqual(await balanceOf(stack.orm, client.id, 'USD'), { currency: 'USD', availableMinor: 10_000, heldMinor: 0 });
    const codes = (await legsOf(stack.orm, input.transferId)).map((l) => l.code);
    assert.ok(codes.includes('fx_unwind_target_leg') && codes.includes('fx_unwind_source_leg'), `the conversion was unwound: ${codes.join(', ')}`);
    assert.ok(!codes.includes('payout_settled'), 'nothing was paid out');
    assert.deepEqual(await auditLedger(stack.orm.em), []);
  });

  it("the client's own cancel after submission is 409 (a recall is four eyes, through operators); another client's is 404; neither recalls", async () => {
    const { clientId, key, transferId, handle, reference, amount } = await heldAtBank();
    const other = await heldAtBank();
    assert.equal((await call(stack.url, 'POST', `/v1/transfers/${transferId}/cancel`, { key: other.key, body: { reason: 'not mine' } })).status, 404);
    const refused = await call(stack.url, 'POST', `/v1/transfers/${transferId}/cancel`, { key, body: { reason: 'sent twice' } });
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'invalid_state');
    assert.match(refused.body.error.message, /a recall of tr_\S+ needs an approval by a second person \(four eyes\)/);
    assert.equal(recallsOf(reference).length, 0, 'no recall reached the bank');
    assert.deepEqual((await auditOf(transferId)).map((e: Record<string, string>) => [e.action, e.outcome, e.operator]), [['cancel', 'refused', `client:${clientId}`]]);
    // Both payouts go on: released, each settles and completes.
    for (const p of [{ handle, reference }, other]) {
      await fetch(`${stack.bank.url}/sim/payments/${p.reference}/release`, { method: 'POST' });
      // Read in real time, not by awaiting the result: time skipping (the server's one clock, which the
      // other suites' long waits share) would carry the other payout past its settlement deadline.
      await until('the payout completed', () => p.handle.query(statusQuery), (s) => s.status === 'completed', 30_000);
      await p.handle.terminate('the test has seen it complete; its return window is not under test').catch(() => undefined);
    }
    assert.deepEqual(await balanceOf(stack.orm, clientId, 'EUR'), { currency: 'EUR', availableMinor: 10_000 - amount, heldMinor: 0 });
  });

  it('through Temporal (Update, signal, Request Cancellation) a recall without an approval is refused and audited; one naming an approval that is not a second person\'s is refused; none reaches the bank', async () => {
    const { transferId, handle, reference } = await heldAtBank();
    const bare = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'from the CLI', operator: 'mallory' }] }).then(
      () => 'taken',
      (err: Error & { cause?: Error }) => err.cause?.message ?? err.message,
    );
    assert.match(bare, /a recall of tr_\S+ needs an approval by a second person \(four eyes\)/);
    await handle.signal(cancelSignal, { reason: 'by signal', operator: 'mallory' });
    await handle.cancel();
    const forged = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'named one', operator: 'mallory', approvalId: 'apr_made_up' }] });
    assert.equal(forged.accepted, false);
    assert.match(forged.message, /^refused: four eyes: there is no approval apr_made_up/);
    const own = await recordedApproval(stack.orm, transferId, 'recall', { requestedBy: 'mallory', decidedBy: 'mallory' });
    assert.match((await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'my own', operator: 'mallory', approvalId: own }] })).message, /was not decided by a second person/);
    const audit = await until('five refusals audited', () => auditOf(transferId), (rows) => rows.length >= 5, 20_000);
    assert.ok(audit.every((e: Record<string, string>) => e.outcome === 'refused'), JSON.stringify(audit));
    assert.deepEqual(audit.map((e: Record<string, string>) => e.channel).sort(), ['temporal', 'temporal', 'temporal', 'temporal', 'temporal']);
    assert.equal(recallsOf(reference).length, 0, 'no recall reached the bank');
    assert.equal((await handle.query(statusQuery)).status, 'submitted');
    await fetch(`${stack.bank.url}/sim/payments/${reference}/release`, { method: 'POST' });
    await until('completed', () => handle.query(statusQuery), (s) => s.status === 'completed', 30_000);
    await handle.terminate('the test has seen it complete; its return window is not under test').catch(() => undefined);
  });

  it('SWIFT after submission is still 409: it cannot recall', async () => {
    const em = stack.orm.em.fork() as SqlEntityManager;
    const { client } = await createClient(em, 'Recall Test Client (swift)');
    await deposit(em, { clientId: client.id, currency: 'USD', amountMinor: 10_000, reference: `seed-${client.id}` });
    const amount = ++amountMinor;
    const base = await createdTransfer(stack.orm, client.id, amount, JP_BENEFICIARY);
    await stack.orm.em.fork().nativeUpdate(Transfer, { id: base.transferId }, { rail: 'swift' });
    await rule({ match: { amountMinor: amount, rail: 'swift' }, behavior: 'hold', times: 1 });
    const handle = await stack.start({ ...base, rail: 'swift' });
    const { railReference } = await until('submitted', () => handle.query(statusQuery), (s) => s.status === 'submitted', 30_000);
    const refused = await call(stack.url, 'POST', `/v1/ops/transfers/${base.transferId}/cancel`, { key: bob.key, body: { reason: 'wrong account' } });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /swift cannot recall it/);
    assert.equal(recallsOf(railReference!).length, 0);
    await fetch(`${stack.bank.url}/sim/payments/${railReference}/release`, { method: 'POST' });
    assert.equal((await handle.result()).status, 'completed');
  });
});
