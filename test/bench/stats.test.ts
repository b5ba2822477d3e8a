import assert from 'node:assert/strict';
import { latencySummary, percentile, perSecond, ratio } from '../../bench/stats';

describe('bench statistics', () => {
  it('takes percentiles by nearest rank, whatever the order of the samples', () => {
    const samples = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    assert.equal(percentile(samples, 50), 5);
    assert.equal(percentile(samples, 90), 9);
    assert.equal(percentile(samples, 99), 10);
    assert.equal(percentile(samples, 100), 10);
    assert.equal(percentile([42], 1), 42);
  });

  it('puts p99 of 200 samples at the 198th smallest, not the largest', () => {
    const samples = Array.from({ length: 200 }, (_, i) => i + 1);
    assert.equal(percentile(samples, 99), 198);
    assert.deepEqual(latencySummary(samples), { n: 200, p50Ms: 100, p90Ms: 180, p99Ms: 198, maxMs: 200 });
  });

  it('refuses empty samples, percentiles outside (0, 100] and empty spans', () => {
    assert.throws(() => percentile([], 50), /no samples/);
    assert.throws(() => percentile([1], 0), /outside/);
    assert.throws(() => percentile([1], 101), /outside/);
    assert.throws(() => perSecond(5, 0), /span/);
    assert.equal(perSecond(5, 2000), 2.5);
  });

  it('leaves a ratio absent when either side was not measured', () => {
    assert.equal(ratio(3, 2), 1.5);
    assert.equal(ratio(3, 0), null);
    assert.equal(ratio(null, 2), null);
    assert.equal(ratio(3, undefined), null);
  });
});
