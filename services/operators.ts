/**
 * Operators are people (SPEC §5): each has a named key with a role. Keys are random
 * (`ry_ops_…`), shown once, stored only as their SHA-256, and refused from the moment they are
 * revoked. `bootstrap` is the admin whose key is OPS_API_KEY: created at the first start, its key
 * brought in line with OPS_API_KEY at every start (a new OPS_API_KEY replaces the old one and
 * lifts a revocation; the same one leaves a revocation standing).
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import { Operator, type OperatorRole, type OperatorRow } from '../db/schema';
import { hashApiKey, newApiKey } from '../api/keys';

export const BOOTSTRAP_OPERATOR = 'bootstrap';

/** What each role may do; each includes the ones before it. */
const RANK: Record<OperatorRole, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAllows(role: OperatorRole, needed: OperatorRole): boolean {
  return RANK[role] >= RANK[needed];
}

export interface AuthenticatedOperator {
  operatorId: string;
  name: string;
  role: OperatorRole;
}

/** The operator a key belongs to, unless it does not exist or was revoked. */
export async function findOperatorByKey(em: SqlEntityManager, apiKey: string): Promise<AuthenticatedOperator | null> {
  const row = await em.fork().findOne(Operator, { keyHash: hashApiKey(apiKey), revokedAt: null });
  return row ? { operatorId: row.id, name: row.name, role: row.role } : null;
}

/** Creates or updates `bootstrap` so that OPS_API_KEY authenticates it as an admin. Safe to run from several processes at once. */
export async function syncBootstrapOperator(em: SqlEntityManager, opsApiKey: string): Promise<void> {
  const keyHash = hashApiKey(opsApiKey);
  for (let attempt = 0; attempt < 3; attempt++) {
    const fork = em.fork();
    const existing = await fork.findOne(Operator, { name: BOOTSTRAP_OPERATOR });
    if (existing) {
      if (existing.keyHash !== keyHash || existing.role !== 'admin') {
        await fork.nativeUpdate(Operator, { id: existing.id }, { keyHash, last4: opsApiKey.slice(-4), role: 'admin', ...(existing.keyHash !== keyHash ? { revokedAt: null } : {}) });
      }
      return;
    }
    try {
      await fork.insert(Operator, { id: newId('op'), name: BOOTSTRAP_OPERATOR, role: 'admin', keyHash, last4: opsApiKey.slice(-4), createdBy: 'OPS_API_KEY', createdAt: new Date(), revokedAt: null });
      return;
    } catch (err) {
      // Another process created it first: read it again.
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
    }
  }
  throw new Error('could not create or update the bootstrap operator');
}

export async function createOperator(em: SqlEntityManager, input: { name: string; role: OperatorRole; createdBy: string }): Promise<{ operator: OperatorRow; apiKey: string }> {
  const apiKey = newApiKey('ops');
  const operator: OperatorRow = { id: newId('op'), name: input.name, role: input.role, keyHash: hashApiKey(apiKey), last4: apiKey.slice(-4), createdBy: input.createdBy, createdAt: new Date(), revokedAt: null };
  try {
    await em.fork().insert(Operator, operator);
  } catch (err) {
    // A name is a person in the audit log: it is never reused, not even after a revocation.
    if (err instanceof UniqueConstraintViolationException) throw new AppError('invalid_state', `an operator named ${input.name} already exists (names are never reused, revoked or not)`, { param: 'name' });
    throw err;
  }
  return { operator, apiKey };
}

/** Revokes an operator's key at once; revoking a revoked operator answers with it as it is. */
export async function revokeOperator(em: SqlEntityManager, operatorId: string, now = new Date()): Promise<OperatorRow> {
  const fork = em.fork();
  const row = await fork.findOne(Operator, { id: operatorId });
  if (!row) throw new AppError('not_found', `no operator ${operatorId}`, { param: 'id' });
  if (!row.revokedAt) await fork.nativeUpdate(Operator, { id: operatorId, revokedAt: null }, { revokedAt: now });
  return fork.fork().findOneOrFail(Operator, { id: operatorId });
}

export function operatorView(o: OperatorRow) {
  return {
    id: o.id,
    object: 'operator',
    name: o.name,
    role: o.role,
    last4: o.last4,
    createdBy: o.createdBy,
    createdAt: o.createdAt.toISOString(),
    revokedAt: o.revokedAt ? o.revokedAt.toISOString() : null,
  };
}
