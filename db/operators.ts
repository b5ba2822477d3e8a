/**
 * Operators: the people allowed on /v1/ops/* with their roles, and the audit log of their actions on
 * transfers.
 */
import { EntitySchema } from '@mikro-orm/core';
import { at, id } from './columns';

export const OPERATOR_ROLES = ['viewer', 'operator', 'admin'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/**
 * The people allowed on /v1/ops/*: each a named key with a role (SPEC §5), stored only as its
 * SHA-256. `bootstrap` is the admin whose key is OPS_API_KEY. A revoked operator's key is refused
 * from the moment it is revoked; the row stays, as the audit log names it.
 */
export interface OperatorRow {
  id: string;
  name: string;
  role: OperatorRole;
  keyHash: string;
  last4: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}
export const Operator = new EntitySchema<OperatorRow>({
  name: 'Operator',
  tableName: 'operators',
  properties: {
    id: id(),
    name: { type: 'string', length: 100, unique: true },
    role: { type: 'string', length: 16 },
    keyHash: { type: 'string', length: 64, unique: true },
    last4: { type: 'string', length: 4 },
    createdBy: { type: 'string', length: 100 },
    createdAt: at(),
    revokedAt: { ...at(), nullable: true },
  },
});

/**
 * Operator actions on transfers (retry, cancel), accepted or refused, through the API or straight
 * through Temporal. The ID is the action's own: the Temporal update ID, or an ID the workflow drew
 * for a signal, so recording the same action twice finds the row already there.
 */
export interface OperatorActionRow {
  id: string;
  /** Null for an action on no transfer (a break between the books and a statement line we never sent). */
  transferId: string | null;
  action: string;
  operator: string;
  reason: string;
  /** `api` when the ops or client API sent it; `temporal` for a signal or update sent directly. */
  channel: string;
  /** `update` or `signal`. */
  via: string;
  outcome: 'accepted' | 'refused';
  /** What the workflow answered: the status it moved to, or why it refused. */
  detail: string;
  /** The transfer's status when the action arrived; null for an action on a client's settings. */
  statusBefore: string | null;
  at: Date;
  /** The approval the action requested, decided or carried out (four eyes, SPEC §5). */
  approvalId?: string | null;
  /** The client whose settings the action changed (its approval thresholds). */
  clientId?: string | null;
}
export const OperatorAction = new EntitySchema<OperatorActionRow>({
  name: 'OperatorAction',
  tableName: 'operator_actions',
  indexes: [{ properties: ['transferId', 'at'] }],
  properties: {
    id: { type: 'string', length: 100, primary: true },
    transferId: { type: 'string', length: 40, nullable: true },
    action: { type: 'string', length: 24 },
    operator: { type: 'string', length: 100 },
    reason: { type: 'string', length: 500 },
    channel: { type: 'string', length: 16 },
    via: { type: 'string', length: 16 },
    outcome: { type: 'string', length: 16 },
    detail: { type: 'string', length: 500 },
    statusBefore: { type: 'string', length: 24, nullable: true },
    at: at(),
    approvalId: { type: 'string', length: 40, nullable: true, index: true },
    clientId: { type: 'string', length: 40, nullable: true, index: true },
  },
});
