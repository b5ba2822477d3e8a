/**
 * Billable Temporal actions, two ways: counted from a workflow's event history by Temporal Cloud's
 * published rules, and read from a server's Prometheus `action` counter. The bench prints both and
 * their difference; neither is taken on trust.
 *
 * The rules (docs.temporal.io/cloud/actions), as they show in a history:
 *   - workflow started: 1 (a run started by a Schedule: 2 more for the Schedule's own start)
 *   - child workflow start initiated: 1 (the child's own start is counted in the child's history)
 *   - activity started or retried: 1 per attempt (the started event carries the attempt number)
 *   - local activities: 1 per workflow task that recorded any local-activity marker
 *   - timer started: 1 (including the timers behind `condition(fn, timeout)`)
 *   - search attribute upsert: 1 per command (one that only sets TemporalChangeVersion is exempt)
 *   - signal received: 1 (counted once, where it lands, whether a client or a workflow sent it)
 *   - update accepted: 1 (update-with-start is the start plus the update)
 *   - workflow execution options updated: 1
 * Not in a history, so not counted here: queries, activity heartbeats, rejected updates, exports.
 */

/** An event as JSON histories have it (test/histories/*.json, historyToJSON). */
export interface HistoryEvent {
  eventId?: string;
  eventTime?: string;
  eventType: string;
  [attributes: string]: unknown;
}

export interface ActionCount {
  total: number;
  byKind: Record<string, number>;
}

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
const SCHEDULED_BY = 'TemporalScheduledById';
const CHANGE_VERSION = 'TemporalChangeVersion';

function kindOf(eventType: string): string {
  return eventType.replace(/^EVENT_TYPE_/, '');
}

function attrs(event: HistoryEvent): Record<string, any> {
  for (const [key, value] of Object.entries(event)) if (key.endsWith('EventAttributes')) return value as Record<string, any>;
  return {};
}

export interface CountWindow {
  /** Only events at or after this time (ms since epoch). */
  fromMs?: number;
  /** Only events before this time. */
  toMs?: number;
}

/** The actions that a history's events stand for, optionally only those inside a time window. */
export function countActions(events: readonly HistoryEvent[], window: CountWindow = {}): ActionCount {
  const byKind: Record<string, number> = {};
  const add = (kind: string, n: number) => {
    if (n > 0) byKind[kind] = (byKind[kind] ?? 0) + n;
  };
  const markerTasks = new Set<string>();
  for (const event of events) {
    if (window.fromMs !== undefined || window.toMs !== undefined) {
      if (!event.eventTime) throw new Error(`event ${event.eventId} has no time to place it in the window`);
      const at = Date.parse(event.eventTime);
      if ((window.fromMs !== undefined && at < window.fromMs) || (window.toMs !== undefined && at >= window.toMs)) continue;
    }
    const a = attrs(event);
    switch (kindOf(event.eventType)) {
      case 'WORKFLOW_EXECUTION_STARTED':
        add('workflow_started', 1);
        if (a.searchAttributes?.indexedFields?.[SCHEDULED_BY]) add('schedule_start', 2);
        break;
      case 'START_CHILD_WORKFLOW_EXECUTION_INITIATED':
        add('child_workflow', 1);
        break;
      case 'ACTIVITY_TASK_STARTED':
        add('activity_attempt', Math.max(1, Number(a.attempt ?? 1)));
        break;
      case 'MARKER_RECORDED':
        if (a.markerName === LOCAL_ACTIVITY_MARKER && !markerTasks.has(String(a.workflowTaskCompletedEventId))) {
          markerTasks.add(String(a.workflowTaskCompletedEventId));
          add('local_activities', 1);
        }
        break;
      case 'TIMER_STARTED':
        add('timer_started', 1);
        break;
      case 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
        const keys = Object.keys(a.searchAttributes?.indexedFields ?? {});
        if (keys.some((k) => k !== CHANGE_VERSION)) add('search_attribute_upsert', 1);
        break;
      }
      case 'WORKFLOW_EXECUTION_SIGNALED':
        add('signal', 1);
        break;
      case 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED':
        add('update', 1);
        break;
      case 'WORKFLOW_EXECUTION_OPTIONS_UPDATED':
        add('options_updated', 1);
        break;
      default:
        break;
    }
  }
  return { total: Object.values(byKind).reduce((s, n) => s + n, 0), byKind };
}

/** A search attribute's value as an upsert or start event carries it (json/plain payload). */
export function searchAttributeValue(event: HistoryEvent, key: string): unknown {
  const field = attrs(event).searchAttributes?.indexedFields?.[key];
  if (!field?.data) return undefined;
  return JSON.parse(Buffer.from(field.data, 'base64').toString('utf8'));
}

/** The time (ms) of the first upsert that set `key` to `value`, or undefined when none did. */
export function upsertTimeMs(events: readonly HistoryEvent[], key: string, value: string): number | undefined {
  const hit = events.find((e) => kindOf(e.eventType) === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES' && searchAttributeValue(e, key) === value);
  return hit?.eventTime ? Date.parse(hit.eventTime) : undefined;
}

/**
 * Sums a Prometheus counter over the series whose labels match `labels`, with the total per value
 * of `breakdownLabel`. Reads the text exposition format; a counter that is absent sums to zero.
 */
export function sumCounter(text: string, name: string, labels: Record<string, string>, breakdownLabel?: string): { total: number; by: Record<string, number> } {
  let total = 0;
  const by: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+([^\s]+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const seriesLabels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) seriesLabels[lm[1]] = lm[2];
    if (Object.entries(labels).some(([k, v]) => seriesLabels[k] !== v)) continue;
    const value = Number(m[3]);
    if (!Number.isFinite(value)) continue;
    total += value;
    if (breakdownLabel) {
      const key = seriesLabels[breakdownLabel] ?? '';
      by[key] = (by[key] ?? 0) + value;
    }
  }
  return { total, by };
}

/** The difference between two readings of a counter's breakdown, leaving out what did not move. */
export function counterDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after)) {
    const d = value - (before[key] ?? 0);
    if (d !== 0) delta[key] = d;
  }
  return delta;
}
