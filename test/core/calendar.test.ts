import assert from 'node:assert/strict';
import { achSchedule, addBankingDays, easternInstant, fedHolidays, isBankingDay, nextBankingDay } from '../../core/calendar';
import { returnDeadline } from '../../core/ach-returns';

describe('ACH calendar', () => {
  it('knows the Federal Reserve holidays, with Sunday holidays observed on Monday', () => {
    assert.deepEqual([...fedHolidays(2026)].sort(), [
      '2026-01-01', '2026-01-19', '2026-02-16', '2026-05-25', '2026-06-19', '2026-07-04',
      '2026-09-07', '2026-10-12', '2026-11-11', '2026-11-26', '2026-12-25',
    ].sort());
    assert.ok(fedHolidays(2027).has('2027-07-05'), 'July 4 2027 is a Sunday: observed Monday');
    assert.ok(!fedHolidays(2026).has('2026-07-03'), 'a Saturday holiday is not moved to Friday');
  });

  const banking: [string, boolean, string][] = [
    ['2026-11-24', true, 'a Tuesday'],
    ['2026-11-28', false, 'a Saturday'],
    ['2026-11-29', false, 'a Sunday'],
    ['2026-11-26', false, 'Thanksgiving'],
    ['2026-11-27', true, 'the Friday after Thanksgiving'],
    ['2026-12-25', false, 'Christmas'],
    ['2027-07-05', false, 'Independence Day observed'],
  ];
  for (const [date, expected, what] of banking) {
    it(`${date} (${what}) is ${expected ? '' : 'not '}a banking day`, () => assert.equal(isBankingDay(date), expected));
  }

  it('steps over weekends and holidays', () => {
    assert.equal(nextBankingDay('2026-11-25'), '2026-11-27'); // over Thanksgiving
    assert.equal(nextBankingDay('2026-12-24'), '2026-12-28'); // over Christmas and the weekend
    assert.equal(addBankingDays('2026-12-31', 2), '2027-01-05'); // New Year's Day, then the weekend
  });

  // Instants just before, at and after each cut-off (ET; November is EST, UTC−5).
  const at = (date: string, time: string) => easternInstant(date, time);
  const sec = (d: Date, s: number) => new Date(d.getTime() + s * 1000);
  const cases: [string, Date, number, boolean, string, string][] = [
    ['before window 1', sec(at('2026-11-24', '10:30'), -1), 1_000, true, 'same_day_1', '2026-11-24'],
    ['at window 1', at('2026-11-24', '10:30'), 1_000, true, 'same_day_2', '2026-11-24'],
    ['after window 1', sec(at('2026-11-24', '10:30'), 1), 1_000, true, 'same_day_2', '2026-11-24'],
    ['before window 2', sec(at('2026-11-24', '14:45'), -1), 1_000, true, 'same_day_2', '2026-11-24'],
    ['at window 2', at('2026-11-24', '14:45'), 1_000, true, 'same_day_3', '2026-11-24'],
    ['before window 3', sec(at('2026-11-24', '16:45'), -1), 1_000, true, 'same_day_3', '2026-11-24'],
    ['at window 3', at('2026-11-24', '16:45'), 1_000, true, 'next_day', '2026-11-27'],
    ['after window 3, before Thanksgiving', sec(at('2026-11-24', '16:45'), 1), 1_000, true, 'next_day', '2026-11-27'],
    ['next-day requested', at('2026-11-24', '09:00'), 1_000, false, 'next_day', '2026-11-25'],
    ['over the same-day limit', at('2026-11-24', '09:00'), 100_000_001, true, 'next_day', '2026-11-25'],
    ['at the same-day limit', at('2026-11-24', '09:00'), 100_000_000, true, 'same_day_1', '2026-11-24'],
    ['on a Saturday', at('2026-11-28', '09:00'), 1_000, true, 'next_day', '2026-12-01'],
    ['on Thanksgiving', at('2026-11-26', '09:00'), 1_000, true, 'next_day', '2026-11-30'],
    ['in summer time (EDT)', sec(at('2026-07-15', '10:30'), -1), 1_000, true, 'same_day_1', '2026-07-15'],
  ];
  for (const [what, instant, amount, sameDay, window, effective] of cases) {
    it(`schedules a payout ${what}: ${window}, effective ${effective}`, () => {
      const s = achSchedule(instant, amount, sameDay);
      assert.equal(s.window, window);
      assert.equal(s.effectiveDate, effective);
    });
  }

  it('settles same-day windows at their ET settlement times', () => {
    assert.equal(achSchedule(at('2026-11-24', '09:00'), 1, true).settlesAt.toISOString(), '2026-11-24T18:00:00.000Z'); // 13:00 EST
    assert.equal(achSchedule(at('2026-07-15', '09:00'), 1, true).settlesAt.toISOString(), '2026-07-15T17:00:00.000Z'); // 13:00 EDT
  });

  it('gives returns 2 banking days, unauthorized ones 60 calendar days', () => {
    assert.equal(returnDeadline('2026-11-24', 'R01'), '2026-11-27');
    assert.equal(returnDeadline('2026-11-24', 'R10'), '2027-01-23');
  });
});
