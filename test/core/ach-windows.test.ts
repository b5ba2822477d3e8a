/**
 * ACH file windows: real cut-offs on Fed banking days, the effective date computed when the file
 * goes, and demo windows of seconds.
 */
import assert from 'node:assert/strict';
import { achFileWindow, effectiveDateAt } from '../../core/ach-windows';
import { easternInstant } from '../../core/calendar';

const et = (date: string, time: string) => easternInstant(date, time).getTime();

describe('ACH file windows', () => {
  const cases: [string, number, string, string][] = [
    // what, queued at, window cut-off (UTC), effective date of a small entry in that file
    ['before 10:30 ET: the 10:30 file, same day', et('2026-11-24', '09:00'), '2026-11-24T15:30:00.000Z', '2026-11-24'],
    ['at 10:30:00 ET the first window has closed', et('2026-11-24', '10:30'), '2026-11-24T19:45:00.000Z', '2026-11-24'],
    ['after 14:45 ET: the 16:45 file', et('2026-11-24', '15:00'), '2026-11-24T21:45:00.000Z', '2026-11-24'],
    ['after the last window: the next banking day (Thanksgiving skipped)', et('2026-11-25', '17:00'), '2026-11-27T15:30:00.000Z', '2026-11-27'],
    ['on a Saturday: Monday 10:30 ET', et('2026-11-28', '12:00'), '2026-11-30T15:30:00.000Z', '2026-11-30'],
    ['summer time: 10:30 EDT is 14:30 UTC', et('2026-07-15', '08:00'), '2026-07-15T14:30:00.000Z', '2026-07-15'],
  ];
  for (const [what, at, cutoff, effective] of cases) {
    it(what, () => {
      const w = achFileWindow(at, 'real');
      assert.equal(new Date(w.cutoffAtMs).toISOString(), cutoff);
      assert.equal(w.windowId, `ach-${cutoff.slice(0, 16).replace(/[-:]/g, '')}Z`);
      assert.equal(effectiveDateAt(w.cutoffAtMs, 1_000), effective);
    });
  }

  it('gives entries above the same-day limit the next banking day', () => {
    const w = achFileWindow(et('2026-11-25', '09:00'), 'real');
    assert.equal(effectiveDateAt(w.cutoffAtMs, 100_000_001), '2026-11-27');
  });

  it('entries queued in the same window share it; the next one is another', () => {
    const a = achFileWindow(et('2026-11-24', '09:00'), 'real');
    assert.deepEqual(achFileWindow(et('2026-11-24', '10:29'), 'real'), a);
    assert.notDeepEqual(achFileWindow(et('2026-11-24', '10:31'), 'real'), a);
  });

  it('compresses windows to seconds in demo', () => {
    assert.deepEqual(achFileWindow(10_500, 'demo', 2_000), { windowId: 'ach-demo-12000', cutoffAtMs: 12_000 });
    assert.deepEqual(achFileWindow(12_000, 'demo', 2_000), { windowId: 'ach-demo-14000', cutoffAtMs: 14_000 });
    assert.throws(() => achFileWindow(1, 'demo', 10), RangeError);
    assert.throws(() => achFileWindow(-1, 'real'), RangeError);
  });
});
