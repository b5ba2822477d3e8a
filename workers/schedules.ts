/**
 * The daily reconciliation Schedule, created idempotently when a worker or `npm start` starts.
 * Under RAIL_TIME=real it runs at 06:00 UTC, once the bank has published yesterday's statement;
 * under demo the "day" is compressed to every five minutes, reconciling today's statement so far.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleSpec } from '@temporalio/client';
import { reconciliationWorkflow } from '../workflows/reconciliation';

export const RECONCILIATION_SCHEDULE_ID = 'reconciliation-daily';

export function reconciliationScheduleSpec(railTime: 'demo' | 'real'): ScheduleSpec {
  return railTime === 'demo' ? { intervals: [{ every: '5m' }] } : { calendars: [{ hour: 6, minute: 0, comment: 'after the bank publishes the previous day’s camt.053' }] };
}

/**
 * Creates the Schedule, or brings an existing one's timing and task queue up to date: starting a
 * second worker, or the same one again, never makes a second Schedule. Returns whether it was created.
 */
export async function ensureReconciliationSchedule(client: Client, options: { taskQueue: string; railTime: 'demo' | 'real'; scheduleId?: string }): Promise<boolean> {
  const scheduleId = options.scheduleId ?? RECONCILIATION_SCHEDULE_ID;
  const spec = reconciliationScheduleSpec(options.railTime);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconciliationWorkflow,
    // Each run's workflow ID is this plus the scheduled time, so runs never collide.
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [{}] as [Record<string, never>],
  };
  try {
    await client.schedule.create({
      scheduleId,
      spec,
      action,
      // A run still going when the next is due is not doubled; a missed run is made up within a day.
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
    });
    return true;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
    return false;
  }
}
