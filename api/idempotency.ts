/**
 * Idempotency keys, as Stripe's API taught clients to expect.
 *
 * The first request with a key claims it: a row in `in_progress` holding a lease (a random token,
 * valid for LEASE_MS). Its response is stored and replayed, status and body, to any later request
 * with the same key and the same fingerprint (method, route, canonical body), with
 * `Idempotent-Replayed: true`. A different body under the key is 422 `idempotency_key_reused`; a
 * request while the first still holds the lease is 409 `idempotency_key_in_use`.
 *
 * Recovery point: a handler that creates a resource records its ID with the key in the same
 * transaction as the resource (`saveRecoveryPoint`). If the request then fails with a 5xx, or the
 * process dies, the key is not released: it becomes `resumable` (or its lease runs out) and the
 * next request under it resumes the same resource instead of creating another. Requests refused
 * before any work began (400) and 5xx before a recovery point release the key so the client can try
 * again. Every other answer, errors included, is stored and replayed. Keys are scoped per client
 * and kept 24 hours, then swept.
 *
 * The lock token is the version of the claim: saving a recovery point writes a new token (and
 * renews the lease), and a takeover matches the token it read. A retry that read the key before a
 * recovery point was saved — while the transaction saving it was still open — therefore cannot
 * take the key over once it commits; and the recovery point a takeover resumes is read after the
 * takeover, under the new token, when nobody else can write it any more.
 */
import { createHash, randomBytes } from 'node:crypto';
import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Request, Response } from 'express';
import { AppError } from '../core/errors';
import { IdempotencyKey, type IdempotencyKeyRow } from '../db/schema';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;
/**
 * Printable ASCII, no space at either end: what an HTTP header carries unchanged (servers and
 * proxies trim the ends, and other bytes are recoded on the way), so the key the client keeps is
 * the key stored. A UUID is the usual choice. The OpenAPI document declares the same rule.
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[!-~]([ -~]*[!-~])?$/;
/**
 * How long a request owns its key. A request still running after this may be overtaken by a retry;
 * handlers bound their own outside calls well below it (see START_DEADLINE_MS in start-transfer).
 */
export const LEASE_MS = 60_000;

export interface HandlerResult {
  status: number;
  body: unknown;
  /**
   * Top-level body fields shown once and never stored (an API key): the stored answer, and so a
   * replay, leaves them out, so the idempotency table never holds a credential in the clear.
   */
  shownOnce?: readonly string[];
}

