/**
 * Webhook endpoints, per client: `POST /v1/webhook_endpoints {url, events}` → `{id, secret}` (the
 * secret is shown once, at creation), `GET /v1/webhook_endpoints` (a list, without secrets) and
 * `DELETE /v1/webhook_endpoints/:id`. Another client's endpoint is 404.
 */
import { randomBytes } from 'node:crypto';
import { Router, type RequestHandler, type Request } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { z } from 'zod';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import { WebhookDelivery, WebhookEndpoint, type WebhookEndpointRow } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/outbox';
import { withIdempotency } from './idempotency';
import { documentRoute } from './openapi';
import { createdWebhookEndpointResponse, deletedWebhookEndpointResponse, webhookEndpointListResponse } from './responses';
import { listQuery, pageOf } from './lists';
import { parse } from './schemas';

/** Endpoints per client: enough for every environment a platform runs, few enough to fan out per change. */
const ENDPOINTS_PER_CLIENT_MAX = 16;

const webhookUrl = z
  .string({ error: 'must be an absolute http(s) URL' })
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'https:' || url.protocol === 'http:') && !url.username && !url.password && !url.hash;
      } catch {
        return false;
      }
    },
    { error: 'must be an absolute http(s) URL without credentials or fragment' },
  );

const endpointListQuery = listQuery('we');

const createEndpointSchema = z.strictObject({
  url: webhookUrl,
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES, { error: `must be one of ${WEBHOOK_EVENT_TYPES.join(', ')}` }), { error: 'must be a list of event types' })
    .min(1, { error: 'must name at least one event type' })
    .max(WEBHOOK_EVENT_TYPES.length, { error: 'lists an event type twice' })
    .refine((events) => new Set(events).size === events.length, { error: 'lists an event type twice' }),
});

function endpointView(e: WebhookEndpointRow) {
  return { id: e.id, object: 'webhook_endpoint', url: e.url, events: e.events, createdAt: e.createdAt.toISOString() };
}

export function webhookRoutes(orm: MikroORM, requireClient: RequestHandler, clientIdOf: (req: Request) => string): Router {
  const router = Router();
  const em = () => orm.em.fork() as SqlEntityManager;

  documentRoute({
    method: 'post',
    path: '/v1/webhook_endpoints',
    tag: 'webhooks',
    auth: 'client',
    summary: 'Register a webhook endpoint; the signing secret is shown once',
    body: createEndpointSchema,
    responses: { 201: { description: 'The endpoint, with its secret', schema: createdWebhookEndpointResponse } },
  });
  router.post('/v1/webhook_endpoints', requireClient, async (req, res) => {
    const clientId = clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async () => {
      const body = parse(createEndpointSchema, req.body);
      if ((await em().count(WebhookEndpoint, { clientId })) >= ENDPOINTS_PER_CLIENT_MAX) {
        throw new AppError('invalid_request', `a client may have at most ${ENDPOINTS_PER_CLIENT_MAX} webhook endpoints; delete one first`, { param: 'url' });
      }
      const row: WebhookEndpointRow = {
        id: newId('we'),
        clientId,
        url: body.url,
        events: body.events,
        secret: `whsec_${randomBytes(32).toString('base64url')}`,
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
    res.json({ object: 'list', data: rows.map(endpointView), hasMore });
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

  return router;
}
