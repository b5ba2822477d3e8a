/**
 * Approvals (four eyes, SPEC §5): actions that wait for a second person, and what they carry out.
 */
import { EntitySchema } from '@mikro-orm/core';
import { at, id, JsonText } from './columns';

export const APPROVAL_KINDS = ['payout', 'recall', 'return_accept', 'break_resolution'] as const;
export type ApprovalKind = (typeof APPROVAL_KINDS)[number];
/** `withdrawn`: the transfer it was about ended before anyone decided (transfers/status.ts). */
export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'withdrawn'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** What an approval carries out once approved (the request's own parameters). */
export type ApprovalAction =
  | { kind: 'payout' }
  | { kind: 'cancel'; reason: string }
  | { kind: 'returnDecision'; decision: 'accept'; reason: string }
  | { kind: 'resolveBreak'; resolution: 'accept' | 'write_off'; reason: string };


/**
 * Four eyes (SPEC §5 Approvals): an action that waits for a second person. Rows, so approvals
 * survive restarts; `executedAt`/`outcome` say whether the approved action was carried out and
 * what it answered.
 */
export interface ApprovalRow {
  id: string;
  kind: ApprovalKind;
  /** The transfer (`tr_…`) or break (`brk_…`) the approval is about. */
  subjectId: string;
  transferId: string | null;
  requestedBy: string;
  requestReason: string;
  status: ApprovalStatus;
  decidedBy: string | null;
  decisionReason: string | null;
  action: ApprovalAction;
  createdAt: Date;
  decidedAt: Date | null;
  executedAt: Date | null;
  outcome: string | null;
}
export const Approval = new EntitySchema<ApprovalRow>({
  name: 'Approval',
  tableName: 'approvals',
  indexes: [{ properties: ['status', 'id'] }, { properties: ['subjectId'] }],
  properties: {
    id: id(),
    kind: { type: 'string', length: 24 },
    subjectId: { type: 'string', length: 40 },
    transferId: { type: 'string', length: 40, nullable: true },
    requestedBy: { type: 'string', length: 100 },
    requestReason: { type: 'string', length: 500 },
    status: { type: 'string', length: 16 },
    decidedBy: { type: 'string', length: 100, nullable: true },
    decisionReason: { type: 'string', length: 500, nullable: true },
    action: { type: new JsonText() },
    createdAt: at(),
    decidedAt: { ...at(), nullable: true },
    executedAt: { ...at(), nullable: true },
    outcome: { type: 'string', length: 500, nullable: true },
  },
});
