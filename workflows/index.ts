export * from './transfer';
export * from './reconciliation';
