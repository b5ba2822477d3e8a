/**
 * The bank inboxes a test stack runs beside its worker, as workers/main.ts does: one collector per
 * rail reads the stack's own simulator outbox and signals the transfers its messages name through
 * the stack's own Temporal client. A collector's cursor is a position in one simulator's outbox,
 * so each stack that runs them has a database of its own.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { Client } from '@temporalio/client';
import pino from 'pino';
import { signalThrough, startBankInboxes } from '../../services/bank-inbox';

export function testInboxes(orm: MikroORM, bankUrl: string, client: Client, pollMs = 250): { stop(): Promise<void> } {
  return startBankInboxes({
    orm,
    bankUrl,
    pollMs,
    leaseMs: 5_000,
    logger: pino({ level: 'error' }),
    signal: signalThrough(client),
  });
}
