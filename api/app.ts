/**
 * The HTTP API: thin routes over the services, one shared Temporal client, one error handler.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Client as TemporalClient } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { AppError } from '../core/errors';
import type { TransferTiming } from '../core/transfer';
import { ApiKey, Transfer } from '../db/schema';
import { apiKeyView, balancesOf, clientOrNotFound, createClient, deposit, depositView, findClientByKey, issueApiKey, revokeApiKey } from '../services/clients';
import { documentRoute } from './openapi';
import { mountDocs } from './docs';
import { createApiMetrics } from './metrics';
import { listQuery, pageOf } from './lists';
import {
  apiKeyListResponse,
  apiKeyResponse,
  balanceListResponse,
  clientResponse,
  depositResponse,
  healthResponse,
  issuedApiKeyResponse,
  quoteResponse,
  readinessResponse,
  transferListResponse,
  transferResponse,
} from './responses';
import { enforceRateLimit, RateLimiter, rateLimit, type RateLimitSettings } from './rate-limit';
import { resumeTransfer, startTransfer } from '../services/start-transfer';
import { loadTransferView, transferViews } from '../transfers/view';
import { findOperatorByKey, roleAllows, syncBootstrapOperator, type AuthenticatedOperator } from '../services/operators';
import type { OperatorRole } from '../db/schema';
import { registerOperatorRoutes } from './routes-operators';
import { errorHandler, notFound, requireJsonBody } from './errors';
import { methodNotAllowed } from './method-not-allowed';
import { requestLogger } from './request-log';
import { opsScope, withIdempotency } from './idempotency';
import { webhookRoutes } from './routes-webhooks';
import { dispatcherOptions, type DispatcherOptions } from '../webhooks/dispatcher';
import { loadConfig } from '../core/config';
import { registerOpsRoutes } from './routes-ops';
import { createClientSchema, createQuoteSchema, createTransferDocSchema, createTransferSchema, depositSchema, emptyBodySchema, parse, parseBeneficiary, transferListQuery } from './schemas';
import type { RatesSource } from '../fx/rates';
import { createQuote, quoteView, type FxPricing } from '../services/fx';
import { reconciliationRoutes } from './routes-reconciliation';
import { codecRoutes } from './routes-codec';
import { encryptionCodecOf } from '../core/payload-codec';

/** Webhook delivery for an app built without settings: the defaults, private addresses refused. */
const REFUSE_PRIVATE_DELIVERY: DispatcherOptions = { ...dispatcherOptions(loadConfig({})), allowPrivateAddresses: false };

export interface AppDeps {
  orm: MikroORM;
  temporal: TemporalClient;
  opsApiKey: string;
  taskQueue: string;
  timing: TransferTiming;
  rates: RatesSource;
  pricing: FxPricing;
  rateLimit: RateLimitSettings;
  /** Browser origins (the Temporal UI) the codec server answers with CORS headers. */
  codecCorsOrigins: string[];
  /** CODEC_LOCAL_UI_DECODE: the local Temporal UI decodes without the operator key (loopback only). */
  codecLocalUiDecode?: boolean;
  /** Webhook delivery settings (a retry is sent from the API); without them, the defaults with private addresses refused. */
  webhooks?: DispatcherOptions;
  logger?: Logger;
}

/** Who is calling: a named operator (its role from its key), or a client through one of its keys. */
export type Caller = ({ kind: 'ops' } & AuthenticatedOperator) | { kind: 'client'; clientId: string; keyId: string };

/** A readiness check that takes longer than this counts as unreachable: orchestrators probe with short timeouts. */
const READY_CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Requests bodies above this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 100 * 1024;

declare module 'express-serve-static-core' {
  interface Request {
    caller?: Caller;
  }
}

