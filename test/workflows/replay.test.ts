/**
 * Determinism: every recorded history under test/histories/ replays against the current workflow
 * code. A change to the workflow's commands that is not behind `patched()` fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { PATHS } from '../histories/paths';
import { workflowBundle } from '../support/global';
import { historyFromProtoJson } from '../support/history-json';

const DIR = path.join(__dirname, '..', 'histories');

describe('recorded transfer histories replay against the current workflow code', () => {
  it('has a history for every path (re-record with npm run histories:record)', () => {
    for (const p of PATHS) assert.doesNotThrow(() => readFileSync(path.join(DIR, `${p.name}.json`)), `test/histories/${p.name}.json is missing`);
  });

  for (const p of PATHS) {
    it(`replays the ${p.name} path without nondeterminism`, async () => {
      const history = historyFromProtoJson(JSON.parse(readFileSync(path.join(DIR, `${p.name}.json`), 'utf8')));
      const types = (history.events ?? []).map((e) => e.eventType);
      assert.ok(types.length > 5, 'a real history');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${p.name}`);
    });
  }

  it('fails a history whose commands the code does not issue (the check can fail)', async () => {
    const recorded = JSON.parse(readFileSync(path.join(DIR, 'happy.json'), 'utf8')) as { events: { eventType: string; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[] };
    const scheduled = recorded.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'submitPayout');
    assert.ok(scheduled, 'the happy path schedules submitPayout');
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromProtoJson(recorded), 'replay-tampered'), /[Nn]ondeterminism|does not match/);
  });

  it('shows the Temporal UI a summary on every saga step (the cancel path)', () => {
    const recorded = JSON.parse(readFileSync(path.join(DIR, 'cancel.json'), 'utf8')) as { events: { userMetadata?: { summary?: { data?: string } } }[] };
    const summaries = recorded.events.flatMap((e) => (e.userMetadata?.summary?.data ? [JSON.parse(Buffer.from(e.userMetadata.summary.data, 'base64').toString('utf8')) as string] : []));
    assert.deepEqual(summaries, ['hold 1000 USD (minor units)', 'submit attempt 1 over ach', 'needs attention: achFile', 'compensation: void the hold', 'end the transfer canceled (canceled)']);
  });
});
