/**
 * Operator actions on a transfer's workflow (pure: shared by the workflow, the activities, the
 * worker's audit sink and the API).
 *
 * `retry`, `cancel` and `returnDecision` (the answer to a late or unusual return) arrive as
 * Temporal Updates (validated, answered with the result) or as signals of the same names
 * (`temporal workflow signal`). Every one of them, accepted or refused, is written once to the
 * `operator_actions` table under its own ID: the update ID, or an ID the workflow draws for a
 * signal.
 */
import type { Rail, TransferStatus } from './transfer';

export const OPERATOR_ACTIONS = ['retry', 'cancel', 'returnDecision'] as const;
export type OperatorActionKind = (typeof OPERATOR_ACTIONS)[number];

export interface OperatorCommand {
  reason: string;
  operator: string;
  /** Set by the API; a command sent straight through Temporal has none and is recorded as `temporal`. */
  channel?: 'api';
  /** Set by the API when the command carries out an approval (four eyes): the audit names it. */
  approvalId?: string;
}

export const RETURN_DECISIONS = ['accept', 'dishonor'] as const;
export type ReturnDecisionKind = (typeof RETURN_DECISIONS)[number];

/**
 * An operator's answer to a return the workflow would not take silently (late, or R61–R77):
 * `accept` credits the client back and ends the transfer returned; `dishonor` leaves it completed.
 */
export interface ReturnDecisionCommand extends OperatorCommand {
  decision: ReturnDecisionKind;
}

/** What an Update answers: whether the action was taken and where the transfer stands after it. */
export interface OperatorResult {
  action: OperatorActionKind;
  accepted: boolean;
  status: TransferStatus;
  message: string;
}

/** Audit entries of four eyes (services/approvals.ts): a request, a decision, a break resolved. */
export const APPROVAL_AUDIT_ACTIONS = ['approval_requested', 'approval_approved', 'approval_denied', 'break_resolved'] as const;
export type ApprovalAuditAction = (typeof APPROVAL_AUDIT_ACTIONS)[number];

/** Audit entries of an admin changing a client's settings (its approval thresholds): four eyes can be loosened only on the record. */
export const SETTINGS_AUDIT_ACTIONS = ['client_settings_changed'] as const;
export type SettingsAuditAction = (typeof SETTINGS_AUDIT_ACTIONS)[number];

export interface OperatorActionRecord {
  id: string;
  /** Null for an action on no transfer (a break on a statement line we never sent). */
  transferId: string | null;
  action: OperatorActionKind | ApprovalAuditAction | SettingsAuditAction;
  operator: string;
  reason: string;
  channel: 'api' | 'temporal';
  /** How it arrived: a workflow Update or signal, an approval's request or decision, or a plain API request (a settings change). */
  via: 'update' | 'signal' | 'approval' | 'request';
  outcome: 'accepted' | 'refused';
  detail: string;
  /** The transfer's status when the action arrived; a break's (`open`) for a break with no transfer; null for a client's settings. */
  statusBefore: TransferStatus | 'open' | 'resolved' | null;
  /** ISO-8601; the workflow's clock for actions it records. */
  at: string;
  /** The approval the action requested, decided or carried out. */
  approvalId?: string;
  /** The client whose settings the action changed. */
  clientId?: string;
}

export const OPERATOR_REASON_MAX = 500;
export const OPERATOR_NAME_MAX = 100;

/** The command's own shape: a refusal message, or undefined when it is well formed. */
export function commandProblem(command: unknown): string | undefined {
  const c = command as Partial<OperatorCommand> | null;
  if (!c || typeof c !== 'object') return 'the command must be an object {reason, operator}';
  if (typeof c.operator !== 'string' || c.operator.trim() === '') return 'operator is required: who is acting';
  if (c.operator.length > OPERATOR_NAME_MAX) return `operator must be at most ${OPERATOR_NAME_MAX} characters`;
  if (typeof c.reason !== 'string' || c.reason.trim() === '') return 'reason is required: why the action is taken';
  if (c.reason.length > OPERATOR_REASON_MAX) return `reason must be at most ${OPERATOR_REASON_MAX} characters`;
  return undefined;
}

/** A returnDecision command's shape: the common fields, and a decision that is one of RETURN_DECISIONS. */
export function decisionProblem(command: unknown): string | undefined {
  const problem = commandProblem(command);
  if (problem) return problem;
  const decision = (command as { decision?: unknown }).decision;
  if (!RETURN_DECISIONS.includes(decision as ReturnDecisionKind)) return `decision must be one of ${RETURN_DECISIONS.map((d) => `"${d}"`).join(', ')}`;
  return undefined;
}

/**
 * An audit row's detail. The row has no column for a returnDecision's decision, so its detail
 * names it first (`decision dishonor: accepted while needs_attention`).
 */
export function auditDetail(kind: OperatorActionKind, command: unknown, detail: string): string {
  if (kind !== 'returnDecision') return detail;
  const decision: unknown = (command as { decision?: unknown } | null)?.decision;
  return `decision ${typeof decision === 'string' && decision !== '' ? decision.slice(0, 20) : 'missing'}: ${detail}`;
}

/**
 * Whether a rail can take a payment back once it was submitted. Only SEPA credit transfers, which
 * settle D+1, can: until then a camt.056 recall asks the bank to cancel the payment, and its
 * camt.029 answers CNCL (canceled, nothing will be paid) or RJCR (refused, e.g. already settled).
 * ACH reversals are only for erroneous entries and need the receiver's consent, a SWIFT payment is
 * with correspondent banks at once, and instant rails are final. Elsewhere a submitted payment is
 * never canceled; an operator works it out with the bank.
 */
export const RAIL_CAN_RECALL: Record<Rail, boolean> = { ach: false, sepa: true, sepa_instant: false, swift: false, rtp: false };
