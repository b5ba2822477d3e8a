/**
 * Idempotency keys, as Stripe's API taught clients to expect.
 *
 * The first request with a key claims it (a row in `in_progress`); its response is stored and
 * replayed, status and body, to any later request with the same key and the same fingerprint
 * (method, route, canonical body), with `Idempotent-Replayed: true`. A different body under the
 * key is 422 `idempotency_key_reused`; a request while the first is still running is 409
 * `idempotency_key_in_use`. Requests refused before any work began (400) and server errors (5xx)
 * release the key so the client can try again. Keys are scoped per client and kept 24 hours.
 */
import { createHash } from 'node:crypto';
import { UniqueConstraintViolationException, type MikroORM } from '@mikro-orm/core';
import type { Request, Response } from 'express';
import { AppError } from '../core/errors';
import { IdempotencyKey } from '../db/schema';

export const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const KEY_MAX_LENGTH = 255;

export interface HandlerResult {
  status: number;
  body: unknown;
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

/** Runs `run` at most once per (scope, key) and sends its result. */
export async function withIdempotency(
  orm: MikroORM,
  req: Request,
  res: Response,
  scope: string,
  run: () => Promise<HandlerResult>,
): Promise<void> {
  const key = req.get('Idempotency-Key');
  if (!key) throw new AppError('invalid_request', 'Idempotency-Key header is required on this request', { param: 'Idempotency-Key' });
  if (key.length > KEY_MAX_LENGTH) {
    throw new AppError('invalid_request', `Idempotency-Key must be at most ${KEY_MAX_LENGTH} characters`, { param: 'Idempotency-Key' });
  }
  const id = createHash('sha256').update(`${scope}\n${key}`).digest('hex');
  const print = fingerprint(req.method, req.route?.path ?? req.path, req.params, req.body);
  const em = orm.em.fork();

  try {
    await em.insert(IdempotencyKey, { id, scope, idemKey: key, fingerprint: print, state: 'in_progress', responseStatus: null, responseBody: null, createdAt: new Date() });
  } catch (err) {
    if (!(err instanceof UniqueConstraintViolationException)) throw err;
    const existing = await em.findOneOrFail(IdempotencyKey, { id });
    if (existing.createdAt.getTime() < Date.now() - IDEMPOTENCY_TTL_MS) {
      // Expired but not yet swept: the key is free again.
      await em.nativeDelete(IdempotencyKey, { id, createdAt: existing.createdAt });
      return withIdempotency(orm, req, res, scope, run);
    }
    if (existing.fingerprint !== print) {
      throw new AppError('idempotency_key_reused', 'this Idempotency-Key was used with a different request; use a new key for a new request', { param: 'Idempotency-Key' });
    }
    if (existing.state !== 'done') {
      throw new AppError('idempotency_key_in_use', 'a request with this Idempotency-Key is still being processed; retry later');
    }
    res.set('Idempotent-Replayed', 'true').status(existing.responseStatus!).type('application/json').send(existing.responseBody);
    return;
  }

  let result: HandlerResult;
  try {
    result = await run();
  } catch (err) {
    const known = errorResult(err);
    if (!known || known.status === 400) {
      await em.nativeDelete(IdempotencyKey, { id });
      throw err;
    }
    result = known;
  }
  if (result.status >= 500) {
    await em.nativeDelete(IdempotencyKey, { id });
  } else {
    await em.nativeUpdate(IdempotencyKey, { id }, { state: 'done', responseStatus: result.status, responseBody: JSON.stringify(result.body) });
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
