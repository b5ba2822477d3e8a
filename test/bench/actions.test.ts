import assert from 'node:assert/strict';
import { countActions, counterDelta, sumCounter, upsertTimeMs, type HistoryEvent } from '../../bench/actions';
import { twinShape } from '../../bench/twin/shape';

const happy = (require('../histories/happy.json') as { events: HistoryEvent[] }).events;

const at = (eventType: string, eventTime: string, attributes: Record<string, unknown> = {}): HistoryEvent => ({ eventType: `EVENT_TYPE_${eventType}`, eventTime, ...attributes });
const sa = (key: string, value: unknown) => ({ searchAttributes: { indexedFields: { [key]: { metadata: {}, data: Buffer.from(JSON.stringify(value)).toString('base64') } } } });

describe('bench action counting (Temporal Cloud rules)', () => {
  // The recorded happy path ran on the time-skipping server, where its deadlines pass before the
  // bank inbox speaks: it takes the deadline's path (an inquiry, a look at the statement).
  it('counts the recorded happy-path ACH payout: start, 3 workflow tasks of local activities, 2 activities, 3 timers, 1 upsert, the file answer signal', () => {
    const count = countActions(happy);
    assert.deepEqual(count.byKind, { workflow_started: 1, local_activities: 3, timer_started: 3, signal: 1, activity_attempt: 2, search_attribute_upsert: 1 });
    assert.equal(count.total, 11);
  });

  it('counts every attempt of a retried activity, one action per workflow task of local activities, and accepted updates', () => {
    const events = [
      at('WORKFLOW_EXECUTION_STARTED', '2026-01-01T00:00:00Z', { workflowExecutionStartedEventAttributes: sa('TemporalScheduledById', 'reconciliation-daily') }),
      at('WORKFLOW_EXECUTION_UPDATE_ACCEPTED', '2026-01-01T00:00:01Z'),
      at('ACTIVITY_TASK_STARTED', '2026-01-01T00:00:02Z', { activityTaskStartedEventAttributes: { attempt: 3 } }),
      at('MARKER_RECORDED', '2026-01-01T00:00:03Z', { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: '7' } }),
      at('MARKER_RECORDED', '2026-01-01T00:00:03Z', { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: '7' } }),
      at('MARKER_RECORDED', '2026-01-01T00:00:04Z', { markerRecordedEventAttributes: { markerName: 'core_local_activity', workflowTaskCompletedEventId: '11' } }),
      at('MARKER_RECORDED', '2026-01-01T00:00:04Z', { markerRecordedEventAttributes: { markerName: 'core_patch', workflowTaskCompletedEventId: '11' } }),
      at('UPSERT_WORKFLOW_SEARCH_ATTRIBUTES', '2026-01-01T00:00:05Z', { upsertWorkflowSearchAttributesEventAttributes: sa('TemporalChangeVersion', ['x']) }),
      at('TIMER_FIRED', '2026-01-01T00:00:06Z'),
      at('WORKFLOW_TASK_COMPLETED', '2026-01-01T00:00:06Z'),
    ];
    assert.deepEqual(countActions(events).byKind, { workflow_started: 1, schedule_start: 2, update: 1, activity_attempt: 3, local_activities: 2 });
  });

  it('counts only the events inside a window', () => {
    const events = [at('TIMER_STARTED', '2026-01-01T00:00:00Z'), at('TIMER_STARTED', '2026-01-01T00:00:10Z'), at('TIMER_STARTED', '2026-01-01T00:00:20Z')];
    assert.equal(countActions(events, { fromMs: Date.parse('2026-01-01T00:00:10Z'), toMs: Date.parse('2026-01-01T00:00:20Z') }).total, 1);
  });

  it('finds when the transfer was set completed', () => {
    assert.equal(upsertTimeMs(happy, 'TransferStatus', 'completed'), Date.parse('2026-12-03T16:36:44.549Z'));
    // In-flight statuses are not upserted (workflows/transfer/workflow.ts), nor a status never reached.
    assert.equal(upsertTimeMs(happy, 'TransferStatus', 'funds_held'), undefined);
    assert.equal(upsertTimeMs(happy, 'TransferStatus', 'returned'), undefined);
  });

  it('sums a Prometheus counter by labels, and takes differences of its breakdown', () => {
    const text = [
      '# TYPE action counter',
      'action{action_type="grpc_StartWorkflowExecution",namespace="default",operation="StartWorkflowExecution"} 4',
      'action{action_type="command_ScheduleActivityTask",namespace="default",operation="RespondWorkflowTaskCompleted"} 10',
      'action{action_type="grpc_StartWorkflowExecution",namespace="temporal_system",operation="StartWorkflowExecution"} 2',
      'action_other{namespace="default"} 99',
    ].join('\n');
    const read = sumCounter(text, 'action', { namespace: 'default' }, 'action_type');
    assert.equal(read.total, 14);
    assert.deepEqual(read.by, { grpc_StartWorkflowExecution: 4, command_ScheduleActivityTask: 10 });
    assert.deepEqual(counterDelta({ a: 1, b: 5 }, { a: 1, b: 7, c: 2 }), { b: 2, c: 2 });
  });
});

describe('bench twin shape', () => {
  it('mirrors the happy path up to completed: 3 tasks of local activities, 2 activities, 2 timers, the upsert and the signal, in order', () => {
    const shape = twinShape(happy, { key: 'TransferStatus', value: 'completed' });
    assert.deepEqual(shape.counts, { activities: 2, localActivityTasks: 3, timers: 2, upserts: 1, signals: 1 });
    assert.deepEqual(shape.steps[0], { kind: 'localActivity' });
    assert.deepEqual(shape.steps.filter((s) => s.kind === 'activity').map((s) => s.kind === 'activity' && s.name), ['checkPayout', 'reconcileAttempt']);
    assert.deepEqual(shape.steps.at(-1), { kind: 'upsert', fields: { TransferStatus: 'completed' } });
    assert.deepEqual(shape.steps.filter((s) => s.kind === 'timer').map((s) => s.kind === 'timer' && s.fate), ['fired', 'fired']);
  });

  it('has as many commands as the history it mirrors, all of it when no stop is given', () => {
    const shape = twinShape(happy);
    const count = countActions(happy).byKind;
    assert.equal(shape.counts.activities, count.activity_attempt);
    assert.equal(shape.counts.timers, count.timer_started);
    assert.equal(shape.counts.upserts, count.search_attribute_upsert);
    assert.equal(shape.counts.signals, count.signal);
  });

  it('refuses a history it cannot mirror, and a stop the history never reached', () => {
    assert.throws(() => twinShape([at('START_CHILD_WORKFLOW_EXECUTION_INITIATED', '2026-01-01T00:00:00Z')]), /cannot mirror/);
    assert.throws(() => twinShape(happy, { key: 'TransferStatus', value: 'returned' }), /never set/);
  });
});
