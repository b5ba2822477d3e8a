/**
 * The TARGET2 (T2) calendar SEPA credit transfers settle on: every weekday except New Year's Day,
 * Good Friday, Easter Monday, 1 May, Christmas Day and 26 December. Pure.
 */
import { addDays, type IsoDate } from './calendar';

/** Easter Sunday (Gregorian), by the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): IsoDate {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export function isTargetDay(date: IsoDate): boolean {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
  if (dow === 0 || dow === 6) return false;
  const year = Number(date.slice(0, 4));
  const easter = easterSunday(year);
  const closed = [`${year}-01-01`, addDays(easter, -2), addDays(easter, 1), `${year}-05-01`, `${year}-12-25`, `${year}-12-26`];
  return !closed.includes(date);
}

/** The first TARGET day after `date` (bounded: there is always one within ten days). */
export function nextTargetDay(date: IsoDate): IsoDate {
  let d = date;
  for (let i = 0; i < 10; i++) {
    d = addDays(d, 1);
    if (isTargetDay(d)) return d;
  }
  throw new Error(`no TARGET day within ten days after ${date}`);
}
