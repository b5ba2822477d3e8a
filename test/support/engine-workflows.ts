/** The workflows of engineBundle (engine-bundle.ts). */
export { transferWorkflow } from '../../workflows/transfer/index';
export { achBatchWorkflow } from '../../workflows/ach-batch';
export { reconciliationWorkflow } from '../../workflows/reconciliation';
