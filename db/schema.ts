import { BigIntType, EntitySchema, Type } from '@mikro-orm/core';

/**
 * JSON kept in a TEXT column and (de)serialized here: MariaDB's JSON is LONGTEXT and reaches the
 * MySQL driver as a string, so the ORM's own json type would hand back strings there.
 */
class JsonText extends Type<unknown, string | null> {
  override convertToDatabaseValue(value: unknown): string | null {
    return value === null || value === undefined ? null : JSON.stringify(value);
  }
  override convertToJSValue(value: string | null): unknown {
    return value === null || value === undefined ? null : typeof value === 'string' ? JSON.parse(value) : value;
  }
  override getColumnType(): string {
    return 'text';
  }
}

/**
 * Table definitions, decorator-free so that every runner (swc, ts-node, the Temporal bundler)
 * sees the same metadata. Money columns are BIGINT read as JS numbers; the code asserts that
 * every amount is a safe integer before it is written.
 */

const money = () => ({ type: new BigIntType('number'), default: 0 });
const id = () => ({ type: 'string', length: 40, primary: true }) as const;
const at = () => ({ type: 'datetime', length: 3 }) as const;

export interface ClientRow {
  id: string;
  name: string;
  apiKeyHash: string;
  createdAt: Date;
}
export const Client = new EntitySchema<ClientRow>({
  name: 'Client',
  tableName: 'clients',
  properties: {
    id: id(),
    name: { type: 'string', length: 200 },
    apiKeyHash: { type: 'string', length: 64, unique: true },
    createdAt: at(),
  },
});

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
    railReference: { type: 'string', length: 64, unique: true },
    status: { type: 'string', length: 16 },
    failureCode: { type: 'string', length: 40, nullable: true },
    createdAt: at(),
    updatedAt: at(),
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

export interface IdempotencyKeyRow {
  /** sha256 of scope and key: one row per (client, key). */
  id: string;
  scope: string;
  idemKey: string;
  fingerprint: string;
  state: 'in_progress' | 'done';
  responseStatus: number | null;
  responseBody: string | null;
  createdAt: Date;
}
export const IdempotencyKey = new EntitySchema<IdempotencyKeyRow>({
  name: 'IdempotencyKey',
  tableName: 'idempotency_keys',
  indexes: [{ properties: ['createdAt'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    scope: { type: 'string', length: 40 },
    idemKey: { type: 'string', length: 255 },
    fingerprint: { type: 'string', length: 64 },
    state: { type: 'string', length: 16 },
    responseStatus: { type: 'integer', nullable: true },
    responseBody: { type: 'text', nullable: true },
    createdAt: at(),
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


/**
 * Operator actions on transfers (retry, cancel), accepted or refused, through the API or straight
 * through Temporal. The ID is the action's own: the Temporal update ID, or an ID the workflow drew
 * for a signal, so recording the same action twice finds the row already there.
 */
export interface OperatorActionRow {
  id: string;
  transferId: string;
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
  /** The transfer's status when the action arrived. */
  statusBefore: string;
  at: Date;
}
export const OperatorAction = new EntitySchema<OperatorActionRow>({
  name: 'OperatorAction',
  tableName: 'operator_actions',
  indexes: [{ properties: ['transferId', 'at'] }],
  properties: {
    id: { type: 'string', length: 100, primary: true },
    transferId: { type: 'string', length: 40 },
    action: { type: 'string', length: 16 },
    operator: { type: 'string', length: 100 },
    reason: { type: 'string', length: 500 },
    channel: { type: 'string', length: 16 },
    via: { type: 'string', length: 16 },
    outcome: { type: 'string', length: 16 },
    detail: { type: 'string', length: 500 },
    statusBefore: { type: 'string', length: 24 },
    at: at(),
  },
});

export const ENTITIES = [Client, Account, Posting, Transfer, TransferEvent, Attempt, Deposit, IdempotencyKey, RailCounter, FxQuote, OperatorAction];
