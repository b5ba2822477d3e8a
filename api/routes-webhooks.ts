/**
 * Webhooks, per client: endpoints (`POST /v1/webhook_endpoints {url, events}` → `{id, secret}`, the
 * secret shown once; `GET` lists them without secrets; `DELETE …/:id`), what was sent to them
 * (`GET …/:id/deliveries` with each delivery's attempts, last answer and next attempt; `POST
 * …/deliveries/:deliveryId/retry` sends one again now), secret rotation (`POST …/:id/rotate_secret`:
 * the old secret signs beside the new one for 24 hours), and the client's events (`GET /v1/events`,
 * kept 30 days). Another client's endpoint or delivery is 404.
 *
 * An endpoint on a loopback, private or link-local address is refused at creation (400, `param:
 * url`) unless the deployment allows them (a loopback HOST, as under `npm start`): the dispatcher
 * would refuse to call it anyway, and a client should learn that now, not from deliveries that
 * never go out.
 */
import { randomBytes } from 'node:crypto';
import { Router, type RequestHandler, type Request } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { z } from 'zod';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import { WebhookDelivery, WebhookEndpoint, WebhookEvent, type WebhookDeliveryRow, type WebhookEndpointRow, type WebhookEventRow } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { redeliver, type DispatcherOptions } from '../webhooks/dispatcher';
import { WEBHOOK_EVENT_TYPES, WEBHOOK_RETENTION_MS } from '../webhooks/outbox';
import { checkPublicDestination, PrivateAddressError, UnresolvedHostError } from '../webhooks/send';
import { withIdempotency } from './idempotency';
import { documentRoute } from './openapi';
import {
  createdWebhookEndpointResponse,
  deletedWebhookEndpointResponse,
  eventListResponse,
  rotatedWebhookSecretResponse,
  webhookDeliveryListResponse,
  webhookDeliveryResponse,
  webhookEndpointListResponse,
} from './responses';
import { listQuery, pageOf } from './lists';
import { emptyBodySchema, parse } from './schemas';

/** Endpoints per client: enough for every environment a platform runs, few enough to fan out per change. */
const ENDPOINTS_PER_CLIENT_MAX = 16;

/**
 * What an endpoint URL may be, as the OpenAPI document states it: http(s), a host name (its last
 * label not numeric) or a dotted IPv4 address, an optional port, no credentials, no fragment. A
 * bracketed IPv6 literal is taken too; the pattern leaves it out, as a regex for every IPv6 form
 * would say less than the URL parser that checks it.
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d\\d|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3}|0)';
const WEBHOOK_URL_PATTERN = new RegExp(`^https?://(?:(?:[A-Za-z0-9-]+\\.)*[A-Za-z][A-Za-z0-9-]*|(?:${OCTET}\\.){3}${OCTET})(?::${PORT})?(?:[/?][^\\s#]*)?$`);

function acceptableUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.hash) return false;
  return WEBHOOK_URL_PATTERN.test(value) || url.hostname.startsWith('[');
}

const webhookUrl = z
  .string({ error: 'must be an absolute http(s) URL' })
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine(acceptableUrl, { error: 'must be an absolute http(s) URL without credentials or fragment' })
  .meta({ pattern: WEBHOOK_URL_PATTERN.source, description: 'where deliveries are POSTed: http(s), no credentials or fragment (a bracketed IPv6 host is accepted too)' });

const endpointListQuery = listQuery('we');
const deliveryListQuery = listQuery('whdl', {
  status: z.enum(['pending', 'delivered', 'dead'], { error: 'must be one of pending, delivered, dead' }).optional().meta({ description: 'only deliveries in this status' }),
});
const eventListQuery = listQuery('whev', {
  type: z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }).optional().meta({ description: 'only events of this type' }),
});

/** How long a replaced secret keeps signing after a rotation: a day to roll the new one out. */
export const SECRET_OVERLAP_MS = 24 * 3_600_000;
/** A lookup of the endpoint's host at creation that takes longer is answered 503 (try again). */
const LOOKUP_TIMEOUT_MS = 3_000;

const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

const createEndpointSchema = z.strictObject({
  url: webhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }), { error: 'must be a list of event types' })
    .min(1, { error: 'must name at least one event type' })
    .max(WEBHOOK_EVENT_TYPES.length, { error: 'lists an event type twice' })
    .refine((events) => new Set(events).size === events.length, { error: 'lists an event type twice' }),
});

function endpointView(e: WebhookEndpointRow, nowMs = Date.now()) {
  const overlapping = e.previousSecretExpiresAt !== null && e.previousSecretExpiresAt.getTime() > nowMs;
  return {
    id: e.id,
    object: 'webhook_endpoint',
    url: e.url,
    events: e.events,
    previousSecretExpiresAt: overlapping ? e.previousSecretExpiresAt!.toISOString() : null,
    createdAt: e.createdAt.toISOString(),
  };
}

function deliveryView(d: WebhookDeliveryRow) {
  return {
    id: d.id,
    object: 'webhook_delivery',
    endpointId: d.endpointId,
    eventId: d.eventId,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
  };
}

