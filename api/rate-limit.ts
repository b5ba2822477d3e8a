/**
 * Per-key rate limits: a token bucket in memory for each API key.
 *
 * A bucket holds up to `burst` tokens and refills at `ratePerSecond`; each request takes one. An
 * empty bucket answers 429 `rate_limited` with `Retry-After` (whole seconds until a token is back).
 * The buckets live in this process: behind N API processes a key gets N times the rate, which is
 * the price of needing no shared store; size the limit per process.
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../core/errors';

export interface RateLimitSettings {
  ratePerSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/**
 * At this many buckets, full ones (idle long enough to refill) are dropped: they equal a fresh
 * bucket. If all are in use, the oldest go: memory stays bounded, at the price of a fresh burst for
 * a key that was evicted.
 */
const BUCKETS_MAX = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly settings: RateLimitSettings,
    private readonly nowMs: () => number = Date.now,
  ) {
    if (!(settings.ratePerSecond > 0) || !Number.isInteger(settings.burst) || settings.burst < 1) {
      throw new Error(`RateLimiter: ratePerSecond must be > 0 and burst an integer ≥ 1, got ${JSON.stringify(settings)}`);
    }
  }

  /** Takes a token for `key`: 0 when allowed, else the milliseconds until the next token. */
  take(key: string): number {
    const now = this.nowMs();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= BUCKETS_MAX) this.dropFullBuckets(now);
      bucket = { tokens: this.settings.burst, updatedMs: now };
      this.buckets.set(key, bucket);
    }
    const elapsedMs = Math.max(0, now - bucket.updatedMs);
    bucket.tokens = Math.min(this.settings.burst, bucket.tokens + (elapsedMs * this.settings.ratePerSecond) / 1000);
    bucket.updatedMs = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.settings.ratePerSecond);
  }

  get size(): number {
    return this.buckets.size;
  }

  private dropFullBuckets(now: number): void {
    const fullAfterMs = (this.settings.burst * 1000) / this.settings.ratePerSecond;
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updatedMs >= fullAfterMs) this.buckets.delete(key);
    }
    // Map iteration follows insertion order: the first keys are the oldest buckets.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < BUCKETS_MAX) break;
      this.buckets.delete(key);
    }
  }
}

/** Takes a token for `key` or throws 429 `rate_limited`, setting `Retry-After` (whole seconds). */
export function enforceRateLimit(limiter: RateLimiter, key: string, res: Response): void {
  const waitMs = limiter.take(key);
  if (waitMs === 0) return;
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  res.setHeader('Retry-After', String(retryAfterSeconds));
  throw new AppError('rate_limited', `too many requests for this API key (${limiter.settings.ratePerSecond}/s, bursts of ${limiter.settings.burst}); retry after ${retryAfterSeconds} s`);
}

/** Express middleware: limits by the key `keyOf` names (the authenticated API key). */
export function rateLimit(limiter: RateLimiter, keyOf: (req: Request) => string) {
  return (req: Request, res: Response, next: NextFunction) => {
    try {
      enforceRateLimit(limiter, keyOf(req), res);
    } catch (err) {
      next(err);
      return;
    }
    next();
  };
}
