import { createTransferActivities, type TransferActivityDeps } from './transfers';
import { createReconciliationActivities, type ReconciliationActivityDeps } from './reconciliation';

export type ActivityDeps = TransferActivityDeps & ReconciliationActivityDeps;

/** Every activity the worker registers, built once from real dependencies (or test ones of the same type). */
export function createActivities(deps: ActivityDeps) {
  return { ...createTransferActivities(deps), ...createReconciliationActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
