/**
 * The shape of a recorded payout, for the command-for-command twin: the remote activities, local
 * activities, timers (with their durations and fate), search-attribute upserts and signals it issued,
 * in history order, up to the point the bench measures to (the upsert that set the transfer
 * `completed`). Deterministic data only: it travels to the twin workflow as its input.
 */
import { searchAttributeValue, type HistoryEvent } from '../actions';

export type TwinStep =
  | { kind: 'activity'; name: string }
  | { kind: 'localActivity' }
  | { kind: 'timer'; timerId: string; ms: number; fate: 'fired' | 'canceled' | 'open' }
  | { kind: 'cancelTimer'; timerId: string }
  | { kind: 'upsert'; fields: Record<string, string | number> }
  | { kind: 'signal' };

export interface TwinShape {
  steps: TwinStep[];
  counts: { activities: number; localActivityTasks: number; timers: number; upserts: number; signals: number };
}

function kindOf(event: HistoryEvent): string {
  return event.eventType.replace(/^EVENT_TYPE_/, '');
}

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)s$/.exec(text);
  if (!m) throw new Error(`unreadable duration ${text}`);
  return Math.round(Number(m[1]) * 1000);
}

/**
 * The steps of `events` up to and including the first upsert of `stop` (key and value), or all
 * of them when `stop` is absent. A command the twin cannot mirror (a child workflow, an external
 * signal, continue-as-new) is refused: a twin missing commands would flatter the comparison.
 */
export function twinShape(events: readonly HistoryEvent[], stop?: { key: string; value: string }): TwinShape {
  let end = events.length;
  if (stop) {
    const at = events.findIndex((e) => kindOf(e) === 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES' && searchAttributeValue(e, stop.key) === stop.value);
    if (at < 0) throw new Error(`the history never set ${stop.key} to ${stop.value}`);
    end = at + 1;
  }
  const cut = events.slice(0, end);
  const fateOf = (startedEventId: string): 'fired' | 'canceled' | 'open' => {
    for (const e of cut) {
      if (kindOf(e) === 'TIMER_FIRED' && String((e.timerFiredEventAttributes as any).startedEventId) === startedEventId) return 'fired';
      if (kindOf(e) === 'TIMER_CANCELED' && String((e.timerCanceledEventAttributes as any).startedEventId) === startedEventId) return 'canceled';
    }
    return 'open';
  };
  const steps: TwinStep[] = [];
  const laTasks = new Set<string>();
  const counts = { activities: 0, localActivityTasks: 0, timers: 0, upserts: 0, signals: 0 };
  for (const e of cut) {
    const a = (Object.entries(e).find(([k]) => k.endsWith('EventAttributes'))?.[1] ?? {}) as Record<string, any>;
    switch (kindOf(e)) {
      case 'ACTIVITY_TASK_SCHEDULED':
        steps.push({ kind: 'activity', name: String(a.activityType?.name) });
        counts.activities++;
        break;
      case 'MARKER_RECORDED':
        if (a.markerName === 'core_local_activity') {
          steps.push({ kind: 'localActivity' });
          if (!laTasks.has(String(a.workflowTaskCompletedEventId))) counts.localActivityTasks++;
          laTasks.add(String(a.workflowTaskCompletedEventId));
        }
        break;
      case 'TIMER_STARTED':
        steps.push({ kind: 'timer', timerId: String(a.timerId), ms: durationMs(String(a.startToFireTimeout)), fate: fateOf(String(e.eventId)) });
        counts.timers++;
        break;
      case 'TIMER_CANCELED':
        steps.push({ kind: 'cancelTimer', timerId: String(a.timerId) });
        break;
      case 'UPSERT_WORKFLOW_SEARCH_ATTRIBUTES': {
        // `patched()` records its change version itself (not billed): the twin has no patches.
        const fields: Record<string, string | number> = {};
        for (const key of Object.keys(a.searchAttributes?.indexedFields ?? {})) if (key !== 'TemporalChangeVersion') fields[key] = searchAttributeValue(e, key) as string | number;
        if (Object.keys(fields).length === 0) break;
        steps.push({ kind: 'upsert', fields });
        counts.upserts++;
        break;
      }
      case 'WORKFLOW_EXECUTION_SIGNALED':
        steps.push({ kind: 'signal' });
        counts.signals++;
        break;
      case 'START_CHILD_WORKFLOW_EXECUTION_INITIATED':
      case 'SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED':
      case 'REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED':
      case 'WORKFLOW_EXECUTION_CONTINUED_AS_NEW':
      case 'NEXUS_OPERATION_SCHEDULED':
        throw new Error(`the twin cannot mirror ${kindOf(e)} (event ${e.eventId})`);
      default:
        break;
    }
  }
  return { steps, counts };
}
