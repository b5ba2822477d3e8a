/**
 * A Railyard client written as payments engineers write them: every POST carries an
 * Idempotency-Key; on a network error, a 5xx, a 429 or a 409 `idempotency_key_in_use` (the first
 * request still holds the key, perhaps on a process that just died) it sends the same request again,
 * with the same key and body, to the next API process behind the "load balancer", backing off up to
 * a bound. Anything else is an answer and is returned as it is.
 */
import { randomUUID } from 'node:crypto';

export interface Answer {
  status: number;
  body: any;
  /** How many times the request went out. */
  sends: number;
}

export interface SendOptions {
  key: string;
  body?: unknown;
  idempotencyKey?: string;
}

/** The first resend waits this long, doubling up to RETRY_MAX_DELAY_MS; the whole request gives up after RETRY_BUDGET_MS. */
const RETRY_FIRST_DELAY_MS = 250;
const RETRY_MAX_DELAY_MS = 4_000;
/**
 * Longer than the API's 60 s idempotency lease plus an API process's restart, so a key held by a
 * killed process is taken over.
 */
const RETRY_BUDGET_MS = 150_000;
const REQUEST_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class RailyardClient {
  private next = 0;
  /** Requests on the wire per API process, so a crash can be aimed at one in flight. */
  readonly inFlight: number[];
  /** Every answer that made the client send again, by kind (`503`, `network`, …). */
  readonly resends: Record<string, number> = {};

  constructor(readonly apiUrls: string[]) {
    this.inFlight = apiUrls.map(() => 0);
  }

  async get(path: string, key: string): Promise<Answer> {
    return this.send('GET', path, { key });
  }

  async post(path: string, options: SendOptions): Promise<Answer> {
    return this.send('POST', path, { ...options, idempotencyKey: options.idempotencyKey ?? randomUUID() });
  }

  private async send(method: 'GET' | 'POST', path: string, options: SendOptions): Promise<Answer> {
    const headers: Record<string, string> = { authorization: `Bearer ${options.key}` };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const deadline = Date.now() + RETRY_BUDGET_MS;
    let delayMs = RETRY_FIRST_DELAY_MS;
    for (let sends = 1; ; sends++) {
      const api = this.next++ % this.apiUrls.length;
      let resendBecause: string;
      let retryAfterMs = 0;
      this.inFlight[api] += 1;
      try {
        const res = await fetch(this.apiUrls[api] + path, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await res.text();
        const parsed = text ? safeJson(text) : undefined;
        const transient = res.status >= 500 || res.status === 429 || (res.status === 409 && parsed?.error?.code === 'idempotency_key_in_use');
        if (!transient) return { status: res.status, body: parsed, sends };
        resendBecause = String(res.status);
        retryAfterMs = Number(res.headers.get('retry-after') ?? 0) * 1000;
        if (Date.now() > deadline) return { status: res.status, body: parsed, sends };
      } catch (err) {
        resendBecause = 'network';
        if (Date.now() > deadline) return { status: 0, body: { error: { code: 'network', message: (err as Error).message } }, sends };
      } finally {
        this.inFlight[api] -= 1;
      }
      this.resends[resendBecause] = (this.resends[resendBecause] ?? 0) + 1;
      await sleep(Math.max(delayMs, Math.min(retryAfterMs, RETRY_MAX_DELAY_MS)));
      delayMs = Math.min(delayMs * 2, RETRY_MAX_DELAY_MS);
    }
  }
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text.slice(0, 200) };
  }
}
