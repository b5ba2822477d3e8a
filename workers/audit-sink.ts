/**
 * The worker's end of the workflow's audit sink: writes an operator action that an Update
 * validator refused (and so never reached the workflow's history) to the audit log.
 *
 * Called only for live validations, never on replay. A write that fails is logged with the whole
 * record: the refusal changed nothing, and the operator was answered with it.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { InjectedSinks } from '@temporalio/worker';
import { Runtime } from '@temporalio/worker';
import { withStoredStatus, writeOperatorAction } from '../activities/operator';
import type { AuditSinks } from '../workflows/transfer';

export function auditSinks(orm: MikroORM): InjectedSinks<AuditSinks> {
  return {
    audit: {
      refused: {
        fn: async (_info, record) => {
          try {
            await writeOperatorAction(orm, await withStoredStatus(orm, record));
          } catch (err) {
            Runtime.instance().logger.error('could not write a refused operator action to the audit log', { record, error: (err as Error).message });
          }
        },
        callDuringReplay: false,
      },
    },
  };
}
