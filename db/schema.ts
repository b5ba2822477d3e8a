/**
 * Every table of Railyard, one file per bounded context, and the ENTITIES list the ORM is
 * configured with (db/orm.ts). Code imports entities and row types from here. The definitions are
 * decorator-free so that every runner (swc, ts-node, the Temporal bundler) sees the same metadata;
 * the column helpers they share are in columns.ts.
 */
import type { EntitySchema } from '@mikro-orm/core';
import { AchCorrection, AchEntry, AchFile, AchWindow } from './ach';
import { Approval } from './approvals';
import { BankInboxCursor, BankInboxFact, BankInboxMessage } from './bank-inbox';
import { ApiKey, Client, Deposit } from './clients';
import { FxQuote } from './fx';
import { IdempotencyKey } from './idempotency';
import { Account, Posting } from './ledger';
import { Operator, OperatorAction } from './operators';
import { ReconciliationBreak, ReconciliationMatch } from './reconciliation';
import { Attempt, RailCounter, Transfer, TransferEvent } from './transfers';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent } from './webhooks';

export * from './ach';
export * from './approvals';
export * from './bank-inbox';
export * from './clients';
export * from './fx';
export * from './idempotency';
export * from './ledger';
export * from './operators';
export * from './reconciliation';
export * from './transfers';
export * from './webhooks';

// The order tables were added in; a new context adds its file above and its tables at the end.
export const ENTITIES: EntitySchema<any>[] = [
  Client,
  Account,
  Posting,
  Transfer,
  TransferEvent,
  Attempt,
  Deposit,
  IdempotencyKey,
  RailCounter,
  FxQuote,
  WebhookEndpoint,
  WebhookEvent,
  WebhookDelivery,
  ReconciliationBreak,
  ReconciliationMatch,
  ApiKey,
  AchCorrection,
  AchWindow,
  AchEntry,
  AchFile,
  OperatorAction,
  Operator,
  Approval,
  BankInboxCursor,
  BankInboxMessage,
  BankInboxFact,
];
