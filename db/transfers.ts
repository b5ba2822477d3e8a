/**
 * Payouts: the transfer, its status history (transfer events), its submissions to a rail (attempts)
 * and the counters rail references are drawn from.
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id, JsonText, money } from './columns';

export interface TransferRow {
  id: string;
  clientId: string;
  status: string;
  amountMinor: number;
  currency: string;
  targetCurrency: string;
  targetAmountMinor: number;
  fxRate: string | null;
  quoteId: string | null;
  feeMinor: number;
  rail: string;
  beneficiary: Record<string, string>;
  reference: string | null;
  metadata: Record<string, string> | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdAt: Date;
  updatedAt: Date;
  version: number;
  /** SWIFT only: who bears the charges (OUR, SHA, BEN); null on other rails. */
  chargeBearer?: string | null;
}
export const Transfer = new EntitySchema<TransferRow>({
  name: 'Transfer',
  tableName: 'transfers',
  indexes: [{ properties: ['clientId', 'createdAt'] }, { properties: ['status'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    status: { type: 'string', length: 24 },
    amountMinor: { type: new BigIntType('number') },
    currency: { type: 'string', length: 3 },
    targetCurrency: { type: 'string', length: 3 },
    targetAmountMinor: { type: new BigIntType('number') },
    fxRate: { type: 'string', length: 40, nullable: true },
    quoteId: { type: 'string', length: 40, nullable: true },
    feeMinor: money(),
    rail: { type: 'string', length: 16 },
    beneficiary: { type: JsonText },
    reference: { type: 'string', length: 140, nullable: true },
    metadata: { type: JsonText, nullable: true },
    failureCode: { type: 'string', length: 40, nullable: true },
    failureMessage: { type: 'string', length: 500, nullable: true },
    createdAt: at(),
    updatedAt: at(),
    version: { type: 'integer', version: true },
    chargeBearer: { type: 'string', length: 3, nullable: true },
  },
});

export interface TransferEventRow {
  id: string;
  transferId: string;
  status: string;
  reason: string | null;
  at: Date;
}
export const TransferEvent = new EntitySchema<TransferEventRow>({
  name: 'TransferEvent',
  tableName: 'transfer_events',
  indexes: [{ properties: ['transferId', 'at'] }],
  properties: {
    id: id(),
    transferId: { type: 'string', length: 40 },
    status: { type: 'string', length: 24 },
    reason: { type: 'string', length: 500, nullable: true },
    at: at(),
  },
});

export interface AttemptRow {
  id: string;
  transferId: string;
  /** 1 for the first submission; an operator retry makes the next. */
  attemptNo: number;
  rail: string;
  railReference: string;
  status: string;
  failureCode: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Known once the bank's statement is matched: what reached the beneficiary, and the SWIFT charges. */
  beneficiaryReceivedMinor?: number | null;
  chargesMinor?: number | null;
}
export const Attempt = new EntitySchema<AttemptRow>({
  name: 'Attempt',
  tableName: 'attempts',
  uniques: [{ properties: ['transferId', 'attemptNo'] }],
  properties: {
    id: id(),
    transferId: { type: 'string', length: 40 },
    attemptNo: { type: 'integer' },
    rail: { type: 'string', length: 16 },
    // Not unique for all time: an ACH trace number comes round after ten million entries (activities/transfers.ts).
    railReference: { type: 'string', length: 64, index: true },
    status: { type: 'string', length: 16 },
    failureCode: { type: 'string', length: 40, nullable: true },
    createdAt: at(),
    updatedAt: at(),
    beneficiaryReceivedMinor: { type: new BigIntType('number'), nullable: true },
    chargesMinor: { type: new BigIntType('number'), nullable: true },
  },
});

export interface RailCounterRow {
  name: string;
  value: number;
}
export const RailCounter = new EntitySchema<RailCounterRow>({
  name: 'RailCounter',
  tableName: 'rail_counters',
  properties: {
    name: { type: 'string', length: 40, primary: true },
    value: { type: new BigIntType('number') },
  },
});
