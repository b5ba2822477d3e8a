export * from './transfer';
export { returnDecisionSignal, type ReturnDecision } from './return-watch';
