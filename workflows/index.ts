export * from './transfer';
export { returnDecisionSignal, type ReturnDecision } from './return-watch';
export { achBatchWorkflow } from './ach-batch';
