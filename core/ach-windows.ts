/**
 * ACH file windows: Railyard sends one NACHA file per cut-off, carrying every entry queued before
 * it. Real windows close at the same-day deadlines of Fed banking days (10:30, 14:45, 16:45 ET);
 * an entry queued after the last one waits for the next banking day's first file. The effective
 * entry date is computed at the cut-off, when the file goes: an entry in a file before 16:45 ET
 * settles the same day (under the same-day limit), else the next banking day.
 *
 * RAIL_TIME=demo compresses the windows to seconds: a file every `demoWindowMs`. Pure.
 */
import { SAME_DAY_WINDOWS, achSchedule, eastern, easternInstant, isBankingDay, nextBankingDay, type IsoDate } from './calendar';

export interface AchFileWindow {
  /** `ach-YYYYMMDDTHHMMZ` (real) or `ach-demo-<cut-off ms>`: the batch workflow's and the file's key. */
  windowId: string;
  cutoffAtMs: number;
}

/** The window an entry queued at `atMs` goes out in: the first cut-off strictly after it. */
export function achFileWindow(atMs: number, railTime: 'demo' | 'real', demoWindowMs = 2_000): AchFileWindow {
  if (!Number.isSafeInteger(atMs) || atMs < 0) throw new RangeError(`bad instant ${atMs}`);
  if (railTime === 'demo') {
    if (!Number.isSafeInteger(demoWindowMs) || demoWindowMs < 100) throw new RangeError(`demo windows must be at least 100 ms, got ${demoWindowMs}`);
    const cutoffAtMs = (Math.floor(atMs / demoWindowMs) + 1) * demoWindowMs;
    return { windowId: `ach-demo-${cutoffAtMs}`, cutoffAtMs };
  }
  let date: IsoDate = eastern(new Date(atMs)).date;
  // Bounded: today's windows, else the next banking day's first.
  for (let day = 0; day < 2; day++) {
    if (isBankingDay(date)) {
      for (const w of SAME_DAY_WINDOWS) {
        const cutoff = easternInstant(date, w.deadline).getTime();
        if (cutoff > atMs) return { windowId: `ach-${new Date(cutoff).toISOString().slice(0, 16).replace(/[-:]/g, '')}Z`, cutoffAtMs: cutoff };
      }
    }
    date = nextBankingDay(date);
  }
  throw new Error(`no ACH window after ${new Date(atMs).toISOString()}`);
}

/** The effective entry date of an entry in the file that goes at `cutoffAtMs`. */
export function effectiveDateAt(cutoffAtMs: number, amountMinor: number): IsoDate {
  // Just before the cut-off is when the file is built: the window is still open.
  return achSchedule(new Date(cutoffAtMs - 1), amountMinor, true).effectiveDate;
}

/** How a window is named to people: `14:45 ET` (real), the cut-off's UTC time of day (demo). */
export function achWindowLabel(window: AchFileWindow, railTime: 'demo' | 'real'): string {
  if (railTime === 'real') return `${eastern(new Date(window.cutoffAtMs)).time.slice(0, 5)} ET`;
  return `${new Date(window.cutoffAtMs).toISOString().slice(11, 23)} UTC (demo)`;
}
