/**
 * Idempotency keys of the API: one row per (client, key), holding the lease, the recovery point and
 * the stored response.
 */
import { EntitySchema } from '@mikro-orm/core';
import { at } from './columns';

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
