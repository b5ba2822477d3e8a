/**
 * Verifying Railyard's webhooks, for clients (self-contained: node:crypto only, copy it freely).
 *
 * Each delivery carries `Railyard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`.
 * The HMAC key is the endpoint's secret string (`whsec_…`) as UTF-8. Verify against the raw body
 * bytes exactly as received (not re-serialized JSON), refuse timestamps outside the tolerance, and
 * drop event IDs already seen: Railyard delivers at least once, so the same event may come again.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Railyard-Signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookVerificationCode = 'missing_signature' | 'malformed_signature' | 'bad_signature' | 'stale_timestamp' | 'malformed_body' | 'replayed_event';

export class WebhookVerificationError extends Error {
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface WebhookEventBody {
  id: string;
  type: string;
  createdAt: string;
  data: { transfer: Record<string, unknown> & { id: string; status: string; updatedAt: string } };
}

/** Hex HMAC-SHA256 of `<t>.<raw body>` under the secret: what `v1=` carries. */
export function computeSignature(secret: string, timestampSeconds: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.`).update(rawBody).digest('hex');
}

/**
 * The header value Railyard sends, one `v1=` per live secret (two during a rotation); exported so
 * tests and tools can produce valid deliveries.
 */
export function signatureHeader(secrets: string | readonly string[], timestampSeconds: number, rawBody: string | Buffer): string {
  const all = typeof secrets === 'string' ? [secrets] : secrets;
  return [`t=${timestampSeconds}`, ...all.map((secret) => `v1=${computeSignature(secret, timestampSeconds, rawBody)}`)].join(',');
}

/**
 * Checks the signature and the timestamp and returns the parsed event; throws
 * WebhookVerificationError (with a `code`) otherwise. Any `v1=` entry may match, under any of the
 * secrets given: during a rotation (`POST /v1/webhook_endpoints/:id/rotate_secret`) Railyard signs
 * with the old and the new secret for 24 hours, so a receiver holding either one, or both, accepts
 * every delivery. `now` is in milliseconds, for tests.
 */
export function verifyWebhookSignature(
  rawBody: string | Buffer,
  header: string | null | undefined,
  secret: string | readonly string[],
  options: { toleranceSeconds?: number; now?: number } = {},
): WebhookEventBody {
  if (!header) throw new WebhookVerificationError('missing_signature', `no ${SIGNATURE_HEADER} header`);
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) {
    throw new WebhookVerificationError('malformed_signature', `${SIGNATURE_HEADER} must be t=<unix seconds>,v1=<64 hex digits>`);
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new TypeError('verifyWebhookSignature needs at least one secret');
  const expected = secrets.map((one) => Buffer.from(computeSignature(one, timestamp, rawBody), 'hex'));
  const matches = signatures.some((s) => expected.some((e) => timingSafeEqual(Buffer.from(s, 'hex'), e)));
  if (!matches) throw new WebhookVerificationError('bad_signature', 'the signature does not match the body and the secret');
  // Checked after the signature, so only a genuine (signed) timestamp is judged for age.
  const toleranceSeconds = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) {
    throw new WebhookVerificationError('stale_timestamp', `the signature's timestamp is ${nowSeconds - timestamp} s from now; the tolerance is ${toleranceSeconds} s`);
  }
  let event: WebhookEventBody;
  try {
    event = JSON.parse(Buffer.isBuffer(rawBody) ? rawBody.toString('utf8') : rawBody) as WebhookEventBody;
  } catch {
    throw new WebhookVerificationError('malformed_body', 'the body is not JSON');
  }
  if (!event || typeof event.id !== 'string' || typeof event.type !== 'string') throw new WebhookVerificationError('malformed_body', 'the body has no event id or type');
  return event;
}

/**
 * Remembers event IDs for a window (the signature tolerance, by default) and refuses one seen
 * again within it: a captured delivery replayed within the tolerance is caught here, an older one
 * by the timestamp check. Bounded: past `maxEntries` the oldest are forgotten. For exactly-once
 * processing across restarts, also record handled event IDs in your own database.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(private readonly options: { windowSeconds?: number; maxEntries?: number } = {}) {}

  /** Throws `replayed_event` when the ID was seen within the window; otherwise remembers it. */
  check(eventId: string, now: number = Date.now()): void {
    const windowMs = (this.options.windowSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000;
    for (const [id, at] of this.seen) {
      if (at >= now - windowMs) break; // insertion order is time order
      this.seen.delete(id);
    }
    if (this.seen.has(eventId)) throw new WebhookVerificationError('replayed_event', `event ${eventId} was already received`);
    this.seen.set(eventId, now);
    const maxEntries = this.options.maxEntries ?? 100_000;
    while (this.seen.size > maxEntries) this.seen.delete(this.seen.keys().next().value as string);
  }
}
