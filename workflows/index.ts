export * from './transfer';
export * from './reconciliation';
export { returnDecisionSignal, type ReturnDecision } from './return-watch';
export { achBatchWorkflow } from './ach-batch';
