/**
 * Determinism: every recorded history under test/histories/ replays against the current workflow
 * code. A change to the workflow's commands that is not behind `patched()` fails here: shown by
 * building the four-eyes change (workflow.ts FOUR_EYES_PATCH) without its patch and replaying the
 * histories recorded before it; the same for the ACH batch workflow's paging (ach-answers-paged).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { PATHS } from '../histories/paths';
import { quietLogger, testDataConverter, workflowBundle } from '../support/global';
import { workflowInterceptorModules, workflowsPath } from '../../workers/worker';
import { historyFromProtoJson } from '../support/history-json';
import { ENCODING_ENCRYPTED } from '../../core/payload-codec';

const DIR = path.join(__dirname, '..', 'histories');

/** The workflows as they would have shipped had `patchCall` (in the file `file` matches) been left out: the call is `true`. */
function bundleWithout(file: RegExp, patchCall: string) {
  return bundleWorkflowCode({
    workflowsPath: workflowsPath(),
    workflowInterceptorModules: workflowInterceptorModules(),
    logger: quietLogger,
    webpackConfigHook: (config) => {
      config.module?.rules?.unshift({ test: file, enforce: 'pre', use: [{ loader: path.join(__dirname, '..', 'support', 'without-patch-loader.js'), options: { patchCall } }] });
      return config;
    },
  });
}

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

  it('fails a history whose commands the code does not issue (the check can fail)', async () => {
    const recorded = JSON.parse(readFileSync(path.join(DIR, 'happy.json'), 'utf8')) as { events: { eventType: string; activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[] };
    const scheduled = recorded.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'reconcileAttempt');
    assert.ok(scheduled, 'the recorded happy path looks at the statement');
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, historyFromProtoJson(recorded), 'replay-tampered'), /[Nn]ondeterminism|does not match/);
  });

  it('fails the recorded recall, late-return and approval paths on the four-eyes change built without its patch (an unpatched change is caught)', async () => {
    const unpatched = await bundleWithout(/workflows[\\/]transfer[\\/]workflow\.ts$/, 'patched(FOUR_EYES_PATCH)');
    for (const name of ['sepa-recall', 'late-return-accepted', 'payout-approval-approved']) {
      const history = historyFromProtoJson(JSON.parse(readFileSync(path.join(DIR, `${name}.json`), 'utf8')));
      await assert.rejects(Worker.runReplayHistory({ workflowBundle: unpatched, dataConverter: testDataConverter }, history, `replay-unpatched-${name}`), /[Nn]ondeterminism/, `${name} replayed on the unpatched change`);
    }
    // The same history on the patched code: the happy path the change does not touch replays on both.
    const happy = historyFromProtoJson(JSON.parse(readFileSync(path.join(DIR, 'happy.json'), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: unpatched, dataConverter: testDataConverter }, happy, 'replay-unpatched-happy');
  });

  it('shows the Temporal UI a summary on every step that waits on the bank (the retry path), encrypted as every payload is', async () => {
    type JsonPayload = { metadata?: Record<string, string>; data?: string };
    const recorded = JSON.parse(readFileSync(path.join(DIR, 'retry.json'), 'utf8')) as { events: { userMetadata?: { summary?: JsonPayload } }[] };
    const stored = recorded.events.flatMap((e) => (e.userMetadata?.summary?.data ? [e.userMetadata.summary] : []));
    const toPayload = (p: JsonPayload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])), data: Buffer.from(p.data ?? '', 'base64') });
    // As stored on the server, the summaries are ciphertext; the UI shows them through the codec server.
    for (const p of stored) assert.equal(Buffer.from(p.metadata?.encoding ?? '', 'base64').toString(), ENCODING_ENCRYPTED);
    const [codec] = testDataConverter.payloadCodecs!;
    const decoded = await codec.decode(stored.map(toPayload));
    const summaries = decoded.map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as string);
    assert.equal(summaries.length, 3, summaries.join('; '));
    assert.match(summaries[0], /^re-queue trace \d{15}$/);
    assert.match(summaries[1], /^ask the bank about \d{15}$/);
    assert.match(summaries[2], /^match \d{15} on the statement$/);
  });
});

/**
 * The ACH batch workflow's histories under test/histories/ach-batch/ were recorded before
 * ach-answers-paged (workflows/ach-batch.ts), on the code of that day: one send whose result
 * carried every entry.
 */
describe('recorded ACH batch histories replay against the current workflow code', () => {
  const BATCH_DIR = path.join(DIR, 'ach-batch');
  const batchHistory = (name: string) => historyFromProtoJson(JSON.parse(readFileSync(path.join(BATCH_DIR, `${name}.json`), 'utf8')));

  for (const name of ['file-refused', 'sent']) {
    it(`replays the window that was ${name === 'sent' ? 'accepted' : 'refused whole'} without nondeterminism`, async () => {
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: testDataConverter }, batchHistory(name), `replay-batch-${name}`);
    });
  }

  it('fails them on the paged change built without its patch (an unpatched change is caught)', async () => {
    const unpatched = await bundleWithout(/workflows[\\/]ach-batch\.ts$/, 'patched(ANSWERS_PAGED_PATCH)');
    for (const name of ['file-refused', 'sent']) {
      await assert.rejects(Worker.runReplayHistory({ workflowBundle: unpatched, dataConverter: testDataConverter }, batchHistory(name), `replay-batch-unpatched-${name}`), /[Nn]ondeterminism/, `${name} replayed on the unpatched change`);
    }
  });
});
