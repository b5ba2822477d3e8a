/**
 * The HTTP API: thin routes over the services, one shared Temporal client, one error handler.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Client as TemporalClient } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { AppError } from '../core/errors';
import type { TransferTiming } from '../core/transfer';
import { Transfer } from '../db/schema';
import { apiKeyView, balancesOf, createClient, deposit, depositView, findClientByKey, issueApiKey, listApiKeys, revokeApiKey } from '../services/clients';
import { RateLimiter, rateLimit, type RateLimitSettings } from './rate-limit';
import { startTransfer } from '../services/start-transfer';
import { loadTransferView, transferViews } from '../services/transfers';
import { sameKey } from './keys';
import { errorHandler, notFound, requireJsonBody } from './errors';
import { withIdempotency } from './idempotency';
import { createClientSchema, emptyBodySchema, createQuoteSchema, createTransferSchema, depositSchema, listSchema, parse, parseBeneficiary } from './schemas';
import type { RatesSource } from '../fx/rates';
import { createQuote, quoteView, type FxPricing } from '../services/fx';

export interface AppDeps {
  orm: MikroORM;
  temporal: TemporalClient;
  opsApiKey: string;
  taskQueue: string;
  timing: TransferTiming;
  rates: RatesSource;
  pricing: FxPricing;
  rateLimit: RateLimitSettings;
  logger?: Logger;
}

/** Who is calling: the operator, or a client through one of its keys. */
export type Caller = { kind: 'ops' } | { kind: 'client'; clientId: string; keyId: string };

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
  app.use(helmet());

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
    }),
  );
  app.use(requireJsonBody, express.json({ limit: BODY_LIMIT_BYTES }));

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    try {
      await em().getConnection().execute('select 1');
      checks.database = 'ok';
    } catch (err) {
      checks.database = `unreachable: ${(err as Error).message}`;
    }
    try {
      await temporal.workflowService.getSystemInfo({});
      checks.temporal = 'ok';
    } catch (err) {
      checks.temporal = `unreachable: ${(err as Error).message}`;
    }
    const ok = Object.values(checks).every((v) => v === 'ok');
    res.status(ok ? 200 : 503).json({ ok, checks });
  });

  async function authenticate(req: Request): Promise<Caller> {
    const header = req.get('Authorization') ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (!match) throw new AppError('unauthenticated', 'send your API key as Authorization: Bearer <key>');
    const key = match[1];
    if (sameKey(key, deps.opsApiKey)) return { kind: 'ops' };
    const found = await findClientByKey(em(), key);
    // An unknown key and a revoked one get the same answer: which keys once existed does not leak.
    if (!found) throw new AppError('unauthenticated', 'invalid or revoked API key');
    return { kind: 'client', ...found };
  }

  // Limits count per key, after authentication, so one client's burst never spends another's budget.
  const limiter = new RateLimiter(deps.rateLimit);
  const limited = rateLimit(limiter, (req) => (req.caller?.kind === 'client' ? req.caller.keyId : 'ops'));

  const requireKind = (kind: Caller['kind']) => async (req: Request, res: Response, next: NextFunction) => {
    const caller = await authenticate(req);
    if (caller.kind !== kind) throw new AppError('forbidden', kind === 'ops' ? 'this route needs the operator key' : 'this route needs a client API key');
    req.caller = caller;
    limited(req, res, next);
  };
  const requireOps = requireKind('ops');
  const requireClient = requireKind('client');
  const clientIdOf = (req: Request) => (req.caller as { clientId: string }).clientId;

  // --- ops ---
  app.post('/v1/ops/clients', requireOps, async (req, res) => {
    await withIdempotency(orm, req, res, 'ops', async () => {
      const body = parse(createClientSchema, req.body);
      const { client, apiKey, key } = await createClient(em(), body.name);
      return { status: 201, body: { id: client.id, object: 'client', name: client.name, apiKey, apiKeyId: key.id, createdAt: client.createdAt.toISOString() } };
    });
  });

  app.post('/v1/ops/clients/:id/keys', requireOps, async (req, res) => {
    await withIdempotency(orm, req, res, 'ops', async () => {
      parse(emptyBodySchema, req.body);
      const { apiKey, key } = await issueApiKey(em(), String(req.params.id));
      return { status: 201, body: { ...apiKeyView(key), apiKey } };
    });
  });

  app.get('/v1/ops/clients/:id/keys', requireOps, async (req, res) => {
    const keys = await listApiKeys(em(), String(req.params.id));
    res.json({ object: 'list', data: keys.map(apiKeyView), hasMore: false });
  });

  app.delete('/v1/ops/clients/:id/keys/:keyId', requireOps, async (req, res) => {
    res.json(apiKeyView(await revokeApiKey(em(), String(req.params.id), String(req.params.keyId))));
  });

  app.post('/v1/ops/clients/:id/deposits', requireOps, async (req, res) => {
    await withIdempotency(orm, req, res, 'ops', async () => {
      const body = parse(depositSchema, req.body);
      const row = await deposit(em(), { clientId: String(req.params.id), ...body });
      return { status: 201, body: depositView(row) };
    });
  });

  // --- clients ---
  app.get('/v1/balances', requireClient, async (req, res) => {
    res.json({ object: 'list', data: await balancesOf(em(), clientIdOf(req)) });
  });

  app.post('/v1/fx/quotes', requireClient, async (req, res) => {
    const clientId = clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async () => {
      const body = parse(createQuoteSchema, req.body);
      const quote = await createQuote(em(), deps.rates, deps.pricing, { clientId, ...body });
      return { status: 201, body: quoteView(quote) };
    });
  });

  app.post('/v1/transfers', requireClient, async (req, res) => {
    const clientId = clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async () => {
      const parsed = parse(createTransferSchema, req.body);
      const { beneficiary } = parseBeneficiary(parsed.beneficiary);
      const body = { ...parsed, beneficiary };
      const transfer = await startTransfer({ em: em(), temporal, taskQueue: deps.taskQueue, timing: deps.timing, rates: deps.rates, pricing: deps.pricing }, clientId, body);
      return { status: 201, body: transfer };
    });
  });

  app.get('/v1/transfers/:id', requireClient, async (req, res) => {
    const view = await loadTransferView(em(), String(req.params.id), clientIdOf(req));
    // Another client's transfer is 404 as well: existence does not leak.
    if (!view) throw new AppError('not_found', `no transfer ${req.params.id}`, { param: 'id' });
    res.json(view);
  });

  app.get('/v1/transfers', requireClient, async (req, res) => {
    const query = parse(listSchema, req.query);
    const where: Record<string, unknown> = { clientId: clientIdOf(req) };
    if (query.status) where.status = query.status;
    if (query.startingAfter) where.id = { $lt: query.startingAfter };
    const rows = await em().find(Transfer, where, { orderBy: { id: 'desc' }, limit: query.limit + 1 });
    const page = rows.slice(0, query.limit);
    res.json({ object: 'list', data: await transferViews(em(), page), hasMore: rows.length > query.limit });
  });

  app.use(notFound);
  app.use(errorHandler);

  return app;
}
