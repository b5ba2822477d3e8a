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
  createdAt: Date;
}
export const Client = new EntitySchema<ClientRow>({
  name: 'Client',
  tableName: 'clients',
  properties: {
    id: id(),
    name: { type: 'string', length: 200 },
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
  /**
   * `in_progress` while a request holds the lease (`lockToken` until `lockedUntil`); `resumable`
   * after a request stopped past its recovery point; `done` once the response is stored.
   */
  state: 'in_progress' | 'resumable' | 'done';
  responseStatus: number | null;
  responseBody: string | null;
  createdAt: Date;
  /** The resource the request created (a transfer ID), written in the same transaction as it. */
  recoveryPoint: string | null;
  /** Which request holds the key, and until when; a retry may take over an expired lease. */
  lockToken: string | null;
  lockedUntil: Date | null;
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
    recoveryPoint: { type: 'string', length: 40, nullable: true },
    lockToken: { type: 'string', length: 32, nullable: true },
    lockedUntil: { type: 'datetime', length: 3, nullable: true },
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

export interface WebhookEndpointRow {
  id: string;
  clientId: string;
  url: string;
  /** Event types the endpoint subscribed to, e.g. `["transfer.updated"]`. */
  events: string[];
  /**
   * The signing secret in the clear: HMAC signing needs the secret itself, so a hash would not do.
   * It is shown to the client once, at creation; the database is the thing to protect.
   */
  secret: string;
  /**
   * After a rotation, the secret it replaced, which keeps signing beside the new one until
   * `previousSecretExpiresAt` so that receivers can switch over without dropping a delivery.
   */
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
}
export const WebhookEndpoint = new EntitySchema<WebhookEndpointRow>({
  name: 'WebhookEndpoint',
  tableName: 'webhook_endpoints',
  indexes: [{ properties: ['clientId'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    url: { type: 'string', length: 2048 },
    events: { type: JsonText },
    secret: { type: 'string', length: 80 },
    previousSecret: { type: 'string', length: 80, nullable: true },
    previousSecretExpiresAt: { type: 'datetime', length: 3, nullable: true },
    createdAt: at(),
  },
});

/** The outbox: one row per event, written in the transaction of the change it reports. */
export interface WebhookEventRow {
  id: string;
  clientId: string;
  type: string;
  transferId: string | null;
  /** The exact JSON body every delivery of this event sends. */
  payload: string;
  createdAt: Date;
}
export const WebhookEvent = new EntitySchema<WebhookEventRow>({
  name: 'WebhookEvent',
  tableName: 'webhook_events',
  indexes: [{ properties: ['clientId', 'createdAt'] }, { properties: ['transferId'] }],
  properties: {
    id: id(),
    clientId: { type: 'string', length: 40 },
    type: { type: 'string', length: 40 },
    transferId: { type: 'string', length: 40, nullable: true },
    payload: { type: 'text' },
    createdAt: at(),
  },
});

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'dead';
/** One event to one endpoint: written with the event, then retried until delivered or dead. */
export interface WebhookDeliveryRow {
  id: string;
  eventId: string;
  endpointId: string;
  status: WebhookDeliveryStatus;
  /** Attempts started so far; a dispatcher claims a delivery by bumping it (optimistic lock). */
  attempts: number;
  nextAttemptAt: Date;
  lastAttemptAt: Date | null;
  /** The HTTP status of the last attempt's answer; null before any, and when it got none. */
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  createdAt: Date;
}
export const WebhookDelivery = new EntitySchema<WebhookDeliveryRow>({
  name: 'WebhookDelivery',
  tableName: 'webhook_deliveries',
  uniques: [{ properties: ['eventId', 'endpointId'] }],
  indexes: [{ properties: ['status', 'nextAttemptAt'] }, { properties: ['endpointId'] }],
  properties: {
    id: id(),
    eventId: { type: 'string', length: 40 },
    endpointId: { type: 'string', length: 40 },
    status: { type: 'string', length: 16 },
    attempts: { type: 'integer' },
    nextAttemptAt: at(),
    lastAttemptAt: { type: 'datetime', length: 3, nullable: true },
    lastStatusCode: { type: 'integer', nullable: true },
    lastError: { type: 'string', length: 500, nullable: true },
    deliveredAt: { type: 'datetime', length: 3, nullable: true },
    createdAt: at(),
  },
});

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

export const ENTITIES: EntitySchema<any>[] = [Client, Account, Posting, Transfer, TransferEvent, Attempt, Deposit, IdempotencyKey, RailCounter, FxQuote, WebhookEndpoint, WebhookEvent, WebhookDelivery, ReconciliationBreak, ReconciliationMatch, ApiKey];

/** A notification of change (NACHA COR entry) on a paid ACH entry: kept once per transfer, trace number and code. */
export interface AchCorrectionRow {
  id: string;
  transferId: string;
  traceNumber: string;
  code: string;
  /** The COR addenda's corrected data, as the bank sent it (29 positions at most). */
  correctedData: string;
  receivedAt: Date;
}
export const AchCorrection = new EntitySchema<AchCorrectionRow>({
  name: 'AchCorrection',
  tableName: 'ach_corrections',
  indexes: [{ properties: ['transferId'] }],
  uniques: [{ properties: ['transferId', 'traceNumber', 'code'] }],
  properties: {
    id: id(),
    transferId: { type: 'string', length: 40 },
    traceNumber: { type: 'string', length: 15 },
    code: { type: 'string', length: 3 },
    correctedData: { type: 'string', length: 29 },
    receivedAt: at(),
  },
});

// Registered here, beside its definition, so tables added by parallel work merge without touching one line.
ENTITIES.push(AchCorrection);

/** An ACH file window: entries queue in it until its cut-off, then go out in one file, once. */
export interface AchWindowRow {
  /** `ach-YYYYMMDDTHHMMZ` or `ach-demo-<ms>` (core/ach-windows.ts). */
  id: string;
  cutoffAt: Date;
  /** open → closed (no more entries; the file is being sent) → sent. */
  status: 'open' | 'closed' | 'sent';
  /** The window's first file (ach_files), fixed before anything is sent. */
  fileId: string | null;
  entryCount: number;
  createdAt: Date;
  updatedAt: Date;
}
export const AchWindow = new EntitySchema<AchWindowRow>({
  name: 'AchWindow',
  tableName: 'ach_windows',
  properties: {
    id: { type: 'string', length: 40, primary: true },
    cutoffAt: at(),
    status: { type: 'string', length: 12 },
    fileId: { type: 'string', length: 40, nullable: true },
    entryCount: { type: 'integer' },
    createdAt: at(),
    updatedAt: at(),
  },
});

/** One payout's entry in an ACH window: the intent, written before the file, unique per attempt. */
export interface AchEntryRow {
  attemptId: string;
  transferId: string;
  traceNumber: string;
  windowId: string;
  entryClass: 'PPD' | 'CCD';
  amountMinor: number;
  /**
   * queued → in_file → accepted | rejected (with the bank's code) | file_refused (the bank refused
   * the whole file); queued → canceled (withdrawn before its window closed); queued → refused
   * (Railyard could not write it into a NACHA file: `refusal` says why; nothing was sent). A retry
   * after a refused file moves the entry, same trace number, back to queued in a later window; an
   * entry whose file's fate is unknown stays in that file, which is sent again byte for byte.
   */
  status: 'queued' | 'in_file' | 'accepted' | 'rejected' | 'file_refused' | 'canceled' | 'refused';
  code: string | null;
  effectiveDate: string | null;
  /** The file (ach_files) that carries the entry, set when its window's files are planned. */
  fileId: string | null;
  refusal: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export const AchEntry = new EntitySchema<AchEntryRow>({
  name: 'AchEntry',
  tableName: 'ach_entries',
  indexes: [{ properties: ['windowId', 'status'] }],
  properties: {
    attemptId: { type: 'string', length: 40, primary: true },
    transferId: { type: 'string', length: 40 },
    // Unique per ODFI and file date, not for all time: lookups by trace number take the newest entry.
    traceNumber: { type: 'string', length: 15, index: true },
    windowId: { type: 'string', length: 40 },
    entryClass: { type: 'string', length: 3 },
    amountMinor: { type: new BigIntType('number') },
    status: { type: 'string', length: 12 },
    code: { type: 'string', length: 8, nullable: true },
    effectiveDate: { type: 'string', length: 10, nullable: true },
    fileId: { type: 'string', length: 40, nullable: true },
    refusal: { type: 'string', length: 200, nullable: true },
    createdAt: at(),
    updatedAt: at(),
  },
});

/**
 * One NACHA file of a window, stored as sent: every resend after a lost answer posts these same
 * bytes under the same identity (origin, creation date and time, File ID Modifier), which is what
 * a bank de-duplicates files by, so a file whose answer was lost can never be paid twice.
 */
export interface AchFileRow {
  /** `<windowId>-<seq>`. */
  id: string;
  windowId: string;
  /** 1, 2, …: the window's files in the order they are sent. */
  seq: number;
  /** The file header's creation date (YYMMDD) and time (HHMM), UTC, and File ID Modifier. */
  creationDate: string;
  creationTime: string;
  idModifier: string;
  /** built (not yet answered) → accepted (the bank answered each entry) | refused (the file whole). */
  status: 'built' | 'accepted' | 'refused';
  refusal: string | null;
  entryCount: number;
  totalMinor: number;
  content: string;
  createdAt: Date;
  updatedAt: Date;
}
export const AchFile = new EntitySchema<AchFileRow>({
  name: 'AchFile',
  tableName: 'ach_files',
  indexes: [{ properties: ['windowId'] }],
  uniques: [{ properties: ['creationDate', 'creationTime', 'idModifier'] }],
  properties: {
    id: { type: 'string', length: 40, primary: true },
    windowId: { type: 'string', length: 40 },
    seq: { type: 'integer' },
    creationDate: { type: 'string', length: 6 },
    creationTime: { type: 'string', length: 4 },
    idModifier: { type: 'string', length: 1 },
    status: { type: 'string', length: 12 },
    refusal: { type: 'string', length: 500, nullable: true },
    entryCount: { type: 'integer' },
    totalMinor: { type: new BigIntType('number') },
    // Up to ACH_FILE_ENTRIES_MAX records of 95 bytes: more than MySQL's TEXT holds.
    content: { type: 'text', columnType: 'mediumtext' },
    createdAt: at(),
    updatedAt: at(),
  },
});

ENTITIES.push(AchWindow, AchEntry, AchFile);

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

ENTITIES.push(OperatorAction);

/**
 * A bank inbox's place in its bank's outbox, one row per rail (services/bank-inbox.ts). The lease
 * says which worker collects the rail now: another worker takes over once `leaseUntil` has passed.
 */
export interface BankInboxCursorRow {
  rail: string;
  /** The outbox cursor after the last message stored; null before the first. */
  cursor: string | null;
  leaseOwner: string | null;
  leaseUntil: Date | null;
  updatedAt: Date;
}
export const BankInboxCursor = new EntitySchema<BankInboxCursorRow>({
  name: 'BankInboxCursor',
  tableName: 'bank_inbox_cursors',
  properties: {
    rail: { type: 'string', length: 16, primary: true },
    cursor: { type: 'string', length: 40, nullable: true },
    leaseOwner: { type: 'string', length: 64, nullable: true },
    leaseUntil: { type: 'datetime', length: 3, nullable: true },
    updatedAt: at(),
  },
});

/**
 * A message the bank sent on its own, stored once by (rail, the bank's message ID) with its raw
 * text, which may hold account numbers and bank free text: for operators, never shown to clients.
 */
export interface BankInboxMessageRow {
  id: string;
  rail: string;
  bankMessageId: string;
  /** The outbox's type: ach.file_ack, nacha.return, pacs.002, pain.002, pacs.004, camt.054, camt.029, camt.053. */
  type: string;
  /** read → its facts are written (bank_message_facts); unreadable → a reconciliation break says so. */
  status: 'stored' | 'read' | 'unreadable';
  sentAt: Date;
  receivedAt: Date;
  raw: string;
}
export const BankInboxMessage = new EntitySchema<BankInboxMessageRow>({
  name: 'BankInboxMessage',
  tableName: 'bank_messages',
  uniques: [{ properties: ['rail', 'bankMessageId'] }],
  indexes: [{ properties: ['rail', 'status'] }],
  properties: {
    id: id(),
    rail: { type: 'string', length: 16 },
    bankMessageId: { type: 'string', length: 64 },
    type: { type: 'string', length: 24 },
    status: { type: 'string', length: 12 },
    sentAt: at(),
    receivedAt: at(),
    // A statement or return file of a busy day: more than MySQL's TEXT holds.
    raw: { type: 'text', columnType: 'mediumtext' },
  },
});

/**
 * One fact a bank message states about one payment (core/bank-message.ts), and where it went:
 * pending (to be signalled) → signalled | redundant (the transfer already knows it) | unrouted (no
 * transfer has the reference: a break) | workflow_gone (the transfer's workflow no longer runs: a
 * break) | failed (signalling kept failing). The ID is `<message id>:<n>`, the signal's messageId.
 */
export interface BankInboxFactRow {
  id: string;
  messageId: string;
  rail: string;
  kind: string;
  railReference: string;
  code: string | null;
  amountMinor: number | null;
  currency: string | null;
  bookedAt: Date | null;
  attemptId: string | null;
  transferId: string | null;
  status: 'pending' | 'signalled' | 'redundant' | 'unrouted' | 'workflow_gone' | 'failed';
  signalAttempts: number;
  createdAt: Date;
  updatedAt: Date;
}
export const BankInboxFact = new EntitySchema<BankInboxFactRow>({
  name: 'BankInboxFact',
  tableName: 'bank_message_facts',
  indexes: [{ properties: ['rail', 'status'] }, { properties: ['attemptId', 'kind'] }, { properties: ['messageId'] }],
  properties: {
    id: { type: 'string', length: 48, primary: true },
    messageId: { type: 'string', length: 40 },
    rail: { type: 'string', length: 16 },
    kind: { type: 'string', length: 24 },
    railReference: { type: 'string', length: 64 },
    code: { type: 'string', length: 16, nullable: true },
    amountMinor: { type: new BigIntType('number'), nullable: true },
    currency: { type: 'string', length: 3, nullable: true },
    bookedAt: { type: 'datetime', length: 3, nullable: true },
    attemptId: { type: 'string', length: 40, nullable: true },
    transferId: { type: 'string', length: 40, nullable: true },
    status: { type: 'string', length: 16 },
    signalAttempts: { type: 'integer' },
    createdAt: at(),
    updatedAt: at(),
  },
});

ENTITIES.push(BankInboxCursor, BankInboxMessage, BankInboxFact);
