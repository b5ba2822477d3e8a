import assert from 'node:assert/strict';
import { parseCpuTicks, parseRssBytes } from '../../bench/proc';

describe('bench /proc readings', () => {
  it('reads RSS from a status file and CPU ticks from a stat line whose name holds spaces and parentheses', () => {
    assert.equal(parseRssBytes('Name:\tnode\nVmHWM:\t  9000 kB\nVmRSS:\t  123456 kB\nThreads: 11\n'), 123456 * 1024);
    assert.throws(() => parseRssBytes('Name:\tnode\n'), /VmRSS/);
    const stat = '4242 (node (main) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 11 0 100 1000000 5000';
    assert.equal(parseCpuTicks(stat), 325);
  });
});
