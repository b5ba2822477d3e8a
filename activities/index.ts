import { createTransferActivities, type TransferActivityDeps } from './transfers';
import { createOperatorActivities } from './operator';

export type ActivityDeps = TransferActivityDeps;

/** Every activity the worker registers, built once from real dependencies (or test ones of the same type). */
export function createActivities(deps: ActivityDeps) {
  return { ...createTransferActivities(deps), ...createOperatorActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
