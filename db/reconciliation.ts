/**
 * Reconciliation against the bank's statements: the breaks an operator looks into, and the matches
 * that prove an attempt settled.
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id, money } from './columns';

export const RECONCILIATION_BREAK_KINDS = ['amount_mismatch', 'unknown_reference', 'missing_from_statement', 'balance_mismatch', 'unrouted_message'] as const;
export type ReconciliationBreakKind = (typeof RECONCILIATION_BREAK_KINDS)[number];

/**
 * A difference between our books and the bank's statement, for an operator to look into. One row
 * per difference: `dedupeKey` is built from what the difference is about (the end-to-end reference,
 * the statement entry, the account and day), so finding it again on a later run is not a new break.
 */
export interface ReconciliationBreakRow {
  id: string;
  dedupeKey: string;
  kind: ReconciliationBreakKind;
  status: 'open' | 'resolved';
  rail: string | null;
  currency: string;
  statementDate: string | null;
  railReference: string | null;
  transferId: string | null;
  /** What our books say, and what the bank's statement says, in minor units (null when one side has nothing). */
  expectedMinor: number | null;
  actualMinor: number | null;
  detail: string;
  createdAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
  /** The operator who resolved it (approved its resolution); null when the books came to agree on their own. */
  resolvedBy?: string | null;
}
export const ReconciliationBreak = new EntitySchema<ReconciliationBreakRow>({
  name: 'ReconciliationBreak',
  tableName: 'reconciliation_breaks',
  indexes: [{ properties: ['status', 'id'] }, { properties: ['transferId'] }],
  properties: {
    id: id(),
    dedupeKey: { type: 'string', length: 200, unique: true },
    kind: { type: 'string', length: 32 },
    status: { type: 'string', length: 16 },
    rail: { type: 'string', length: 16, nullable: true },
    currency: { type: 'string', length: 3 },
    statementDate: { type: 'string', length: 10, nullable: true },
    railReference: { type: 'string', length: 64, nullable: true },
    transferId: { type: 'string', length: 40, nullable: true },
    expectedMinor: { type: new BigIntType('number'), nullable: true },
    actualMinor: { type: new BigIntType('number'), nullable: true },
    detail: { type: 'string', length: 500 },
    createdAt: at(),
    resolvedAt: { type: 'datetime', length: 3, nullable: true },
    resolution: { type: 'string', length: 500, nullable: true },
    resolvedBy: { type: 'string', length: 100, nullable: true },
  },
});

/** A settled attempt found on the bank's statement: written once per attempt, the proof behind `completed`. */
export interface ReconciliationMatchRow {
  attemptId: string;
  transferId: string;
  railReference: string;
  statementId: string;
  statementDate: string;
  accountServicerRef: string;
  /** The statement entry's amount, and the charges it itemises, in minor units. */
  amountMinor: number;
  chargesMinor: number;
  /** What reached the beneficiary: the amount sent, less charges deducted on the way (SHA, BEN). */
  beneficiaryReceivedMinor: number;
  matchedAt: Date;
}
export const ReconciliationMatch = new EntitySchema<ReconciliationMatchRow>({
  name: 'ReconciliationMatch',
  tableName: 'reconciliation_matches',
  properties: {
    attemptId: { type: 'string', length: 40, primary: true },
    transferId: { type: 'string', length: 40, unique: true },
    railReference: { type: 'string', length: 64, index: true },
    statementId: { type: 'string', length: 64 },
    statementDate: { type: 'string', length: 10 },
    accountServicerRef: { type: 'string', length: 64 },
    amountMinor: { type: new BigIntType('number') },
    chargesMinor: money(),
    beneficiaryReceivedMinor: { type: new BigIntType('number') },
    matchedAt: at(),
  },
});
