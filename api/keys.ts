import { createHash, randomBytes } from 'node:crypto';

/** API keys are random, shown once, and stored only as their SHA-256. */
export function newApiKey(kind: 'client' | 'ops'): string {
  return `ry_${kind}_${randomBytes(24).toString('base64url')}`;
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
