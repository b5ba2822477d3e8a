/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and shape
 * responses. Each route registers itself with one `documentRoute` call next to its handler; the
 * document served at /openapi.json is built from those calls, so a route cannot be validated by
 * one schema and documented by another. test/api/openapi.test.ts fails for an Express route that
 * is not documented and for a live answer that does not match its documented schema.
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { errorResponse } from './responses';
import { IDEMPOTENCY_KEY_MAX_LENGTH, IDEMPOTENCY_KEY_PATTERN } from './idempotency';

export type RouteAuth = 'client' | 'ops' | 'none';

export interface RouteDoc {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** Express style: `/v1/transfers/:id`. */
  path: string;
  summary: string;
  description?: string;
  auth: RouteAuth;
  /** For `ops` routes: the least role an operator key needs (viewer < operator < admin). */
  role?: 'viewer' | 'operator' | 'admin';
  tag: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  /** Success answers by status, each with its body schema (absent for a non-JSON answer). */
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  /** Error statuses this route can answer besides the ones every route of its kind can. */
  errors?: number[];
}

const routes = new Map<string, RouteDoc>();

/** Registers a route in the document; registering the same method and path again replaces it. */
export function documentRoute(doc: RouteDoc): void {
  routes.set(`${doc.method.toUpperCase()} ${doc.path}`, doc);
  cached = undefined;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `param` names the field, query parameter or header at fault',
  401: 'Missing, unknown or revoked API key',
  402: 'The balance does not cover the amount',
  403: 'The key may not use this route',
  404: 'Not found, or not yours',
  409: 'The resource is not in a state that allows this, or the Idempotency-Key is in use',
  413: 'The body is larger than 100 KiB',
  422: 'The Idempotency-Key was used with a different request',
  429: 'The key spent its rate limit; retry after `Retry-After` seconds',
  500: 'Internal error (details are in the server log under the request ID)',
  503: 'A dependency is unavailable; retry with the same Idempotency-Key',
};

function errorStatuses(doc: RouteDoc): number[] {
  const statuses = new Set<number>([500, ...(doc.errors ?? [])]);
  if (doc.auth !== 'none') [401, 403, 429].forEach((s) => statuses.add(s));
  if (doc.body || doc.query || doc.method === 'post') statuses.add(400);
  if (doc.method === 'post') [409, 413, 422].forEach((s) => statuses.add(s));
  return [...statuses].sort();
}

let cached: object | undefined;

/** The whole document (built once, rebuilt after a new registration). */
export function openApiDocument(): object {
  if (cached) return cached;
  const registry = new OpenAPIRegistry();
  const clientKey = registry.registerComponent('securitySchemes', 'clientKey', { type: 'http', scheme: 'bearer', description: 'A client API key (`ry_client_…`)' });
  const opsKey = registry.registerComponent('securitySchemes', 'opsKey', { type: 'http', scheme: 'bearer', description: 'A named operator\'s key (`ry_ops_…`), with a role: `viewer`, `operator` or `admin`; `OPS_API_KEY` is the bootstrap admin' });

  for (const doc of routes.values()) {
    const paramNames = [...doc.path.matchAll(/:(\w+)/g)].map((m) => m[1]);
    const responses: Record<string, ResponseConfig> = {};
    for (const [status, r] of Object.entries(doc.responses)) {
      responses[status] = r.schema ? { description: r.description, content: { [r.contentType ?? 'application/json']: { schema: r.schema } } } : { description: r.description };
    }
    if (doc.method === 'post') {
      for (const r of Object.values(responses)) {
        r.headers = { 'Idempotent-Replayed': { description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key', schema: { type: 'string', enum: ['true'] } } };
      }
    }
    for (const status of errorStatuses(doc)) {
      responses[String(status)] = {
        description: ERROR_DESCRIPTIONS[status] ?? 'Error',
        content: { 'application/json': { schema: errorResponse } },
        ...(status === 429 ? { headers: { 'Retry-After': { description: 'seconds until the key has a request to spend again', schema: { type: 'integer', minimum: 1 } } } } : {}),
      };
    }
    registry.registerPath({
      method: doc.method,
      path: doc.path.replace(/:(\w+)/g, '{$1}'),
      operationId: operationId(doc),
      summary: doc.summary,
      ...(doc.description || doc.role ? { description: [doc.role ? `Needs an operator key with the \`${doc.role}\` role (or a higher one).` : '', doc.description ?? ''].filter(Boolean).join(' ') } : {}),
      tags: [doc.tag],
      security: doc.auth === 'client' ? [{ [clientKey.name]: [] }] : doc.auth === 'ops' ? [{ [opsKey.name]: [] }] : [],
      request: {
        ...(paramNames.length ? { params: z.object(Object.fromEntries(paramNames.map((n) => [n, z.string()]))) } : {}),
        ...(doc.query ? { query: doc.query } : {}),
        ...(doc.method === 'post'
          ? {
              headers: z.object({
                'Idempotency-Key': z
                  .string()
                  .min(1)
                  .max(IDEMPOTENCY_KEY_MAX_LENGTH)
                  .regex(IDEMPOTENCY_KEY_PATTERN)
                  .meta({
                    description:
                      'Required: 1 to 255 printable ASCII characters (a UUID, say). The same key with the same body replays the first answer (`Idempotent-Replayed: true`); with another body it is 422 `idempotency_key_reused`; while the first request runs, 409 `idempotency_key_in_use`. Keys are scoped to the caller and kept 24 hours.',
                    example: '3f1c2a9e-8d4b-4c1e-9a57-2b6f0d9e4c13',
                  }),
              }),
            }
          : {}),
        ...(doc.body ? { body: { required: true, content: { 'application/json': { schema: doc.body } } } } : {}),
      },
      responses,
    });
  }

  cached = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Railyard API',
      version: '1',
      description:
        'Payouts and cross-border transfers over bank rails. Amounts are integers in the currency’s minor unit (`amountMinor: 1050` is 10.50 USD). ' +
        'Every failure is `{"error": {type, code, message, param?}}`. Lists take `limit` (1–100, default 10) and `startingAfter` and answer `{data, hasMore}`, newest first.',
    },
    servers: [{ url: '/' }],
  });
  return cached;
}

function operationId(doc: RouteDoc): string {
  const words = doc.path
    .split('/')
    .filter((p) => p && p !== 'v1')
    .map((p) => (p.startsWith(':') ? `By${p[1].toUpperCase()}${p.slice(2)}` : p.replace(/[-_](\w)/g, (_m, c: string) => c.toUpperCase())))
    .map((p) => p[0].toUpperCase() + p.slice(1));
  return `${doc.method}${words.join('')}`;
}
