/**
 * FX quotes: a rate and fee fixed for a client until expiry, paying for one transfer at most.
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id } from './columns';

export interface FxQuoteRow {
  id: string;
  clientId: string;
  sourceCurrency: string;
  targetCurrency: string;
  /** What the client's balance pays, fee included. */
  sourceAmountMinor: number;
  feeMinor: number;
  /** sourceAmountMinor − feeMinor: what is converted. */
  convertedMinor: number;
  midRate: string;
  rate: string;
  /** convertedMinor at `rate`: what the beneficiary gets. */
  targetAmountMinor: number;
  /** convertedMinor at `midRate`; the difference to targetAmountMinor is the spread. */
  midTargetAmountMinor: number;
  expiresAt: Date;
  createdAt: Date;
  /** A quote pays for one transfer at most. */
  transferId: string | null;
}
export const FxQuote = new EntitySchema<FxQuoteRow>({
  name: 'FxQuote',
  tableName: 'fx_quotes',
  indexes: [{ properties: ['clientId', 'createdAt'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    sourceCurrency: { type: 'string', length: 3 },
    targetCurrency: { type: 'string', length: 3 },
    sourceAmountMinor: { type: new BigIntType('number') },
    feeMinor: { type: new BigIntType('number') },
    convertedMinor: { type: new BigIntType('number') },
    midRate: { type: 'string', length: 40 },
    rate: { type: 'string', length: 40 },
    targetAmountMinor: { type: new BigIntType('number') },
    midTargetAmountMinor: { type: new BigIntType('number') },
    expiresAt: at(),
    createdAt: at(),
    transferId: { type: 'string', length: 40, nullable: true, unique: true },
  },
});
