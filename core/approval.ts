/**
 * Four eyes inside a payout (SPEC §5 Approvals): the contract between the API's approvals and the
 * payout workflow.
 *
 * A payout whose amount is at or above its client's `approvalThresholdMinor` for its currency is
 * started with `approvalRequired: true` (TransferWorkflowInput). After the hold it waits in
 * `needs_approval` — a signal wait with no deadline, costing nothing — until an operator other than
 * the requester decides. The API records the approval, checks the four eyes, and then sends the
 * decision to `transfer-<id>` as the signal `approvalDecision`: `approve` lets the payout go on,
 * `deny` cancels it and voids the hold. The workflow applies the first decision it gets and
 * ignores any later one.
 */
export const APPROVAL_DECISION_SIGNAL = 'approvalDecision';

export const APPROVAL_DECISIONS = ['approve', 'deny'] as const;
export type ApprovalDecisionKind = (typeof APPROVAL_DECISIONS)[number];

/**
 * What the workflow asks the approvals table before it acts on an approval (activities/operator.ts
 * `approvalProblem`): a decision or a command names its approval, and anyone who can reach Temporal
 * could name one. It must exist, be about this transfer and this action, be decided that way, and
 * have been decided by someone other than who asked.
 */
export interface ApprovalCheck {
  approvalId: string;
  transferId: string;
  kind: 'payout' | 'recall' | 'return_accept';
  status: 'approved' | 'denied';
}

export interface ApprovalDecision {
  /** The approval's ID (`apr_…`); the workflow's event names it. */
  approvalId: string;
  decision: ApprovalDecisionKind;
  /** The deciding operator's name, from the key that authenticated the decision. */
  operator: string;
  reason: string;
}
