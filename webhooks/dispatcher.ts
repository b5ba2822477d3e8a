/**
 * Delivers the webhook outbox: a loop in the worker process that takes due deliveries, signs each
 * event and POSTs it to its endpoint (`send.ts`, which refuses private addresses unless allowed).
 * A 2xx answer delivers it; anything else (another status, a redirect, a refused connection, no
 * answer within `requestTimeoutMs`) schedules the next attempt after an
 * exponential backoff (`retryBaseMs` doubling up to `retryMaxMs`, plus up to 10% jitter so that a
 * recovering endpoint is not hit by every retry at once). A delivery whose next attempt would fall
 * more than `maxAgeMs` (3 days) after its event is marked `dead`.
 *
 * At least once: a delivery is claimed by bumping its attempt count in a conditional UPDATE (one
 * winner among several dispatchers) and leased until the request's timeout has passed; a
 * dispatcher that dies mid-request leaves it to be sent again after the lease.
 *
 * Each attempt records what a client needs to debug its endpoint (the answer's status code, the
 * error, when the next attempt is due), listed by `GET /v1/webhook_endpoints/:id/deliveries`;
 * `redeliver` sends one again at once, whatever its status, for the retry route. During a secret
 * rotation every delivery is signed with both live secrets.
 */
import type { MikroORM } from '@mikro-orm/core';
import type { Logger } from 'pino';
import { webhookPrivateUrlsAllowed, type Config } from '../core/config';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent, type WebhookDeliveryRow, type WebhookEndpointRow } from '../db/schema';
import { SIGNATURE_HEADER, signatureHeader } from './verify';
import { postWebhook } from './send';
import { sweepWebhookOutbox } from './outbox';

const OUTBOX_SWEEP_INTERVAL_MS = 3_600_000;

export interface DispatcherOptions {
  /** How often to look for due deliveries when the last pass found fewer than a batch. */
  pollIntervalMs: number;
  /** Delay before the second attempt; it doubles with each further attempt. */
  retryBaseMs: number;
  /** Cap on one delay. */
  retryMaxMs: number;
  /** A delivery is dead once its next attempt would be this long after the event. */
  maxAgeMs: number;
  requestTimeoutMs: number;
  /** Deliveries sent concurrently per pass. */
  batchSize: number;
  /** Whether endpoints on loopback, private and link-local addresses may be called (development only). */
  allowPrivateAddresses: boolean;
}

export function dispatcherOptions(
  config: Pick<Config, 'WEBHOOK_POLL_INTERVAL_MS' | 'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_RETRY_MAX_MS' | 'WEBHOOK_MAX_AGE_MS' | 'WEBHOOK_TIMEOUT_MS' | 'WEBHOOK_ALLOW_PRIVATE_URLS' | 'HOST'>,
): DispatcherOptions {
  return {
    pollIntervalMs: config.WEBHOOK_POLL_INTERVAL_MS,
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
    retryMaxMs: config.WEBHOOK_RETRY_MAX_MS,
    maxAgeMs: config.WEBHOOK_MAX_AGE_MS,
    requestTimeoutMs: config.WEBHOOK_TIMEOUT_MS,
    batchSize: 20,
    allowPrivateAddresses: webhookPrivateUrlsAllowed(config),
  };
}

/** The delay after the `attempts`-th failed attempt (1-based), without jitter. */
export function retryDelayMs(attempts: number, options: Pick<DispatcherOptions, 'retryBaseMs' | 'retryMaxMs'>): number {
  // 2^30 is far past any cap; bounding the exponent keeps the arithmetic in safe integers.
  return Math.min(options.retryMaxMs, options.retryBaseMs * 2 ** Math.min(attempts - 1, 30));
}

const ERROR_MAX_LENGTH = 500;

/** The secrets that sign a delivery now: the current one, and the one it replaced while that is still live. */
export function liveSecrets(endpoint: Pick<WebhookEndpointRow, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>, nowMs = Date.now()): string[] {
  const previousLive = endpoint.previousSecret !== null && endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt.getTime() > nowMs;
  return previousLive ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}

