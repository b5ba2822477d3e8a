/**
 * Settled becomes completed only on a statement match: payouts on the time-skipping server with
 * the real activities, MariaDB, and the bank simulator's camt.053 statements over HTTP.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { TerminatedFailure } from '@temporalio/common';
import { railTiming } from '../../core/transfer';
import { BankInboxFact, ReconciliationBreak, ReconciliationMatch, TransferEvent } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { retrySignal, statusQuery, type transferWorkflow } from '../../workflows/transfer';
import type { RunningSim } from '../support/global';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { until } from '../support/api-stack';
import { BENEFICIARY, createdTransfer, fundedClient, postingsOf, transferRow } from '../support/fixtures';
import { assertValidAgainstXsd } from '../support/xsd';

describe('reconciliation before completion (time-skipping server)', () => {
  let orm: MikroORM;
  let bank: RunningSim;
  let runner: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    ({ orm, bank } = runner);
  });

  afterEach(() => runner.clearRules());

  async function rule(body: unknown): Promise<void> {
    const res = await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.text());
  }

  /** The run ended because the test terminated it, not because an assertion inside it failed. */
  const endedByTheTest = (err: unknown) => err instanceof WorkflowFailedError && err.cause instanceof TerminatedFailure;

  async function statusReached(handle: WorkflowHandle<typeof transferWorkflow>, status: string, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await handle.query(statusQuery);
      if (state.status === status) return state;
      if (Date.now() > deadline) throw new Error(`workflow never reached ${status}; it is ${state.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const events = async (transferId: string) => (await orm.em.fork().find(TransferEvent, { transferId }, { orderBy: { at: 'asc', id: 'asc' } })).map((e) => e.status);
  const breaksOf = (transferId: string) => orm.em.fork().find(ReconciliationBreak, { transferId });
  /** A short match window, so a payment missing from the statement is a break within seconds. */
  const shortWindow = { ...railTiming('demo'), reconcileWindowMs: 3_000, reconcilePollIntervalMs: 1_000 };

  it('completes a settled payout once its statement entry matches, and records the match', async () => {
    const clientId = await fundedClient(orm, 10_000);
    const input = await createdTransfer(orm, clientId, 2_345, { ...BENEFICIARY, accountNumber: '710000001' });
    const state = await runner.run(input);

    assert.equal(state.status, 'completed');
    assert.deepEqual((await events(input.transferId)).slice(-3), ['submitted', 'settled', 'completed']);
    const match = await orm.em.fork().findOneOrFail(ReconciliationMatch, { transferId: input.transferId });
    assert.equal(match.railReference, state.railReference);
    assert.equal(match.amountMinor, 2_345);
    assert.equal(match.beneficiaryReceivedMinor, 2_345);
    assert.match(match.statementId, /^STMT-\d{4}-\d{2}-\d{2}-ACH-USD$/);
    assert.deepEqual(await breaksOf(input.transferId), []);
    const xml = await (await fetch(`${bank.url}/sim/statements?date=${match.statementDate}`)).text();
    await assertValidAgainstXsd(xml, 'camt.053.001.08');
  });

  it('stops at needs_attention naming an amount_mismatch break when the statement shows another amount', async () => {
    const clientId = await fundedClient(orm, 10_000);
    const input = await createdTransfer(orm, clientId, 3_000, { ...BENEFICIARY, accountNumber: '710000002' });
    await rule({ match: { accountNumber: '710000002' }, behavior: 'accept', statement: { amountMinor: 3_001 } });
    await assert.rejects(
      runner.run(input, async (handle) => {
        const state = await statusReached(handle, 'needs_attention');
        const [brk] = await breaksOf(input.transferId);
        assert.ok(brk, 'a break was recorded');
        assert.match(state.reason ?? '', new RegExp(`reconciliation break ${brk.id}`));
        assert.equal(brk.kind, 'amount_mismatch');
        assert.equal(brk.status, 'open');
        assert.equal(brk.expectedMinor, 3_000);
        assert.equal(brk.actualMinor, 3_001);
        assert.equal(brk.railReference, state.railReference);
        await handle.terminate('test over');
      }),
      endedByTheTest,
    );
    const row = await transferRow(orm, input.transferId);
    assert.equal(row.status, 'needs_attention');
    assert.deepEqual((await events(input.transferId)).slice(-2), ['settled', 'needs_attention']);
    assert.equal(await orm.em.fork().count(ReconciliationMatch, { transferId: input.transferId }), 0, 'no match: never completed');
    // The money did leave (the hold is posted and settled); nothing is undone automatically.
    assert.deepEqual((await postingsOf(orm, input.transferId)).map((p) => p.code), ['payout_hold', 'payout_hold_posted', 'payout_settled']);
  });

  it('makes a settled payout absent from every statement a missing_from_statement break after the window; a retry looks again and finds the same break', async () => {
    const clientId = await fundedClient(orm, 10_000);
    const input = await createdTransfer(orm, clientId, 4_000, { ...BENEFICIARY, accountNumber: '710000003' }, shortWindow);
    await rule({ match: { accountNumber: '710000003' }, behavior: 'accept', statement: { omit: true } });
    await assert.rejects(
      runner.run(input, async (handle) => {
        // The bank's word that it settled reaches the payout; then its statement deadline passes (time skips).
        await until('the settlement signalled', () => orm.em.fork().count(BankInboxFact, { transferId: input.transferId, kind: 'settled', status: 'signalled' }), (n) => n > 0);
        await runner.env.sleep('3 hours');
        const state = await statusReached(handle, 'needs_attention');
        const breaks = await breaksOf(input.transferId);
        assert.equal(breaks.length, 1);
        assert.equal(breaks[0].kind, 'missing_from_statement');
        assert.equal(breaks[0].actualMinor, null);
        assert.match(state.reason ?? '', new RegExp(breaks[0].id));
        const before = (await events(input.transferId)).length;
        await handle.signal(retrySignal, { reason: 'asked the bank to re-send the statement', operator: 'alice' });
        await until('the retry looked again', () => events(input.transferId), (e) => e.length >= before + 2);
        await statusReached(handle, 'needs_attention');
        assert.deepEqual((await breaksOf(input.transferId)).map((b) => b.id), [breaks[0].id], 'found again: the same break, not a second one');
        await handle.terminate('test over');
      }),
      endedByTheTest,
    );
    assert.deepEqual((await events(input.transferId)).slice(-4), ['settled', 'needs_attention', 'settled', 'needs_attention']);
  });

  it('refuses malformed misreport knobs in the simulator, naming the field', async () => {
    for (const [path, body, field] of [
      ['/sim/rules', { behavior: 'accept', statement: { amountMinor: 1.5 } }, 'statement.amountMinor'],
      ['/sim/rules', { behavior: 'accept', statement: { omit: false } }, 'statement.omit'],
      ['/sim/statement-entries', { rail: 'ach', currency: 'usd', amountMinor: 1, direction: 'DBIT', endToEndId: 'X' }, 'currency'],
      ['/sim/statement-entries', { rail: 'ach', currency: 'USD', amountMinor: 1, direction: 'DEBIT', endToEndId: 'X' }, 'direction'],
      ['/sim/balance-adjustments', { rail: 'ach', currency: 'USD', amountMinor: '5' }, 'amountMinor'],
    ] as const) {
      const res = await fetch(`${bank.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, new RegExp(`^${field.replace('.', '\\.')}:`));
    }
  });

  it('leaves the ledger without a single invariant violation', async () => {
    assert.deepEqual(await auditLedger(orm.em), []);
  });
});
