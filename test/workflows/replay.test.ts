/**
 * Replay of stored histories against today's workflow code: a payout that completed before
 * reconciliation existed must replay without a determinism error (the reconciliation step sits
 * behind `patched('reconcile-before-complete')`).
 *
 * histories/transfer-completed-before-reconciliation.binpb: an ACH payout run to its end (through the
 * return window) by the workflow as of commit ff9a245, on the time-skipping server, stored as the
 * binary History protobuf (`temporal.api.history.v1.History`). Binary rather than JSON: this
 * install's SDK cannot read history JSON (its protobufjs copies disagree).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { workflowBundle } from '../support/global';

describe('workflow replay against stored histories', () => {
  it('replays a payout completed before reconciliation existed', async () => {
    const file = path.join(__dirname, 'histories', 'transfer-completed-before-reconciliation.binpb');
    const history = temporal.api.history.v1.History.decode(readFileSync(file));
    assert.ok(history.events.length > 20, 'the stored history is a whole run');
    assert.ok(history.events.some((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'completeTransfer'), 'it completed');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'transfer-replayed');
  });
});
