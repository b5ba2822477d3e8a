/**
 * The transfer workflow's paths whose histories are kept under test/histories/ and replayed
 * against the current code (test/workflows/replay.test.ts). `npm run histories:record` runs each
 * path for real — time-skipping Temporal test server, MariaDB, the bank simulator — and writes
 * `<name>.json`.
 */
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { railTiming, type TransferTiming, type TransferWorkflowInput } from '../../core/transfer';
import { Transfer } from '../../db/schema';
import { cancelUpdate, retryUpdate, statusQuery, type transferWorkflow, type TransferState } from '../../workflows/transfer';
import { returnDecisionSignal, returnDecisionUpdate } from '../../workflows/transfer';
import { APPROVAL_DECISION_SIGNAL } from '../../core/approval';
import { BENEFICIARY, IBAN_BENEFICIARY, createdFxTransfer, createdTransfer, fundedClient, recordedApproval } from '../support/fixtures';
import type { TransferRunner } from '../support/workflow-runner';

type Handle = WorkflowHandle<typeof transferWorkflow>;

export interface RecordedPath {
  name: string;
  /** The status the path ends in: the recording fails if it does not. */
  status: TransferState['status'];
  run(runner: TransferRunner): Promise<{ input: TransferWorkflowInput; state: TransferState }>;
  /**
   * The patch this kept history was recorded before: `run` is the run as it was recorded then, and
   * on the current code it no longer ends in `status` (the recorder never overwrites it anyway).
   */
  recordedBefore?: string;
}

