/**
 * The payout workflow's Temporal surface (SPEC §6): the query, Updates and signals, by name. The
 * API, the CLI and the bank inboxes are written against these names.
 */
import { defineQuery, defineSignal, defineUpdate, type Sinks } from '@temporalio/workflow';
import { APPROVAL_DECISION_SIGNAL, type ApprovalDecision } from '../../core/approval';
import { BANK_MESSAGE_SIGNAL, type BankMessage } from '../../core/bank-message';
import type { OperatorActionRecord, OperatorCommand, OperatorResult, ReturnDecisionCommand } from '../../core/operator';
import type { HoldOutcome, TransferStatus } from '../../core/transfer';

export type { OperatorCommand, OperatorResult };
export type ReturnDecision = ReturnDecisionCommand;

export interface TransferState {
  transferId: string;
  status: TransferStatus;
  reason: string | null;
  railReference: string | null;
  failureCode: string | null;
  /**
   * While in needs_attention: the step that stopped, and what retry and cancel would do; on a late
   * return (step `return decision`), what each returnDecision would do too.
   */
  waitingFor: { step: string; retry: string; cancel: string; accept?: string; dishonor?: string } | null;
  /** The machine's phase (workflows/transfer/model.ts), for people reading the UI. */
  phase: string;
}

export const statusQuery = defineQuery<TransferState>('status');
/** Update-with-start: the API's POST /v1/transfers answers once this returns (the hold placed, or refused). */
export const fundsHeldUpdate = defineUpdate<HoldOutcome>('fundsHeld');
export const retryUpdate = defineUpdate<OperatorResult, [OperatorCommand]>('retry');
export const cancelUpdate = defineUpdate<OperatorResult, [OperatorCommand]>('cancel');
export const returnDecisionUpdate = defineUpdate<OperatorResult, [ReturnDecisionCommand]>('returnDecision');
export const retrySignal = defineSignal<[OperatorCommand]>('retry');
export const cancelSignal = defineSignal<[OperatorCommand]>('cancel');
export const returnDecisionSignal = defineSignal<[ReturnDecisionCommand]>('returnDecision');
export const bankMessageSignal = defineSignal<[BankMessage]>(BANK_MESSAGE_SIGNAL);
export const approvalDecisionSignal = defineSignal<[ApprovalDecision]>(APPROVAL_DECISION_SIGNAL);

/**
 * An Update refused by its validator leaves no trace in the workflow's history, so the workflow
 * cannot record it with an activity; the worker writes it from this sink instead, under the
 * update's ID (workers/audit-sink.ts). Validators never run on replay, so it is written once.
 */
export interface AuditSinks extends Sinks {
  audit: { refused(record: OperatorActionRecord): void };
}
