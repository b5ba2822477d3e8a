import assert from 'node:assert/strict';
import { parseArgs } from '../../bench/main';

describe('bench options', () => {
  it('defaults to the full run on SQLite with 10,000 payouts at scale; --quick shrinks it', () => {
    const full = parseArgs([]);
    assert.equal(full.quick, false);
    assert.equal(full.db, process.env.DATABASE_URL ? 'mysql' : 'sqlite');
    assert.equal(full.scale, 10_000);
    assert.equal(full.budgetS, 840);
    const quick = parseArgs(['--quick', '--db', 'mysql', '--scale', '50']);
    assert.deepEqual([quick.quick, quick.db, quick.scale, quick.budgetS], [true, 'mysql', 50, 115]);
  });

  it('refuses unknown options and bad values, naming them', () => {
    assert.throws(() => parseArgs(['--db', 'postgres']), /--db must be sqlite or mysql/);
    assert.throws(() => parseArgs(['--scale', '0']), /--scale must be a positive integer/);
    assert.throws(() => parseArgs(['--scale']), /--scale needs a value/);
    assert.throws(() => parseArgs(['--fast']), /unknown option --fast/);
  });
});
