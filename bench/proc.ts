/** Memory and CPU of a process, read from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** Resident set size in bytes, from the VmRSS line of /proc/<pid>/status. */
export function parseRssBytes(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error('no VmRSS line in the process status');
  return Number(m[1]) * 1024;
}

/** User plus system CPU ticks, from /proc/<pid>/stat (fields 14 and 15; the name in parentheses may hold spaces). */
export function parseCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
  return Number(fields[11]) + Number(fields[12]);
}

export function rssBytes(pid: number): number {
  return parseRssBytes(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

export function cpuSeconds(pid: number): number {
  return parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / clockTicks();
}
