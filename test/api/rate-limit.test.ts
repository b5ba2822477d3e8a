/**
 * The token bucket itself, on an injected clock: bursts, refill, the wait it reports, and the bound
 * on how many buckets it keeps.
 */
import assert from 'node:assert/strict';
import { RateLimiter } from '../../api/rate-limit';

describe('RateLimiter (token bucket per key)', () => {
  it('allows a burst, then reports the wait until the next token, then refills at the rate', () => {
    let nowMs = 1_000_000;
    const limiter = new RateLimiter({ ratePerSecond: 4, burst: 3 }, () => nowMs);
    assert.deepEqual([limiter.take('k'), limiter.take('k'), limiter.take('k')], [0, 0, 0]);
    assert.equal(limiter.take('k'), 250, 'one token comes back every 250 ms');
    nowMs += 100;
    assert.equal(limiter.take('k'), 150);
    nowMs += 150;
    assert.equal(limiter.take('k'), 0);
    nowMs += 10_000;
    assert.deepEqual([limiter.take('k'), limiter.take('k'), limiter.take('k'), limiter.take('k') > 0], [0, 0, 0, true], 'a long pause refills to the burst, not beyond');
  });

  it('keeps keys apart', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, () => 0);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('b'), 0);
    assert.equal(limiter.take('a'), 1000);
  });

  it('never holds more than its bound of buckets: idle, full ones are dropped first', () => {
    let nowMs = 0;
    const limiter = new RateLimiter({ ratePerSecond: 10, burst: 5 }, () => nowMs);
    for (let i = 0; i < 10_000; i++) limiter.take(`old-${i}`);
    assert.equal(limiter.size, 10_000);
    nowMs += 1_000; // 0.5 s refills a bucket of 5 at 10/s: the old ones are full again
    limiter.take('busy');
    assert.equal(limiter.size, 1, 'the full buckets went, equal as they were to fresh ones');
    for (let i = 0; i < 3; i++) limiter.take('busy');
    assert.equal(limiter.take('busy'), 0, 'the busy key kept its own count');
  });

  it('evicts the oldest buckets when every bucket is in use, so memory stays bounded', () => {
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 2 }, () => 0);
    for (let i = 0; i < 10_000; i++) limiter.take(`k-${i}`);
    limiter.take('newcomer');
    assert.equal(limiter.size, 10_000);
    assert.equal(limiter.take('k-9999'), 0, 'a recent bucket kept its state (one token left)');
    assert.ok(limiter.take('k-9999') > 0);
  });

  it('refuses settings that would never allow a request', () => {
    assert.throws(() => new RateLimiter({ ratePerSecond: 0, burst: 1 }), /ratePerSecond/);
    assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 0 }), /burst/);
    assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 1.5 }), /burst/);
  });
});
