/**
 * The no-op twins of a payout, measured beside it on the same server (bench-owned worker, own task
 * queue, never in the product's bundle). Both are started with update-with-start, as
 * `POST /v1/transfers` starts a payout, and answer the update after their first step.
 *
 * shapedTwin issues the commands a recorded payout issued (bench/twin/shape.ts), in order: its
 * remote activities (no-ops), timers of the same durations (fired, canceled or left open as they
 * were), the same search-attribute upserts, a wait for each signal the payout received.
 * minimalTwin is the least a payout could be: its steps as local activities, one signal wait.
 */
import { CancellationScope, condition, defineSignal, defineUpdate, proxyActivities, proxyLocalActivities, setHandler, sleep, upsertSearchAttributes } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributeUpdatePair } from '@temporalio/common';
import type { TwinActivities } from './activities';
import type { TwinStep } from './shape';

/** The twins' own task queue on the bench's server. */
export const TWIN_TASK_QUEUE = 'bench-twin';

export const twinStartedUpdate = defineUpdate<{ firstStepDone: true }>('fundsHeld');
export const twinSignal = defineSignal('proceed');

const remote = proxyActivities<TwinActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });
const local = proxyLocalActivities<TwinActivities>({ startToCloseTimeout: '30s', retry: { maximumAttempts: 3 } });

export interface ShapedTwinInput {
  steps: TwinStep[];
}

export interface MinimalTwinInput {
  localSteps: number;
}

function answerAfterFirstStep(): { done(): void } {
  let firstStepDone = false;
  setHandler(twinStartedUpdate, async () => {
    await condition(() => firstStepDone);
    return { firstStepDone: true as const };
  });
  return { done: () => void (firstStepDone = true) };
}

function signalsReceived(): () => number {
  let received = 0;
  setHandler(twinSignal, () => void received++);
  return () => received;
}

function pair(key: string, value: string | number): SearchAttributeUpdatePair {
  return typeof value === 'number'
    ? { key: defineSearchAttributeKey(key, SearchAttributeType.INT), value }
    : { key: defineSearchAttributeKey(key, SearchAttributeType.KEYWORD), value };
}

export async function shapedTwin(input: ShapedTwinInput): Promise<number> {
  const first = answerAfterFirstStep();
  const received = signalsReceived();
  const timers = new Map<string, CancellationScope>();
  let signalsAwaited = 0;
  let steps = 0;
  for (const step of input.steps) {
    switch (step.kind) {
      case 'activity':
        await remote.noop(step.name);
        break;
      case 'localActivity':
        await local.noop('local');
        break;
      case 'timer':
        if (step.fate === 'fired') {
          await sleep(step.ms);
        } else {
          const scope = new CancellationScope();
          timers.set(step.timerId, scope);
          scope.run(() => sleep(step.ms)).catch(() => undefined);
        }
        break;
      case 'cancelTimer':
        timers.get(step.timerId)?.cancel();
        break;
      case 'upsert':
        upsertSearchAttributes(Object.entries(step.fields).map(([k, v]) => pair(k, v)));
        break;
      case 'signal': {
        const wanted = ++signalsAwaited;
        await condition(() => received() >= wanted);
        break;
      }
    }
    steps++;
    if (steps === 1) first.done();
  }
  // Timers still open here were still open when the payout reached this point: left as they were.
  first.done();
  return steps;
}

export async function minimalTwin(input: MinimalTwinInput): Promise<number> {
  const first = answerAfterFirstStep();
  const received = signalsReceived();
  for (let i = 0; i < input.localSteps; i++) {
    await local.noop(`step ${i + 1}`);
    if (i === 0) first.done();
  }
  first.done();
  await condition(() => received() >= 1);
  return input.localSteps;
}