/** The event as its deliveries send it (the stored body), marked as an event object. */
function eventView(e: WebhookEventRow) {
  return { ...(JSON.parse(e.payload) as object), object: 'event' };
}

/** 400 naming `url` for a destination the dispatcher would refuse to call. */
async function refusePrivateDestination(url: string): Promise<void> {
  try {
    await checkPublicDestination(url, LOOKUP_TIMEOUT_MS);
  } catch (err) {
    if (err instanceof PrivateAddressError) {
      throw new AppError('invalid_request', `${err.message}: webhook endpoints must be reachable on the public internet`, { param: 'url' });
    }
    if (err instanceof UnresolvedHostError) throw new AppError('invalid_request', `${err.message}: give a host name that resolves`, { param: 'url' });
    throw new AppError('service_unavailable', "the endpoint's host could not be looked up now; retry with the same Idempotency-Key", { cause: err });
  }
}

export interface WebhookRouteDeps {
  orm: MikroORM;
  requireClient: RequestHandler;
  clientIdOf: (req: Request) => string;
  /** How deliveries are sent (a retry is sent from the API), and whether private addresses may be endpoints. */
  delivery: DispatcherOptions;
}

export function webhookRoutes({ orm, requireClient, clientIdOf, delivery }: WebhookRouteDeps): Router {
  const router = Router();
  const em = () => orm.em.fork() as SqlEntityManager;

  /** The client's own endpoint, else 404 (another client's too: existence does not leak). */
  async function ownEndpoint(req: Request): Promise<WebhookEndpointRow> {
    const id = String(req.params.id);
    const endpoint = await em().findOne(WebhookEndpoint, { id, clientId: clientIdOf(req) });
    if (!endpoint) throw new AppError('not_found', `no webhook endpoint ${id}`, { param: 'id' });
    return endpoint;
  }

  documentRoute({
    method: 'post',
    path: '/v1/webhook_endpoints',
    tag: 'webhooks',
    auth: 'client',
    summary: 'Register a webhook endpoint; the signing secret is shown once',
    body: createEndpointSchema,
    description: 'Outside local development, a URL whose host is or resolves to a loopback, private or link-local address is refused (400, `param: url`).',
    responses: { 201: { description: 'The endpoint, with its secret', schema: createdWebhookEndpointResponse } },
    errors: [503],
  });
  router.post('/v1/webhook_endpoints', requireClient, async (req, res) => {
    const clientId = clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async () => {
      const body = parse(createEndpointSchema, req.body);
      if (!delivery.allowPrivateAddresses) await refusePrivateDestination(body.url);
      if ((await em().count(WebhookEndpoint, { clientId })) >= ENDPOINTS_PER_CLIENT_MAX) {
        throw new AppError('invalid_request', `a client may have at most ${ENDPOINTS_PER_CLIENT_MAX} webhook endpoints; delete one first`, { param: 'url' });
      }
      const row: WebhookEndpointRow = {
        id: newId('we'),
        clientId,
        url: body.url,
        events: body.events,
        secret: newSecret(),
        previousSecret: null,
        previousSecretExpiresAt: null,
        createdAt: new Date(),
      };
      await em().insert(WebhookEndpoint, row);
      return { status: 201, body: { ...endpointView(row), secret: row.secret } };
    });
  });

  documentRoute({
    method: 'get',
    path: '/v1/webhook_endpoints',
    tag: 'webhooks',
    auth: 'client',
    summary: "The client's webhook endpoints, newest first, without secrets",
    query: endpointListQuery,
    responses: { 200: { description: 'A page of endpoints', schema: webhookEndpointListResponse } },
  });
  router.get('/v1/webhook_endpoints', requireClient, async (req, res) => {
    const query = parse(endpointListQuery, req.query);
    const { rows, hasMore } = await pageOf(em(), WebhookEndpoint, { clientId: clientIdOf(req) }, query);
    res.json({ object: 'list', data: rows.map((e) => endpointView(e)), hasMore });
  });

  documentRoute({
    method: 'delete',
    path: '/v1/webhook_endpoints/:id',
    tag: 'webhooks',
    auth: 'client',
    summary: 'Delete a webhook endpoint; deliveries still owed to it are dropped',
    responses: { 200: { description: 'Deleted', schema: deletedWebhookEndpointResponse } },
    errors: [404],
  });
  router.delete('/v1/webhook_endpoints/:id', requireClient, async (req, res) => {
    const id = String(req.params.id);
    const deleted = await inTransaction(em(), async (tx) => {
      const gone = await tx.nativeDelete(WebhookEndpoint, { id, clientId: clientIdOf(req) });
      // Deliveries still owed to the endpoint will never be sent: they stop counting as backlog.
      if (gone === 1) await tx.nativeUpdate(WebhookDelivery, { endpointId: id, status: 'pending' }, { status: 'dead', lastError: 'the endpoint was deleted' });
      return gone === 1;
    });
    // Another client's endpoint is 404 as well: existence does not leak.
    if (!deleted) throw new AppError('not_found', `no webhook endpoint ${id}`, { param: 'id' });
    res.json({ id, object: 'webhook_endpoint', deleted: true });
  });

  documentRoute({
    method: 'get',
    path: '/v1/webhook_endpoints/:id/deliveries',
    tag: 'webhooks',
    auth: 'client',
    summary: "An endpoint's deliveries, newest first: attempts, the last answer or error, the next attempt",
    query: deliveryListQuery,
    responses: { 200: { description: 'A page of deliveries', schema: webhookDeliveryListResponse } },
    errors: [404],
  });
  router.get('/v1/webhook_endpoints/:id/deliveries', requireClient, async (req, res) => {
    const query = parse(deliveryListQuery, req.query);
    const endpoint = await ownEndpoint(req);
    const { rows, hasMore } = await pageOf(em(), WebhookDelivery, { endpointId: endpoint.id, ...(query.status ? { status: query.status } : {}) }, query);
    res.json({ object: 'list', data: rows.map(deliveryView), hasMore });
  });

  documentRoute({
    method: 'post',
    path: '/v1/webhook_endpoints/:id/deliveries/:deliveryId/retry',
    tag: 'webhooks',
    auth: 'client',
    summary: 'Send a delivery again now, whatever its status; answers once the attempt is over',
    description:
      'A failed attempt is scheduled again with the usual backoff (or ends as `dead` past the maximum age). The same Idempotency-Key replays the first answer instead of sending again.',
    responses: { 200: { description: 'The delivery as the attempt left it', schema: webhookDeliveryResponse } },
    errors: [404],
  });
  router.post('/v1/webhook_endpoints/:id/deliveries/:deliveryId/retry', requireClient, async (req, res) => {
    await withIdempotency(orm, req, res, clientIdOf(req), async () => {
      parse(emptyBodySchema, req.body);
      const endpoint = await ownEndpoint(req);
      const deliveryId = String(req.params.deliveryId);
      const owned = await em().findOne(WebhookDelivery, { id: deliveryId, endpointId: endpoint.id });
      if (!owned) throw new AppError('not_found', `no delivery ${deliveryId} for webhook endpoint ${endpoint.id}`, { param: 'deliveryId' });
      const after = await redeliver(orm, delivery, deliveryId);
      if (!after) throw new AppError('not_found', `no delivery ${deliveryId} for webhook endpoint ${endpoint.id}`, { param: 'deliveryId' });
      return { status: 200, body: deliveryView(after) };
    });
  });

  documentRoute({
    method: 'post',
    path: '/v1/webhook_endpoints/:id/rotate_secret',
    tag: 'webhooks',
    auth: 'client',
    summary: 'Replace the signing secret; the old one keeps signing beside the new one for 24 hours',
    description:
      'During the overlap every delivery carries one `v1=` signature per live secret, so a receiver verifying with either accepts it. Rotating again within the overlap ends the oldest secret at once: at most two sign.',
    responses: { 200: { description: 'The endpoint, with its new secret (shown once)', schema: rotatedWebhookSecretResponse } },
    errors: [404],
  });
  router.post('/v1/webhook_endpoints/:id/rotate_secret', requireClient, async (req, res) => {
    await withIdempotency(orm, req, res, clientIdOf(req), async () => {
      parse(emptyBodySchema, req.body);
      const endpoint = await ownEndpoint(req);
      const now = new Date();
      const rotated = { secret: newSecret(), previousSecret: endpoint.secret, previousSecretExpiresAt: new Date(now.getTime() + SECRET_OVERLAP_MS) };
      // Conditional on the secret read: of two rotations at once, one wins and the other is told.
      const changed = await em().nativeUpdate(WebhookEndpoint, { id: endpoint.id, secret: endpoint.secret }, rotated);
      if (changed !== 1) throw new AppError('invalid_state', 'the secret was rotated by another request at the same time; list the endpoint and rotate again if needed');
      return { status: 200, body: { ...endpointView({ ...endpoint, ...rotated }, now.getTime()), secret: rotated.secret } };
    });
  });

  documentRoute({
    method: 'get',
    path: '/v1/events',
    tag: 'webhooks',
    auth: 'client',
    summary: 'Your events, newest first, as webhooks deliver them; kept 30 days',
    query: eventListQuery,
    responses: { 200: { description: 'A page of events', schema: eventListResponse } },
  });
  router.get('/v1/events', requireClient, async (req, res) => {
    const query = parse(eventListQuery, req.query);
    // Older events may still wait for the hourly sweep: the window is the same for every reader.
    const retainedFrom = new Date(Date.now() - WEBHOOK_RETENTION_MS).toISOString();
    const createdGte = query.createdGte && Date.parse(query.createdGte) > Date.parse(retainedFrom) ? query.createdGte : retainedFrom;
    const { rows, hasMore } = await pageOf(em(), WebhookEvent, { clientId: clientIdOf(req), ...(query.type ? { type: query.type } : {}) }, { ...query, createdGte });
    res.json({ object: 'list', data: rows.map(eventView), hasMore });
  });

  return router;
}
