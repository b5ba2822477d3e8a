/**
 * The orphan sweep against the Temporal dev server, MariaDB and the bank simulator: a payout held
 * at the bank whose workflow an operator terminates in Temporal is found and set to needs_attention
 * (SPEC §6), once; nothing is voided; a transfer whose workflow still runs is left alone.
 */
import assert from 'node:assert/strict';
import { workflowIdFor } from '../../core/transfer';
import { Posting, TransferEvent } from '../../db/schema';
import { flagOrphanedTransfers } from '../../services/orphaned-transfers';
import { BENEFICIARY, transferRow } from '../support/fixtures';
import { apiStack, call, until, type ApiStack } from '../support/api-stack';
import { apiClient } from '../support/api-clients';

describe('orphan sweep: live transfers whose workflow is gone', () => {
  let stack: ApiStack;
  before(async () => {
    stack = await apiStack();
  });
  afterEach(() => fetch(`${stack.bank.url}/sim/rules`, { method: 'DELETE' }));

  /** An RTP payout the bank holds pending: submitted, its hold pending, its workflow waiting. */
  async function heldAtBank(amountMinor: number): Promise<string> {
    const client = await apiClient(stack, 'Orphan Sweep Client', 100_000);
    const rule = await fetch(`${stack.bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { amountMinor, rail: 'rtp' }, behavior: 'hold' }) });
    assert.equal(rule.status, 201);
    const created = await call(stack.url, 'POST', '/v1/transfers', { key: client.key, body: { amountMinor, currency: 'USD', rail: 'rtp', beneficiary: BENEFICIARY, reference: 'orphan test' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    await until('submitted', () => transferRow(stack.orm, created.body.id), (t) => t.status === 'submitted', 30_000);
    return created.body.id;
  }

  it('sets a submitted payout whose workflow was terminated to needs_attention, once, voiding nothing', async () => {
    const orphanId = await heldAtBank(4_321);
    const aliveId = await heldAtBank(4_322);
    await stack.temporal.workflow.getHandle(workflowIdFor(orphanId)).terminate('operator pressed Terminate');
    // Visibility follows a close a moment later (the sweep is bound to "within minutes", not at once).
    const closed = `WorkflowId = '${workflowIdFor(orphanId)}' AND ExecutionStatus = 'Terminated'`;
    await until('the terminated workflow in visibility', () => stack.temporal.workflow.count(closed), (c) => c.count === 1, 30_000);
    const postingsBefore = await stack.orm.em.fork().count(Posting, { transferId: orphanId });

    const flagged = await flagOrphanedTransfers({ orm: stack.orm, temporal: stack.temporal });
    // The API's own sweep (a pass a minute) may have got there first; either way one pass flagged it.
    const mine = flagged.find((o) => o.transferId === orphanId);
    if (mine) assert.deepEqual(mine, { transferId: orphanId, workflowStatus: 'TERMINATED', transferStatus: 'submitted' });
    assert.ok(!flagged.some((o) => o.transferId === aliveId), 'a transfer whose workflow runs was flagged');
    const orphan = await transferRow(stack.orm, orphanId);
    assert.equal(orphan.status, 'needs_attention');
    const [event] = await stack.orm.em.fork().find(TransferEvent, { transferId: orphanId }, { orderBy: { at: 'desc', id: 'desc' }, limit: 1 });
    assert.match(event.reason!, /its workflow transfer-\S+ was terminated in Temporal while the transfer was submitted/);
    assert.equal(await stack.orm.em.fork().count(Posting, { transferId: orphanId }), postingsBefore, 'nothing voided or posted');
    assert.equal((await transferRow(stack.orm, aliveId)).status, 'submitted', 'a transfer whose workflow runs is left alone');

    // A second pass finds it flagged and adds nothing.
    const again = await flagOrphanedTransfers({ orm: stack.orm, temporal: stack.temporal });
    assert.ok(!again.some((o) => o.transferId === orphanId), 'flagged twice');
    assert.equal(await stack.orm.em.fork().count(TransferEvent, { transferId: orphanId, status: 'needs_attention' }), 1);
    await stack.temporal.workflow.getHandle(workflowIdFor(aliveId)).terminate('test cleanup');
  });
});