async function rule(runner: TransferRunner, body: unknown): Promise<void> {
  const res = await fetch(`${runner.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 201);
}

async function statusReached(handle: Handle, status: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await handle.query(statusQuery)).status !== status) {
    if (Date.now() > deadline) throw new Error(`never reached ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Runs a payout to `accountNumber` under `behavior` (if any), steered by `during`; over ACH (window files) unless `rail` says RTP. */
async function payout(runner: TransferRunner, accountNumber: string, behavior: Record<string, unknown> | null, during?: (handle: Handle) => Promise<void>, rail: 'ach' | 'rtp' = 'ach') {
  const clientId = await fundedClient(runner.orm, 10_000);
  const input = await createdTransfer(runner.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber }, undefined, rail);
  if (behavior) await rule(runner, { match: { accountNumber }, ...behavior });
  const state = await runner.run(input, during);
  await runner.clearRules();
  return { input, state };
}

/** A real-length return window, so the recorder can skip to a late return. */
const LONG_WATCH: TransferTiming = { pollIntervalMs: 1_000, settlementTimeoutMs: 5 * 60_000, returnWindowMs: 62 * 86_400_000, returnPollIntervalMs: 86_400_000, reconcileWindowMs: 60_000, reconcilePollIntervalMs: 2_000 };

/** A payout whose R02 return comes nine days late, then `decide` (an operator's returnDecision). */
async function lateReturn(runner: TransferRunner, accountNumber: string, decide: (handle: Handle, transferId: string) => Promise<unknown>) {
  const clientId = await fundedClient(runner.orm, 10_000);
  const input = await createdTransfer(runner.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber }, LONG_WATCH);
  const state = await runner.run(input, async (handle) => {
    await statusReached(handle, 'completed');
    await runner.env.sleep('10 days');
    const res = await fetch(`${runner.bank.url}/sim/payments/${(await handle.query(statusQuery)).railReference}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"code":"R02"}' });
    assert.equal(res.status, 200);
    await runner.env.sleep('1 day');
    await statusReached(handle, 'needs_attention');
    await runner.env.sleep('30 days'); // a few of the wait's slices
    await decide(handle, input.transferId);
  });
  return { input, state };
}

/**
 * A SEPA payout the bank holds pending, then `during` (a cancel that recalls it). Its deadlines
 * are long, so (time not skipping while `during` runs) none passes between the test's steps.
 */
async function sepaHeld(runner: TransferRunner, amountMinor: number, during: (handle: Handle, reference: string, transferId: string) => Promise<void>) {
  const clientId = await fundedClient(runner.orm, 10_000, 'EUR');
  const base = await createdTransfer(runner.orm, clientId, amountMinor, IBAN_BENEFICIARY, { ...railTiming('demo'), pollIntervalMs: 10 * 60_000, settlementTimeoutMs: 60 * 60_000 });
  await runner.orm.em.fork().nativeUpdate(Transfer, { id: base.transferId }, { currency: 'EUR', targetCurrency: 'EUR', rail: 'sepa' });
  const input = { ...base, currency: 'EUR', targetCurrency: 'EUR', rail: 'sepa' as const };
  await rule(runner, { match: { amountMinor, rail: 'sepa' }, behavior: 'hold', times: 1 });
  const state = await runner.run(input, async (handle) => {
    await statusReached(handle, 'submitted');
    await during(handle, (await handle.query(statusQuery)).railReference!, input.transferId);
  });
  await runner.clearRules();
  return { input, state };
}

/** A late return accepted, carrying out an approval (four eyes). */
function lateReturnAccepted(r: TransferRunner, accountNumber: string) {
  return lateReturn(r, accountNumber, async (handle, transferId) => {
    const approvalId = await recordedApproval(r.orm, transferId, 'return_accept', { decidedBy: 'recorder' });
    return handle.executeUpdate(returnDecisionUpdate, { args: [{ decision: 'accept', reason: 'the RDFI proved the account closed', operator: 'recorder', approvalId }] });
  });
}

/** A held SEPA payout recalled by a cancel carrying out an approval; the bank cancels it. */
function sepaRecalled(r: TransferRunner, amountMinor: number) {
  return sepaHeld(r, amountMinor, async (handle, _reference, transferId) => {
    const approvalId = await recordedApproval(r.orm, transferId, 'recall', { decidedBy: 'recorder' });
    const result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'duplicate payout', operator: 'recorder', approvalId }] });
    assert.equal(result.status, 'canceled');
  });
}

/**
 * A payout at or above its client's threshold (approvalRequired): held, then `decision` once it
 * waits in needs_approval. `fourEyes`: the decision names an approval row a second person decided
 * (what the workflow checks since FOUR_EYES_PATCH); without, an ID of no row, as recorded before.
 */
async function approvalPayout(runner: TransferRunner, accountNumber: string, decision: 'approve' | 'deny', fourEyes: boolean) {
  const clientId = await fundedClient(runner.orm, 10_000);
  const base = await createdTransfer(runner.orm, clientId, 1_000, { ...BENEFICIARY, accountNumber });
  const input: TransferWorkflowInput = { ...base, approvalRequired: true };
  const state = await runner.run(input, async (handle) => {
    await statusReached(handle, 'needs_approval');
    await runner.env.sleep('10 days'); // a slice of the wait or two
    const approvalId = fourEyes ? await recordedApproval(runner.orm, input.transferId, 'payout', { status: decision === 'approve' ? 'approved' : 'denied', requestedBy: `client:${clientId}`, decidedBy: 'recorder' }) : 'apr_recorder';
    await handle.signal(APPROVAL_DECISION_SIGNAL, { approvalId, decision, operator: 'recorder', reason: decision === 'approve' ? 'checked with the client' : 'not what the client meant' });
  });
  return { input, state };
}

export const PATHS: RecordedPath[] = [
  { name: 'happy', status: 'completed', run: (r) => payout(r, '790000001', null) },
  { name: 'rejection', status: 'failed', run: (r) => payout(r, '790000002', { behavior: 'reject', code: 'R03' }) },
  {
    name: 'retry',
    status: 'completed',
    run: (r) =>
      // The window's file unconfirmed past its budget; the retry re-queues the entry under the same trace.
      payout(r, '790000003', { behavior: 'unavailable' }, async (handle) => {
        await r.env.sleep('3 hours');
        await statusReached(handle, 'needs_attention');
        await r.clearRules();
        await handle.executeUpdate(retryUpdate, { args: [{ reason: 'bank back up', operator: 'recorder' }] });
      }),
  },
  {
    name: 'cancel',
    status: 'canceled',
    run: (r) =>
      // The bank refused the window's file as a whole: nothing was taken, so cancel undoes it all.
      payout(r, '790000004', { behavior: 'reject_file' }, async (handle) => {
        await statusReached(handle, 'needs_attention');
        await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'beneficiary details under review', operator: 'recorder' }] });
      }),
  },
  {
    name: 'return',
    status: 'returned',
    run: (r) =>
      payout(r, '790000005', { behavior: 'return_after_settlement', code: 'R01', delayMs: 1_500 }, async (handle) => {
        await statusReached(handle, 'completed');
        await new Promise((resolve) => setTimeout(resolve, 1_600));
      }),
  },
  // A payout's own unknown outcome: over RTP (an ACH file's lost answer is the batch workflow's).
  { name: 'unknown', status: 'completed', run: (r) => payout(r, '790000006', { behavior: 'timeout_after_accept' }, undefined, 'rtp') },
  {
    name: 'unknown-resolved-by-operator',
    status: 'completed',
    run: (r) =>
      payout(
        r,
        '790000007',
        { behavior: 'timeout_before_accept' },
        async (handle) => {
          await r.env.sleep('1 hour');
          await statusReached(handle, 'needs_attention');
          await r.clearRules();
          await handle.executeUpdate(retryUpdate, { args: [{ reason: 'bank fixed its intake', operator: 'recorder' }] });
        },
        'rtp',
      ),
  },
  {
    name: 'ach-file-refused',
    status: 'completed',
    run: (r) =>
      payout(r, '790000008', { behavior: 'reject_file', times: 1 }, async (handle) => {
        await statusReached(handle, 'needs_attention');
        await handle.executeUpdate(retryUpdate, { args: [{ reason: 'bank fixed its edits', operator: 'recorder' }] });
      }),
  },
  {
    name: 'late-return-accepted',
    status: 'returned',
    recordedBefore: 'four-eyes-in-workflow',
    run: (r) => lateReturn(r, '790000010', (handle) => handle.executeUpdate(returnDecisionUpdate, { args: [{ decision: 'accept', reason: 'the RDFI proved the account closed', operator: 'recorder' }] })),
  },
  {
    name: 'late-return-dishonored',
    status: 'completed',
    run: (r) => lateReturn(r, '790000011', (handle) => handle.signal(returnDecisionSignal, { decision: 'dishonor', reason: 'untimely', operator: 'recorder' })),
  },
  {
    name: 'fx-rejection',
    status: 'failed',
    run: async (r) => {
      const clientId = await fundedClient(r.orm, 50_000, 'EUR');
      const { input } = await createdFxTransfer(r.orm, clientId, 20_000, 'EUR', 'USD', { ...BENEFICIARY, accountNumber: '000111111116' });
      return { input, state: await r.run(input) };
    },
  },
  {
    name: 'sepa-recall',
    status: 'canceled',
    recordedBefore: 'four-eyes-in-workflow',
    run: (r) =>
      sepaHeld(r, 2_001, async (handle) => {
        const result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'duplicate payout', operator: 'recorder' }] });
        assert.equal(result.status, 'canceled');
      }),
  },
  {
    name: 'sepa-recall-refused',
    status: 'completed',
    recordedBefore: 'four-eyes-in-workflow',
    run: (r) =>
      sepaHeld(r, 2_002, async (handle, reference) => {
        const res = await fetch(`${r.bank.url}/sim/payments/${reference}/release`, { method: 'POST' });
        assert.equal(res.status, 200);
        const result = await handle.executeUpdate(cancelUpdate, { args: [{ reason: 'too late', operator: 'recorder' }] });
        assert.equal(result.accepted, false);
      }),
  },
  { name: 'payout-approval-approved', status: 'completed', recordedBefore: 'four-eyes-in-workflow', run: (r) => approvalPayout(r, '790000020', 'approve', false) },
  { name: 'payout-approval-denied', status: 'canceled', recordedBefore: 'four-eyes-in-workflow', run: (r) => approvalPayout(r, '790000021', 'deny', false) },
  // Recorded after four eyes moved into the workflow (workflow.ts FOUR_EYES_PATCH): the kept paths
  // marked `recordedBefore` replay its old branch, these the patched one.
  { name: 'sepa-recall-four-eyes', status: 'canceled', run: (r) => sepaRecalled(r, 2_003) },
  { name: 'late-return-accepted-four-eyes', status: 'returned', run: (r) => lateReturnAccepted(r, '790000012') },
  { name: 'payout-approval-four-eyes', status: 'completed', run: (r) => approvalPayout(r, '790000022', 'approve', true) },
  // Recorded after an accepted ACH entry stopped being signalled (workflow.ts CONFIRM_AT_BOOKING_PATCH).
  { name: 'happy-confirm-at-booking', status: 'completed', run: (r) => payout(r, '790000030', null) },
];
