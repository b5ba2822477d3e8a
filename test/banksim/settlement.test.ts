/**
 * The simulator's settlement time, per rail: RAIL_TIME=real follows the rails' calendars (ACH
 * windows and effective entry dates on Fed banking days, SEPA D+1 on TARGET days, SWIFT value
 * dates); demo runs the same computation and compresses the wait.
 */
import assert from 'node:assert/strict';
import { calendarSettlementMs, settlementAtMs } from '../../banksim/settlement';
import { easternInstant } from '../../core/calendar';
import { easterSunday, isTargetDay } from '../../core/target-calendar';

const et = (date: string, time: string) => easternInstant(date, time).getTime();
const utc = (iso: string) => Date.parse(iso);
const REAL = { railTime: 'real' as const, demoDayMs: 3_000 };
const DEMO = { railTime: 'demo' as const, demoDayMs: 3_000 };

describe('simulator settlement times', () => {
  const real: [string, string, number, number, string][] = [
    // rail, what, received, amountMinor, settles (UTC). 2026-11-26 is Thanksgiving (Fed) but a TARGET day.
    ['ach', 'same-day window 1 (before 10:30 ET) settles 13:00 ET', et('2026-11-24', '09:00'), 1_000, '2026-11-24T18:00:00.000Z'],
    ['ach', 'same-day window 2 (before 14:45 ET) settles 17:00 ET', et('2026-11-24', '11:00'), 1_000, '2026-11-24T22:00:00.000Z'],
    ['ach', 'same-day window 3 (before 16:45 ET) settles 18:00 ET', et('2026-11-24', '16:00'), 1_000, '2026-11-24T23:00:00.000Z'],
    ['ach', 'after the last window: next banking day after Wednesday skips Thanksgiving', et('2026-11-24', '17:00'), 1_000, '2026-11-27T13:30:00.000Z'],
    ['ach', 'over the same-day limit: next day, 08:30 ET on the effective entry date', et('2026-11-25', '10:00'), 100_000_001, '2026-11-27T13:30:00.000Z'],
    ['ach', 'on Thanksgiving: effective the banking day after Friday', et('2026-11-26', '09:00'), 1_000, '2026-11-30T13:30:00.000Z'],
    ['ach', 'on a Saturday: effective Tuesday', et('2026-11-28', '09:00'), 1_000, '2026-12-01T13:30:00.000Z'],
    ['ach', 'summer time: 13:00 EDT is 17:00 UTC', et('2026-07-15', '09:00'), 1_000, '2026-07-15T17:00:00.000Z'],
    ['sepa', 'D+1 on a TARGET day', utc('2026-11-26T10:00:00Z'), 1_000, '2026-11-27T08:00:00.000Z'],
    ['sepa', 'after the 15:00 UTC cut-off: D+2, over the weekend', utc('2026-11-26T16:00:00Z'), 1_000, '2026-11-30T08:00:00.000Z'],
    ['sepa', 'Christmas Eve: TARGET is closed on 25 and 26 December', utc('2026-12-24T10:00:00Z'), 1_000, '2026-12-28T08:00:00.000Z'],
    ['sepa', 'Easter: Good Friday and Easter Monday are closed', utc('2027-03-25T16:00:00Z'), 1_000, '2027-03-31T08:00:00.000Z'],
    ['sepa', 'received on a Sunday: accepted Monday, settled Tuesday', utc('2026-11-29T10:00:00Z'), 1_000, '2026-12-01T08:00:00.000Z'],
    ['swift', 'before the cut-off: same value date', utc('2026-11-26T10:00:00Z'), 1_000, '2026-11-26T16:00:00.000Z'],
    ['swift', 'after the cut-off on a Friday: Monday', utc('2026-11-27T16:00:00Z'), 1_000, '2026-11-30T16:00:00.000Z'],
    ['sepa_instant', 'at once', utc('2026-11-28T03:00:00Z'), 1_000, '2026-11-28T03:00:00.000Z'],
    ['rtp', 'at once', utc('2026-11-26T23:59:00Z'), 1_000, '2026-11-26T23:59:00.000Z'],
  ];
  for (const [rail, what, received, amountMinor, settles] of real) {
    it(`real ${rail}: ${what}`, () => {
      assert.equal(new Date(settlementAtMs(rail, received, amountMinor, REAL)).toISOString(), settles);
    });
  }

  const demo: [string, number, number][] = [
    // rail, received, demo wait (ms) with a 3,000 ms day
    ['ach', et('2026-11-24', '09:00'), 500], // 4 hours
    ['ach', et('2026-11-24', '17:00'), 7_938], // 2 days 15.5 hours
    ['sepa', utc('2026-11-26T10:00:00Z'), 2_750], // 22 hours
    ['swift', utc('2026-11-26T10:00:00Z'), 750], // 6 hours
    ['sepa_instant', utc('2026-11-26T10:00:00Z'), 0],
  ];
  for (const [rail, received, waitMs] of demo) {
    it(`demo ${rail}: the real wait compressed to ${waitMs} ms`, () => {
      assert.equal(settlementAtMs(rail, received, 1_000, DEMO) - received, waitMs);
      const realWait = calendarSettlementMs(rail, received, 1_000) - received;
      assert.equal(waitMs, Math.round((realWait * 3_000) / 86_400_000), 'the same computation, compressed');
      assert.equal(settlementAtMs(rail, received, 1_000, { railTime: 'demo', demoDayMs: 0 }), received);
    });
  }

  it('knows Easter and the TARGET closing days', () => {
    assert.deepEqual([2024, 2026, 2027].map(easterSunday), ['2024-03-31', '2026-04-05', '2027-03-28']);
    for (const closed of ['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-01', '2026-12-25', '2026-12-26', '2026-11-28']) assert.equal(isTargetDay(closed), false, closed);
    for (const open of ['2026-11-26', '2026-07-03', '2026-12-24', '2026-12-31']) assert.equal(isTargetDay(open), true, open);
  });

  it('refuses a rail it has no calendar for', () => {
    assert.throws(() => settlementAtMs('fedwire', 0, 1, REAL), RangeError);
  });
});
