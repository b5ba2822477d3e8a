/**
 * When the simulated bank settles a payment, per rail, from the rails' calendars. `real` is the
 * calendar itself; `demo` runs the same computation and compresses the wait so that one calendar
 * day lasts `demoDayMs` (a next-day ACH entry settles in about that long, a weekend takes three).
 *
 *   ach           the window achSchedule gives (same-day windows at 13:00, 17:00, 18:00 ET; else
 *                 08:30 ET on the effective entry date: the next banking day, after weekends and Fed holidays)
 *   sepa          D+1 on the TARGET calendar, at 08:00 UTC; after the 15:00 UTC cut-off or on a
 *                 closed day, the TARGET day after the next one that accepts it
 *   swift         the value date: the same weekday before the 15:00 UTC cut-off, else the next
 *                 weekday; credited at 16:00 UTC
 *   sepa_instant,
 *   rtp           at once
 */
import { achSchedule, addDays } from '../core/calendar';
import { isTargetDay, nextTargetDay } from '../core/target-calendar';

export type RailTime = 'demo' | 'real';

export interface SettlementClock {
  railTime: RailTime;
  /** Under demo, how long one calendar day of settlement lasts. */
  demoDayMs: number;
}

const DAY_MS = 86_400_000;

function utcDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function isWeekday(date: string): boolean {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6;
}

/** The instant the rail's calendar settles a payment received at `receivedAtMs`. */
export function calendarSettlementMs(rail: string, receivedAtMs: number, amountMinor: number): number {
  const today = utcDateOf(receivedAtMs);
  const beforeCutoff = receivedAtMs < Date.parse(`${today}T15:00:00Z`);
  switch (rail) {
    case 'ach':
      return achSchedule(new Date(receivedAtMs), amountMinor, true).settlesAt.getTime();
    case 'sepa': {
      // Executed on the next TARGET day; a file after the cut-off (or on a closed day) is taken the next TARGET day.
      const accepted = isTargetDay(today) && beforeCutoff ? today : nextTargetDay(today);
      return Date.parse(`${nextTargetDay(accepted)}T08:00:00Z`);
    }
    case 'swift': {
      let value = isWeekday(today) && beforeCutoff ? today : addDays(today, 1);
      while (!isWeekday(value)) value = addDays(value, 1);
      return Date.parse(`${value}T16:00:00Z`);
    }
    case 'sepa_instant':
    case 'rtp':
      return receivedAtMs;
    default:
      throw new RangeError(`no settlement calendar for rail ${rail}`);
  }
}

/** When the simulated bank settles: the calendar's instant, or under demo the same wait compressed. */
export function settlementAtMs(rail: string, receivedAtMs: number, amountMinor: number, clock: SettlementClock): number {
  const real = calendarSettlementMs(rail, receivedAtMs, amountMinor);
  if (clock.railTime === 'real') return real;
  return receivedAtMs + Math.round(((real - receivedAtMs) * clock.demoDayMs) / DAY_MS);
}
