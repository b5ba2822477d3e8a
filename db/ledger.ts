/**
 * The double-entry ledger: accounts with their pending and posted balances, and the postings
 * between them (ledger/ledger.ts keeps the rules).
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id, money } from './columns';

export type AccountKind = 'client' | 'system';
export interface AccountRow {
  id: string;
  accountKey: string;
  clientId: string | null;
  currency: string;
  kind: AccountKind;
  /** Client balances: debits (posted + pending) may never exceed posted credits. */
  mustNotOverdraw: boolean;
  debitsPendingMinor: number;
  debitsPostedMinor: number;
  creditsPendingMinor: number;
  creditsPostedMinor: number;
  createdAt: Date;
  updatedAt: Date;
}
export const Account = new EntitySchema<AccountRow>({
  name: 'Account',
  tableName: 'accounts',
  indexes: [{ properties: ['clientId'] }],
  properties: {
    id: id(),
    accountKey: { type: 'string', length: 120, unique: true },
    clientId: { type: 'string', length: 40, nullable: true },
    currency: { type: 'string', length: 3 },
    kind: { type: 'string', length: 16 },
    mustNotOverdraw: { type: 'boolean' },
    debitsPendingMinor: money(),
    debitsPostedMinor: money(),
    creditsPendingMinor: money(),
    creditsPostedMinor: money(),
    createdAt: at(),
    updatedAt: at(),
  },
});

export type PostingKind = 'single' | 'pending' | 'post_pending' | 'void_pending' | 'expire_pending';
export interface PostingRow {
  id: string;
  externalId: string;
  kind: PostingKind;
  /** For post/void/expire: the pending posting this one resolves. Unique, so a hold resolves once. */
  pendingId: string | null;
  debitAccountId: string;
  creditAccountId: string;
  currency: string;
  amountMinor: number;
  code: string;
  transferId: string | null;
  expiresAt: Date | null;
  createdAt: Date;
}
export const Posting = new EntitySchema<PostingRow>({
  name: 'Posting',
  tableName: 'postings',
  indexes: [{ properties: ['transferId'] }, { properties: ['debitAccountId'] }, { properties: ['creditAccountId'] }],
  properties: {
    id: id(),
    externalId: { type: 'string', length: 160, unique: true },
    kind: { type: 'string', length: 16 },
    pendingId: { type: 'string', length: 40, nullable: true, unique: true },
    debitAccountId: { type: 'string', length: 40 },
    creditAccountId: { type: 'string', length: 40 },
    currency: { type: 'string', length: 3 },
    amountMinor: { type: new BigIntType('number') },
    code: { type: 'string', length: 40 },
    transferId: { type: 'string', length: 40, nullable: true },
    expiresAt: { type: 'datetime', length: 3, nullable: true },
    createdAt: at(),
  },
});
