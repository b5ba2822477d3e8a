export * from './transfer/index';
export * from './reconciliation';
export { achBatchWorkflow } from './ach-batch';
