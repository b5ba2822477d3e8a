import { createTransferActivities, type TransferActivityDeps } from './transfers';
import { createReconciliationActivities, type ReconciliationActivityDeps } from './reconciliation';
import { createReturnActivities } from './returns';
import { createCorrectionActivities } from './corrections';
import { createAchWindowActivities, type AchWindowDeps } from './ach-windows';
import { createOperatorActivities } from './operator';

/** `achWindows`: how ACH entries go out, in one file per cut-off window (absent on a worker without ACH). */
export type ActivityDeps = TransferActivityDeps & ReconciliationActivityDeps & { achWindows?: AchWindowDeps };

/** Every activity the worker registers, built once from real dependencies (or test ones of the same type). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createTransferActivities(deps),
    ...createReconciliationActivities(deps),
    ...createReturnActivities(deps),
    ...createCorrectionActivities(deps),
    ...createAchWindowActivities(deps.achWindows),
    ...createOperatorActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