export function createApp(deps: AppDeps) {
  const { orm, temporal } = deps;
  const logger = deps.logger ?? pino({ level: 'silent' });
  const em = () => orm.em.fork() as SqlEntityManager;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Helmet's defaults, except upgrade-insecure-requests: behind plain HTTP (docker compose, a
  // private network) it would make browsers fetch /docs assets over HTTPS that is not there.
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  const metrics = createApiMetrics(orm, logger);
  app.use(metrics.middleware);

  app.use(requestLogger(logger));
  app.use(requireJsonBody, express.json({ limit: BODY_LIMIT_BYTES }));

  documentRoute({ method: 'get', path: '/healthz', tag: 'health', auth: 'none', summary: 'Liveness: the process answers', responses: { 200: { description: 'Alive', schema: healthResponse } } });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  documentRoute({
    method: 'get',
    path: '/readyz',
    tag: 'health',
    auth: 'none',
    summary: 'Readiness: the database and Temporal answer',
    responses: { 200: { description: 'Ready', schema: readinessResponse }, 503: { description: 'A dependency is unreachable', schema: readinessResponse } },
  });
  app.get('/readyz', async (req, res) => {
    // The checks say which dependency is down, not why: the why (hosts, driver errors) goes to the log.
    const checks: Record<string, string> = {};
    try {
      await withTimeout(em().getConnection().execute('select 1'), READY_CHECK_TIMEOUT_MS, 'database check');
      checks.database = 'ok';
    } catch (err) {
      req.log.warn({ err }, 'readiness: database unreachable');
      checks.database = 'unreachable';
    }
    try {
      await temporal.connection.withDeadline(Date.now() + READY_CHECK_TIMEOUT_MS, () => temporal.workflowService.getSystemInfo({}));
      checks.temporal = 'ok';
    } catch (err) {
      req.log.warn({ err }, 'readiness: Temporal unreachable');
      checks.temporal = 'unreachable';
    }
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ ok, checks });
  });

  mountDocs(app);
  app.get('/metrics', metrics.handler);

  // Limits count per key, after authentication, so one client's burst never spends another's budget.
  const limiter = new RateLimiter(deps.rateLimit);

  // OPS_API_KEY authenticates the `bootstrap` admin (services/operators.ts): its row is brought in line before the first request is answered.
  let bootstrap: Promise<void> | undefined;
  const bootstrapReady = () =>
    (bootstrap ??= syncBootstrapOperator(em(), deps.opsApiKey).catch((err: unknown) => {
      // Tried again by the next request; this one fails as any database failure does (500, logged).
      bootstrap = undefined;
      throw err;
    }));
  // At start, not only at the first request: a changed OPS_API_KEY replaces the old one at once.
  bootstrapReady().catch((err: unknown) => logger.error({ err }, 'the bootstrap operator could not be set up; the first operator request tries again'));

  async function authenticate(req: Request, res: Response): Promise<Caller> {
    const header = req.get('Authorization') ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    const key = match?.[1];
    if (key && !key.startsWith('ry_client_')) {
      await bootstrapReady();
      const operator = await findOperatorByKey(em(), key);
      if (operator) return { kind: 'ops', ...operator };
    }
    const found = key ? await findClientByKey(em(), key) : null;
    if (found) return { kind: 'client', ...found };
    // Requests without a valid key spend a bucket per source address, so guessing keys is as slow
    // as the rate limit.
    enforceRateLimit(limiter, `unauthenticated:${req.ip}`, res);
    if (!key) throw new AppError('unauthenticated', 'send your API key as Authorization: Bearer <key>');
    // An unknown key and a revoked one get the same answer: which keys once existed does not leak.
    throw new AppError('unauthenticated', 'invalid or revoked API key');
  }

  const limited = rateLimit(limiter, (req) => (req.caller?.kind === 'client' ? req.caller.keyId : `ops:${req.caller?.kind === 'ops' ? req.caller.operatorId : ''}`));

  const requireClient = async (req: Request, res: Response, next: NextFunction) => {
    const caller = await authenticate(req, res);
    if (caller.kind !== 'client') throw new AppError('forbidden', 'this route needs a client API key');
    req.caller = caller;
    limited(req, res, next);
  };
  /** An operator key whose role includes `role` (viewer < operator < admin). */
  const requireRole = (role: OperatorRole) => async (req: Request, res: Response, next: NextFunction) => {
    const caller = await authenticate(req, res);
    if (caller.kind !== 'ops') throw new AppError('forbidden', 'this route needs an operator key');
    if (!roleAllows(caller.role, role)) throw new AppError('forbidden', `this route needs the ${role} role; ${caller.name} is ${caller.role === 'admin' ? 'an' : 'a'} ${caller.role}`);
    req.caller = caller;
    limited(req, res, next);
  };
  const requireViewer = requireRole('viewer');
  const requireOperator = requireRole('operator');
  const requireAdmin = requireRole('admin');
  const operatorOf = (req: Request) => (req.caller as AuthenticatedOperator).name;
  // The codec server: the operator key, without the per-key bucket, since the UI decodes a whole
  // history's payloads at once when a page opens; a wrong key is still limited per address.
  const authenticateOps = async (req: Request, res: Response, next: NextFunction) => {
    const caller = await authenticate(req, res);
    if (caller.kind !== 'ops') throw new AppError('forbidden', 'the codec server needs the operator key');
    req.caller = caller;
    next();
  };
  app.use(codecRoutes({ codec: encryptionCodecOf(temporal), corsOrigins: deps.codecCorsOrigins, authenticateOps, localUiDecode: deps.codecLocalUiDecode }));
  const clientIdOf = (req: Request) => (req.caller as { clientId: string }).clientId;

  // --- ops ---
  documentRoute({ method: 'post', path: '/v1/ops/clients', tag: 'ops', auth: 'ops', summary: 'Create a client and its first API key', body: createClientSchema, responses: { 201: { description: 'The client; `apiKey` is shown this once', schema: clientResponse } } });
  app.post('/v1/ops/clients', requireAdmin, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      const body = parse(createClientSchema, req.body);
      const { client, apiKey, key } = await createClient(em(), body.name);
      return { status: 201, body: { id: client.id, object: 'client', name: client.name, apiKey, apiKeyId: key.id, createdAt: client.createdAt.toISOString() }, shownOnce: ['apiKey'] };
    });
  });

  documentRoute({
    method: 'post',
    path: '/v1/ops/clients/:id/keys',
    tag: 'ops',
    auth: 'ops',
    summary: 'Issue an additional API key for a client (to rotate keys)',
    responses: { 201: { description: 'The key; `apiKey` is shown this once', schema: issuedApiKeyResponse } },
    errors: [404],
  });
  app.post('/v1/ops/clients/:id/keys', requireAdmin, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      parse(emptyBodySchema, req.body);
      const { apiKey, key } = await issueApiKey(em(), String(req.params.id));
      return { status: 201, body: { ...apiKeyView(key), apiKey }, shownOnce: ['apiKey'] };
    });
  });

  const keyListQuery = listQuery('key');
  documentRoute({
    method: 'get',
    path: '/v1/ops/clients/:id/keys',
    tag: 'ops',
    auth: 'ops',
    summary: "A client's API keys, revoked ones included (never the keys themselves)",
    query: keyListQuery,
    responses: { 200: { description: 'A page of keys, newest first', schema: apiKeyListResponse } },
    errors: [404],
  });
  app.get('/v1/ops/clients/:id/keys', requireViewer, async (req, res) => {
    const query = parse(keyListQuery, req.query);
    const clientId = String(req.params.id);
    await clientOrNotFound(em(), clientId);
    const page = await pageOf(em(), ApiKey, { clientId }, query);
    res.json({ object: 'list', data: page.rows.map(apiKeyView), hasMore: page.hasMore });
  });

  documentRoute({
    method: 'delete',
    path: '/v1/ops/clients/:id/keys/:keyId',
    tag: 'ops',
    auth: 'ops',
    summary: 'Revoke an API key: from now on it gets 401',
    responses: { 200: { description: 'The revoked key', schema: apiKeyResponse } },
    errors: [404],
  });
  app.delete('/v1/ops/clients/:id/keys/:keyId', requireAdmin, async (req, res) => {
    res.json(apiKeyView(await revokeApiKey(em(), String(req.params.id), String(req.params.keyId))));
  });

  documentRoute({
    method: 'post',
    path: '/v1/ops/clients/:id/deposits',
    tag: 'ops',
    auth: 'ops',
    summary: "Credit a client's balance with an inbound deposit",
    description: 'The reference is unique per client: repeating it with the same amount returns the first deposit, with another amount it is 409.',
    body: depositSchema,
    responses: { 201: { description: 'The deposit', schema: depositResponse } },
    errors: [404],
  });
  app.post('/v1/ops/clients/:id/deposits', requireOperator, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      const body = parse(depositSchema, req.body);
      const row = await deposit(em(), { clientId: String(req.params.id), ...body });
      return { status: 201, body: depositView(row) };
    });
  });

  // --- clients ---
  documentRoute({ method: 'get', path: '/v1/balances', tag: 'balances', auth: 'client', summary: 'Your balance in each currency (all in one page)', responses: { 200: { description: 'Balances by currency', schema: balanceListResponse } } });
  app.get('/v1/balances', requireClient, async (req, res) => {
    res.json({ object: 'list', data: await balancesOf(em(), clientIdOf(req)), hasMore: false });
  });

  documentRoute({
    method: 'post',
    path: '/v1/fx/quotes',
    tag: 'fx',
    auth: 'client',
    summary: 'Quote a conversion: a locked rate for one amount, for a limited time',
    description: 'Beyond the schema: the two currencies differ and are a pair offered for FX, and the converted amount is at least one minor unit; otherwise 400 naming the field.',
    body: createQuoteSchema,
    responses: { 201: { description: 'The quote', schema: quoteResponse } },
  });
  app.post('/v1/fx/quotes', requireClient, async (req, res) => {
    const clientId = clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async () => {
      const body = parse(createQuoteSchema, req.body);
      const quote = await createQuote(em(), deps.rates, deps.pricing, { clientId, ...body });
      return { status: 201, body: quoteView(quote) };
    });
  });

  documentRoute({
    method: 'post',
    path: '/v1/transfers',
    tag: 'transfers',
    auth: 'client',
    summary: 'Start a transfer',
    description: 'Answers once the funds are held (201, status `funds_held` or later); the rest runs on in the workflow. `amountMinor`/`currency` is what your balance pays. Beyond the schema, rules no JSON Schema can state are checked too, each answered 400 naming the field: an IBAN or routing number passes its checksum and an IBAN\'s country is `country`, some rail carries the currency to that country for that amount (the named `rail`, if any), `quoteId` goes with a cross-currency transfer only, `chargeBearer` with `swift` only.',
    body: createTransferDocSchema,
    responses: { 201: { description: 'The transfer', schema: transferResponse } },
    errors: [402, 404, 503],
  });
  app.post('/v1/transfers', requireClient, async (req, res) => {
    const clientId = clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async (idem) => {
      const startDeps = { em: em(), temporal, taskQueue: deps.taskQueue, timing: deps.timing, rates: deps.rates, pricing: deps.pricing, requestId: String(req.id) };
      // A retry after a failed start resumes the transfer the first request recorded.
      if (idem.recoveryPoint) return { status: 201, body: await resumeTransfer(startDeps, clientId, idem.recoveryPoint) };
      const parsed = parse(createTransferSchema, req.body);
      const { beneficiary } = parseBeneficiary(parsed.beneficiary);
      const body = { ...parsed, beneficiary };
      const transfer = await startTransfer(startDeps, clientId, body, idem);
      return { status: 201, body: transfer };
    });
  });

  documentRoute({
    method: 'get',
    path: '/v1/transfers/:id',
    tag: 'transfers',
    auth: 'client',
    summary: 'A transfer with its events (status history) and attempts',
    responses: { 200: { description: 'The transfer', schema: transferResponse } },
    errors: [404],
  });
  app.get('/v1/transfers/:id', requireClient, async (req, res) => {
    const view = await loadTransferView(em(), String(req.params.id), clientIdOf(req));
    // Another client's transfer is 404 as well: existence does not leak.
    if (!view) throw new AppError('not_found', `no transfer ${req.params.id}`, { param: 'id' });
    res.json(view);
  });

  documentRoute({
    method: 'get',
    path: '/v1/transfers',
    tag: 'transfers',
    auth: 'client',
    summary: 'Your transfers, newest first, filtered by status and creation time',
    query: transferListQuery,
    responses: { 200: { description: 'A page of transfers', schema: transferListResponse } },
  });
  app.get('/v1/transfers', requireClient, async (req, res) => {
    const query = parse(transferListQuery, req.query);
    const page = await pageOf(em(), Transfer, { clientId: clientIdOf(req), ...(query.status ? { status: query.status } : {}) }, query);
    res.json({ object: 'list', data: await transferViews(em(), page.rows), hasMore: page.hasMore });
  });

  app.use(webhookRoutes({ orm, requireClient, clientIdOf, delivery: deps.webhooks ?? REFUSE_PRIVATE_DELIVERY }));
  const roles = { requireViewer, requireOperator, requireAdmin, operatorOf };
  app.use(reconciliationRoutes({ orm, temporal, ...roles }));
  registerOpsRoutes(app, { orm, temporal, ...roles, requireClient, clientIdOf });
  registerOperatorRoutes(app, { orm, temporal, ...roles });

  app.use(methodNotAllowed(app));
  app.use(notFound);
  app.use(errorHandler);

  return app;
}
