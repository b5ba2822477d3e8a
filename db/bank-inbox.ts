/**
 * The bank inbox (services/bank-inbox.ts): each rail's cursor in its bank's outbox, the messages
 * stored once, and the facts read from them with where each went.
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id } from './columns';

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
