/**
 * Determinism: every recorded history under test/histories/ replays against the current workflow
 * code. A change to the workflow's commands that is not behind `patched()` fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { PATHS } from '../histories/paths';
import { testDataConverter, workflowBundle } from '../support/global';
import { historyFromProtoJson } from '../support/history-json';
import { ENCODING_ENCRYPTED } from '../../core/payload-codec';

const DIR = path.join(__dirname, '..', 'histories');

/**
 * Histories recorded by earlier code, kept as they were (the recorder cannot make them again):
 * they prove that workflows started before a `patched()` change still replay.
 * late-return-legacy: a late R02 decided by the unaudited returnDecision signal (before the
 * `return-decision-audited` patch), its 90-day timer canceled by the dishonor.
 */
const LEGACY = ['late-return-legacy'];

describe('recorded transfer histories replay against the current workflow code', () => {
  it('has a history for every path (re-record with npm run histories:record)', () => {
    for (const p of PATHS) assert.doesNotThrow(() => readFileSync(path.join(DIR, `${p.name}.json`)), `test/histories/${p.name}.json is missing`);
  });

  for (const p of PATHS) {
    it(`replays the ${p.name} path without nondeterminism`, async () => {
      const history = historyFromProtoJson(JSON.parse(readFileSync(path.join(DIR, `${p.name}.json`), 'utf8')));
      const types = (history.events ?? []).map((e) => e.eventType);
      assert.ok(types.length > 5, 'a real history');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, history, `replay-${p.name}`);
    });
  }

  for (const name of LEGACY) {
    it(`replays the ${name} history recorded by earlier code, finished and cut while it waits`, async () => {
      const history = historyFromProtoJson(JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${name}`);
      // A workflow waiting on the decision when the new code is deployed: its history ends with the timer.
      const events = history.events ?? [];
      const waiting = events.map((e) => Boolean(e.timerStartedEventAttributes)).lastIndexOf(true);
      assert.ok(waiting > 0, 'the legacy history waits on a timer');
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, { ...history, events: events.slice(0, waiting + 1) }, `replay-${name}-waiting`);
    });
  }

  it('fails a history whose commands the code does not issue (the check can fail)', async () => {
    const recorded = JSON.parse(readFileSync(path.join(DIR, 'happy.json'), 'utf8')) as { events: { eventType: string; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[] };
    const scheduled = recorded.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'submitPayout');
    assert.ok(scheduled, 'the happy path schedules submitPayout');
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, historyFromProtoJson(recorded), 'replay-tampered'), /[Nn]ondeterminism|does not match/);
  });

  it('shows the Temporal UI a summary on every saga step (the cancel path), encrypted as every payload is', async () => {
    type JsonPayload = { metadata?: Record<string, string>; data?: string };
    const recorded = JSON.parse(readFileSync(path.join(DIR, 'cancel.json'), 'utf8')) as { events: { userMetadata?: { summary?: JsonPayload } }[] };
    const stored = recorded.events.flatMap((e) => (e.userMetadata?.summary?.data ? [e.userMetadata.summary] : []));
    const toPayload = (p: JsonPayload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(p.data ?? '', 'base64') });
    // As stored on the server, the summaries are ciphertext; the UI shows them through the codec server.
    for (const p of stored) assert.equal(Buffer.from(p.metadata?.encoding ?? '', 'base64').toString(), ENCODING_ENCRYPTED);
    const [codec] = testDataConverter.payloadCodecs!;
    const decoded = await codec.decode(stored.map(toPayload));
    const summaries = decoded.map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as string);
    assert.deepEqual(summaries, ['hold 1000 USD (minor units)', 'submit attempt 1 over ach', 'needs attention: achFile', 'compensation: void the hold', 'end the transfer canceled (canceled)']);
  });
});
