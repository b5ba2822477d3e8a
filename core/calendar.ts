/**
 * The US ACH calendar: Federal Reserve banking days and the same-day and next-day windows (return
 * deadlines, which count in these days, are in ach-returns.ts). Pure functions of an instant;
 * times are US Eastern, as the Fed's schedule is.
 * `Intl` is used here only for the time zone, never for money.
 */

export type IsoDate = string; // YYYY-MM-DD

/** Same-day ACH: submission deadlines (ET) and when each window settles (ET). */
export const SAME_DAY_WINDOWS = [
  { name: 'same_day_1', deadline: '10:30', settles: '13:00' },
  { name: 'same_day_2', deadline: '14:45', settles: '17:00' },
  { name: 'same_day_3', deadline: '16:45', settles: '18:00' },
] as const;
/** Next-day entries settle at the opening of the next banking day (ET). */
export const NEXT_DAY_SETTLES = '08:30';
/** NACHA's per-entry limit for same-day ACH: $1,000,000.00. */
export const SAME_DAY_AMOUNT_MAX_MINOR = 100_000_000;

const easternParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The Eastern date and time of an instant. */
export function eastern(at: Date): { date: IsoDate; time: string } {
  const p = Object.fromEntries(easternParts.formatToParts(at).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}:${p.second}` };
}

/** The instant at an Eastern wall-clock time on a date (handles EST and EDT). */
export function easternInstant(date: IsoDate, time: string): Date {
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi] = time.split(':').map(Number);
  // Eastern is UTC−5 in winter and UTC−4 in summer: the right offset is the one that round-trips.
  for (const offsetH of [5, 4]) {
    const candidate = new Date(Date.UTC(y, mo - 1, d, h + offsetH, mi));
    const e = eastern(candidate);
    if (e.date === date && e.time.slice(0, 5) === time.slice(0, 5)) return candidate;
  }
  throw new RangeError(`no Eastern instant ${date} ${time}`);
}

function utcDate(date: IsoDate): Date {
  return new Date(`${date}T00:00:00Z`);
}

export function addDays(date: IsoDate, days: number): IsoDate {
  return new Date(utcDate(date).getTime() + days * 86_400_000).toISOString().slice(0, 10);
}

function weekday(date: IsoDate): number {
  return utcDate(date).getUTCDay(); // 0 Sunday … 6 Saturday
}

function nthWeekday(year: number, month: number, dow: number, n: number): IsoDate {
  const first = new Date(Date.UTC(year, month - 1, 1));
  const offset = (dow - first.getUTCDay() + 7) % 7;
  return new Date(Date.UTC(year, month - 1, 1 + offset + (n - 1) * 7)).toISOString().slice(0, 10);
}

function lastWeekday(year: number, month: number, dow: number): IsoDate {
  const last = new Date(Date.UTC(year, month, 0));
  const offset = (last.getUTCDay() - dow + 7) % 7;
  return new Date(Date.UTC(year, month - 1, last.getUTCDate() - offset)).toISOString().slice(0, 10);
}

/**
 * Federal Reserve holidays observed in a year. A holiday on a Sunday is observed on Monday; on a
 * Saturday the Fed stays open the Friday before (and the holiday is simply not a banking day).
 */
export function fedHolidays(year: number): ReadonlySet<IsoDate> {
  let holidays = holidaysByYear.get(year);
  if (!holidays) holidaysByYear.set(year, (holidays = computeFedHolidays(year)));
  return holidays;
}

/** Computed once per year: banking-day checks run on every submission and in loops. */
const holidaysByYear = new Map<number, ReadonlySet<IsoDate>>();

function computeFedHolidays(year: number): ReadonlySet<IsoDate> {
  const fixed = (month: number, day: number): IsoDate => {
    const d = new Date(Date.UTC(year, month - 1, day)).toISOString().slice(0, 10);
    return weekday(d) === 0 ? addDays(d, 1) : d;
  };
  return new Set([
    fixed(1, 1), // New Year's Day
    nthWeekday(year, 1, 1, 3), // Martin Luther King Jr. Day
    nthWeekday(year, 2, 1, 3), // Washington's Birthday
    lastWeekday(year, 5, 1), // Memorial Day
    fixed(6, 19), // Juneteenth
    fixed(7, 4), // Independence Day
    nthWeekday(year, 9, 1, 1), // Labor Day
    nthWeekday(year, 10, 1, 2), // Columbus Day
    fixed(11, 11), // Veterans Day
    nthWeekday(year, 11, 4, 4), // Thanksgiving
    fixed(12, 25), // Christmas
  ]);
}

export function isBankingDay(date: IsoDate): boolean {
  const dow = weekday(date);
  return dow !== 0 && dow !== 6 && !fedHolidays(Number(date.slice(0, 4))).has(date);
}

/** The first banking day after `date` (bounded: there is always one within ten days). */
export function nextBankingDay(date: IsoDate): IsoDate {
  let d = date;
  for (let i = 0; i < 10; i++) {
    d = addDays(d, 1);
    if (isBankingDay(d)) return d;
  }
  throw new Error(`no banking day within ten days after ${date}`);
}

export function addBankingDays(date: IsoDate, n: number): IsoDate {
  let d = date;
  for (let i = 0; i < n; i++) d = nextBankingDay(d);
  return d;
}

export interface AchSchedule {
  window: (typeof SAME_DAY_WINDOWS)[number]['name'] | 'next_day';
  effectiveDate: IsoDate;
  settlesAt: Date;
}

/**
 * The window a payout submitted at `at` makes. Same-day when asked for, under the same-day limit,
 * on a banking day and before the last deadline (a deadline is exclusive: at 10:30:00 the first
 * window has closed); otherwise next day.
 */
export function achSchedule(at: Date, amountMinor: number, sameDay: boolean): AchSchedule {
  const { date, time } = eastern(at);
  if (sameDay && amountMinor <= SAME_DAY_AMOUNT_MAX_MINOR && isBankingDay(date)) {
    const window = SAME_DAY_WINDOWS.find((w) => time < `${w.deadline}:00`);
    if (window) return { window: window.name, effectiveDate: date, settlesAt: easternInstant(date, window.settles) };
  }
  // Before the banking day's last deadline the file makes tomorrow's settlement; after it, the day after.
  const lastDeadline = `${SAME_DAY_WINDOWS[SAME_DAY_WINDOWS.length - 1].deadline}:00`;
  const base = isBankingDay(date) && time < lastDeadline ? date : nextBankingDay(date);
  const effectiveDate = nextBankingDay(base);
  return { window: 'next_day', effectiveDate, settlesAt: easternInstant(effectiveDate, NEXT_DAY_SETTLES) };
}
