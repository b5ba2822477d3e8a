/** The payout workflow and its Temporal surface (see workflow.ts for the loop, machine.ts for the behaviour). */
export * from './definitions';
export { transferWorkflow, type TransferWorkflowArgs } from './workflow';
