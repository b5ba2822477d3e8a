/**
 * Clients: who Railyard pays out for, the API keys they call it with, and the money they pay in.
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id, JsonText } from './columns';

export interface ClientRow {
  id: string;
  name: string;
  createdAt: Date;
  /** Per currency, the payout amount (minor units) at or above which a payout waits for an approval (SPEC §5). */
  approvalThresholdMinor?: Record<string, number> | null;
}
export const Client = new EntitySchema<ClientRow>({
  name: 'Client',
  tableName: 'clients',
  properties: {
    id: id(),
    name: { type: 'string', length: 200 },
    createdAt: at(),
    approvalThresholdMinor: { type: new JsonText(), nullable: true },
  },
});

/**
 * A client's API keys: each stored only as its SHA-256, with the last four characters to tell keys
 * apart in listings. A client may hold several (to rotate without downtime); a revoked key stays
 * as a record of what existed and is refused from the moment it is revoked.
 */
export interface ApiKeyRow {
  id: string;
  clientId: string;
  keyHash: string;
  last4: string;
  createdAt: Date;
  revokedAt: Date | null;
}
export const ApiKey = new EntitySchema<ApiKeyRow>({
  name: 'ApiKey',
  tableName: 'api_keys',
  indexes: [{ properties: ['clientId'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    keyHash: { type: 'string', length: 64, unique: true },
    last4: { type: 'string', length: 4 },
    createdAt: at(),
    revokedAt: { ...at(), nullable: true },
  },
});

export interface DepositRow {
  id: string;
  clientId: string;
  currency: string;
  amountMinor: number;
  reference: string;
  postingId: string;
  createdAt: Date;
}
export const Deposit = new EntitySchema<DepositRow>({
  name: 'Deposit',
  tableName: 'deposits',
  uniques: [{ properties: ['clientId', 'reference'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    currency: { type: 'string', length: 3 },
    amountMinor: { type: new BigIntType('number') },
    reference: { type: 'string', length: 140 },
    postingId: { type: 'string', length: 40 },
    createdAt: at(),
  },
});