function storedBody(result: HandlerResult): string {
  if (!result.shownOnce?.length || typeof result.body !== 'object' || result.body === null) return JSON.stringify(result.body);
  const kept = Object.fromEntries(Object.entries(result.body).filter(([field]) => !result.shownOnce!.includes(field)));
  return JSON.stringify(kept);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function fingerprint(method: string, route: string, params: unknown, body: unknown): string {
  return createHash('sha256').update(`${method}\n${route}\n${canonical(params)}\n${canonical(body)}`).digest('hex');
}

export function errorResult(err: unknown): HandlerResult | undefined {
  return err instanceof AppError ? { status: err.status, body: err.toBody() } : undefined;
}

export interface IdempotentRun {
  /** The resource an earlier request under this key created before it stopped, if any. */
  recoveryPoint: string | null;
  /**
   * Records the created resource's ID with the key, inside the transaction that creates it.
   * Throws (rolling that transaction back) when this request no longer holds the key.
   */
  saveRecoveryPoint(tx: SqlEntityManager, resourceId: string): Promise<void>;
}

/** Claims the key for this request, or says why not: replay, reuse with another body, or in use. */
async function claim(
  em: SqlEntityManager,
  row: Pick<IdempotencyKeyRow, 'id' | 'scope' | 'idemKey' | 'fingerprint'>,
  token: string,
): Promise<{ kind: 'claimed'; recoveryPoint: string | null } | { kind: 'replay'; existing: IdempotencyKeyRow }> {
  for (let round = 0; round < 3; round++) {
    const now = Date.now();
    try {
      await em.insert(IdempotencyKey, { ...row, state: 'in_progress', responseStatus: null, responseBody: null, createdAt: new Date(now), recoveryPoint: null, lockToken: token, lockedUntil: new Date(now + LEASE_MS) });
      return { kind: 'claimed', recoveryPoint: null };
    } catch (err) {
      if (!(err instanceof UniqueConstraintViolationException)) throw err;
    }
    const existing = await em.fork().findOne(IdempotencyKey, { id: row.id });
    if (!existing) continue; // swept or released between our insert and this read: try again
    if (existing.createdAt.getTime() < now - IDEMPOTENCY_TTL_MS) {
      // Expired but not yet swept: the key is free again.
      await em.nativeDelete(IdempotencyKey, { id: row.id, createdAt: existing.createdAt });
      continue;
    }
    if (existing.fingerprint !== row.fingerprint) {
      throw new AppError('idempotency_key_reused', 'this Idempotency-Key was used with a different request; use a new key for a new request', { param: 'Idempotency-Key' });
    }
    if (existing.state === 'done') return { kind: 'replay', existing };
    const leaseOver = existing.lockedUntil === null || existing.lockedUntil.getTime() < now;
    if (existing.state === 'resumable' || leaseOver) {
      // The earlier request stopped (a 5xx, or a process that died holding the lease): take the key
      // over. The token in the WHERE makes the takeover one winner among concurrent retries, and
      // fails when the holder saved a recovery point (a new token) after this read.
      const taken = await em.nativeUpdate(
        IdempotencyKey,
        { id: row.id, state: existing.state, lockToken: existing.lockToken },
        { state: 'in_progress', lockToken: token, lockedUntil: new Date(now + LEASE_MS) },
      );
      if (taken === 1) {
        const mine = await em.fork().findOne(IdempotencyKey, { id: row.id, lockToken: token });
        if (mine) return { kind: 'claimed', recoveryPoint: mine.recoveryPoint };
      }
      if (taken === 0) continue; // the key changed since it was read: read it again
    }
    throw new AppError('idempotency_key_in_use', 'a request with this Idempotency-Key is still being processed; retry later');
  }
  throw new AppError('idempotency_key_in_use', 'this Idempotency-Key is changing hands; retry later');
}

const newToken = () => randomBytes(16).toString('hex');

/** Runs `run` at most once per (scope, key) and sends its result. */
/** Idempotency keys are scoped to their caller: an operator's keys are its own, as a client's are. */
export function opsScope(req: Request): string {
  return req.caller?.kind === 'ops' ? `ops:${req.caller.operatorId}` : 'ops';
}

export async function withIdempotency(
  orm: MikroORM,
  req: Request,
  res: Response,
  scope: string,
  run: (ctx: IdempotentRun) => Promise<HandlerResult>,
): Promise<void> {
  const key = req.get('Idempotency-Key');
  if (!key) throw new AppError('invalid_request', 'Idempotency-Key header is required on this request', { param: 'Idempotency-Key' });
  if (key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new AppError('invalid_request', `Idempotency-Key must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters`, { param: 'Idempotency-Key' });
  }
  if (!IDEMPOTENCY_KEY_PATTERN.test(key)) {
    throw new AppError('invalid_request', 'Idempotency-Key must be printable ASCII characters (a UUID, say)', { param: 'Idempotency-Key' });
  }
  const id = createHash('sha256').update(`${scope}\n${key}`).digest('hex');
  const print = fingerprint(req.method, req.route?.path ?? req.path, req.params, req.body);
  const em = orm.em.fork() as SqlEntityManager;
  const token = newToken();

  const claimed = await claim(em, { id, scope, idemKey: key, fingerprint: print }, token);
  if (claimed.kind === 'replay') {
    const { existing } = claimed;
    res.set('Idempotent-Replayed', 'true').status(existing.responseStatus!).type('application/json').send(existing.responseBody);
    return;
  }

  let recoveryPoint = claimed.recoveryPoint;
  /**
   * The tokens this request has held: the claim's, then one per saved recovery point. The row holds
   * the last one whose transaction committed; a takeover replaces it with a token not in this list.
   */
  const held = [token];
  const ctx: IdempotentRun = {
    recoveryPoint,
    async saveRecoveryPoint(tx, resourceId) {
      const next = newToken();
      const saved = await tx.nativeUpdate(IdempotencyKey, { id, lockToken: { $in: [...held] } }, { recoveryPoint: resourceId, lockToken: next, lockedUntil: new Date(Date.now() + LEASE_MS) });
      if (saved !== 1) throw new AppError('idempotency_key_in_use', 'another request took over this Idempotency-Key; retry later');
      held.push(next);
      recoveryPoint = resourceId;
    },
  };
  // Only the lease holder may settle the key: a request overtaken after LEASE_MS changes nothing.
  const mine = { id, lockToken: { $in: held } };
  /** After a failure: keep the key for a resuming retry once something was created, else free it. */
  const release = () =>
    recoveryPoint !== null
      ? em.nativeUpdate(IdempotencyKey, mine, { state: 'resumable', lockToken: null, lockedUntil: null })
      : em.nativeDelete(IdempotencyKey, mine);

  let result: HandlerResult;
  try {
    result = await run(ctx);
  } catch (err) {
    const known = errorResult(err);
    if (!known || known.status === 400 || known.status >= 500) {
      await release();
      throw err;
    }
    result = known;
  }
  if (result.status >= 500) {
    await release();
  } else {
    await em.nativeUpdate(IdempotencyKey, mine, { state: 'done', responseStatus: result.status, responseBody: storedBody(result), lockToken: null, lockedUntil: null });
  }
  res.status(result.status).json(result.body);
}

/** Deletes keys past their retention; bounded per call so a backlog cannot stall the process. */
export async function sweepIdempotencyKeys(orm: MikroORM, nowMs = Date.now()): Promise<number> {
  const em = orm.em.fork();
  const old = await em.find(IdempotencyKey, { createdAt: { $lt: new Date(nowMs - IDEMPOTENCY_TTL_MS) } }, { limit: 1000, fields: ['id'] });
  if (old.length === 0) return 0;
  return em.nativeDelete(IdempotencyKey, { id: { $in: old.map((k) => k.id) } });
}
