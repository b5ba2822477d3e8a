export * from './transfer';
export * from './reconciliation';
export { returnDecisionSignal, returnDecisionUpdate, type ReturnDecision } from './return-watch';
export { achBatchWorkflow } from './ach-batch';
