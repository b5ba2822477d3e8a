import { randomBytes } from 'node:crypto';

// Crockford base32, lower-case: IDs sort by creation time as plain strings.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export type IdPrefix = 'cl' | 'acc' | 'pst' | 'tr' | 'att' | 'dep' | 'evt' | 'qt' | 'we' | 'whev' | 'whdl' | 'brk' | 'key' | 'noc' | 'op' | 'apr' | 'bm' | 'act';

function encodeTime(ms: number): string {
  let out = '';
  let rest = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[rest % 32] + out;
    rest = Math.floor(rest / 32);
  }
  return out;
}

function encodeRandom(byteCount: number): string {
  const bytes = randomBytes(byteCount);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % 32];
  return out;
}

/** A prefixed, time-ordered ID such as `tr_01jc9...`: 48 bits of milliseconds, 80 bits of randomness. */
export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) throw new Error(`newId: bad time ${nowMs}`);
  return `${prefix}_${encodeTime(nowMs)}${encodeRandom(16)}`;
}