async function deliverOne(orm: MikroORM, options: DispatcherOptions, due: WebhookDeliveryRow): Promise<'delivered' | 'retry' | 'dead' | 'lost'> {
  const em = orm.em.fork();
  const startedAt = Date.now();
  const attempts = due.attempts + 1;
  const claimed = await em.nativeUpdate(
    WebhookDelivery,
    { id: due.id, status: 'pending', attempts: due.attempts },
    { attempts, lastAttemptAt: new Date(startedAt), nextAttemptAt: new Date(startedAt + options.requestTimeoutMs * 2) },
  );
  if (claimed !== 1) return 'lost'; // another dispatcher took it
  const mine = { id: due.id, attempts };
  const [event, endpoint] = await Promise.all([em.fork().findOne(WebhookEvent, { id: due.eventId }), em.fork().findOne(WebhookEndpoint, { id: due.endpointId })]);
  if (!event || !endpoint) {
    await em.nativeUpdate(WebhookDelivery, mine, { status: 'dead', lastError: endpoint ? 'the event is gone' : 'the endpoint was deleted' });
    return 'dead';
  }

  let error: string;
  let statusCode: number | null = null;
  try {
    const nowMs = Date.now();
    statusCode = await postWebhook(
      endpoint.url,
      {
        'content-type': 'application/json',
        'user-agent': 'Railyard-Webhooks/1',
        [SIGNATURE_HEADER]: signatureHeader(liveSecrets(endpoint, nowMs), Math.floor(nowMs / 1000), event.payload),
      },
      event.payload,
      { timeoutMs: options.requestTimeoutMs, allowPrivateAddresses: options.allowPrivateAddresses },
    );
    // A redirect counts as a failure: following it would send the event somewhere not registered.
    if (statusCode >= 200 && statusCode < 300) {
      await em.nativeUpdate(WebhookDelivery, mine, { status: 'delivered', deliveredAt: new Date(), lastStatusCode: statusCode, lastError: null });
      return 'delivered';
    }
    error = `HTTP ${statusCode}`;
  } catch (err) {
    const e = err as Error & { code?: string };
    error = e.name === 'AbortError' || e.name === 'TimeoutError' ? `no answer within ${options.requestTimeoutMs} ms` : `${e.message}${e.code ? ` (${e.code})` : ''}`;
  }
  const delay = retryDelayMs(attempts, options);
  const nextAt = Date.now() + delay + Math.floor(Math.random() * delay * 0.1);
  const dead = nextAt > event.createdAt.getTime() + options.maxAgeMs;
  await em.nativeUpdate(WebhookDelivery, mine, {
    status: dead ? 'dead' : 'pending',
    nextAttemptAt: new Date(nextAt),
    lastStatusCode: statusCode,
    lastError: (dead ? `gave up after ${attempts} attempts: ${error}` : error).slice(0, ERROR_MAX_LENGTH),
  });
  return dead ? 'dead' : 'retry';
}

/**
 * Sends one delivery again now, whatever its status (a dead one is revived, a delivered one sent
 * once more), and returns it as the attempt left it; undefined when it does not exist. Afterwards
 * the usual rules apply: a failure schedules the next attempt, or ends it as dead past the maximum
 * age. A dispatcher that takes the delivery at the same moment may send it beside this attempt:
 * deliveries are at least once, and receivers drop event IDs they have seen.
 */
export async function redeliver(orm: MikroORM, options: DispatcherOptions, deliveryId: string): Promise<WebhookDeliveryRow | undefined> {
  const em = orm.em.fork();
  const current = await em.findOne(WebhookDelivery, { id: deliveryId });
  if (!current) return undefined;
  const reopened = { status: 'pending' as const, nextAttemptAt: new Date() };
  await em.nativeUpdate(WebhookDelivery, { id: deliveryId, attempts: current.attempts }, reopened);
  await deliverOne(orm, options, { ...current, ...reopened });
  return (await orm.em.fork().findOne(WebhookDelivery, { id: deliveryId })) ?? undefined;
}

/** One pass: sends up to a batch of due deliveries concurrently; returns how many it took. */
export async function dispatchDue(orm: MikroORM, options: DispatcherOptions): Promise<number> {
  const due = await orm.em.fork().find(
    WebhookDelivery,
    { status: 'pending', nextAttemptAt: { $lte: new Date() } },
    { orderBy: { nextAttemptAt: 'asc' }, limit: options.batchSize },
  );
  const outcomes = await Promise.all(due.map((d) => deliverOne(orm, options, d)));
  return outcomes.filter((o) => o !== 'lost').length;
}

export interface RunningDispatcher {
  stop(): Promise<void>;
}

/**
 * Runs passes until stopped: straight on after a full batch, else after `pollIntervalMs`. Once an
 * hour it also deletes finished events past their retention.
 */
export function startWebhookDispatcher(orm: MikroORM, options: DispatcherOptions, logger?: Logger): RunningDispatcher {
  let stopped = false;
  let wake: (() => void) | undefined;
  let sweptAtMs = 0;
  const loop = (async () => {
    while (!stopped) {
      if (Date.now() - sweptAtMs >= OUTBOX_SWEEP_INTERVAL_MS) {
        sweptAtMs = Date.now();
        await sweepWebhookOutbox(orm.em).catch((err) => logger?.error({ err }, 'webhook outbox sweep failed'));
      }
      let taken = 0;
      try {
        taken = await dispatchDue(orm, options);
      } catch (err) {
        // The database may be briefly unreachable; the outbox keeps everything until the next pass.
        logger?.error({ err }, 'webhook dispatch pass failed');
      }
      if (taken >= options.batchSize || stopped) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, options.pollIntervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
