/**
 * The HTTP API: thin routes over the services, one shared Temporal client, one error handler.
 */
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Client as TemporalClient } from '@temporalio/client';
import pino, { type Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import { AppError } from '../core/errors';
import type { TransferTiming } from '../core/transfer';
import { Transfer } from '../db/schema';
import { balancesOf, createClient, deposit, depositView, findClientByKey } from '../services/clients';
import { startTransfer } from '../services/start-transfer';
import { loadTransferView, transferViews } from '../services/transfers';
import { sameKey } from './keys';
import { withIdempotency } from './idempotency';
import { registerOpsRoutes } from './routes-ops';
import { createClientSchema, createQuoteSchema, createTransferSchema, depositSchema, listSchema, parse, parseBeneficiary } from './schemas';
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
  logger?: Logger;
}

type Caller = { kind: 'ops' } | { kind: 'client'; clientId: string };

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
  app.use(express.json({ limit: '100kb' }));

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
    const client = await findClientByKey(em(), key);
    if (!client) throw new AppError('unauthenticated', 'invalid API key');
    return { kind: 'client', clientId: client.id };
  }

  const requireOps = async (req: Request, _res: Response, next: NextFunction) => {
    const caller = await authenticate(req);
    if (caller.kind !== 'ops') throw new AppError('forbidden', 'this route needs the operator key');
    req.caller = caller;
    next();
  };
  const requireClient = async (req: Request, _res: Response, next: NextFunction) => {
    const caller = await authenticate(req);
    if (caller.kind !== 'client') throw new AppError('forbidden', 'this route needs a client API key');
    req.caller = caller;
    next();
  };
  const clientIdOf = (req: Request) => (req.caller as { clientId: string }).clientId;

  // --- ops ---
  app.post('/v1/ops/clients', requireOps, async (req, res) => {
    await withIdempotency(orm, req, res, 'ops', async () => {
      const body = parse(createClientSchema, req.body);
      const { client, apiKey } = await createClient(em(), body.name);
      return { status: 201, body: { id: client.id, object: 'client', name: client.name, apiKey, createdAt: client.createdAt.toISOString() } };
    });
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

  registerOpsRoutes(app, { orm, temporal, requireOps, requireClient, clientIdOf });

  app.use((_req, _res, next) => next(new AppError('not_found', 'no such route')));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number };
    let appError: AppError;
    if (err instanceof AppError) appError = err;
    else if (e?.type === 'entity.parse.failed') appError = new AppError('invalid_request', 'request body is not valid JSON', { param: 'body' });
    else if (e?.type === 'entity.too.large') appError = new AppError('payload_too_large', 'request body is larger than 100kb');
    else if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') appError = new AppError('invalid_request', 'request body must be UTF-8 JSON', { param: 'body' });
    else {
      req.log?.error({ err }, 'unhandled error');
      appError = new AppError('internal_error', 'an internal error occurred; it has been logged');
    }
    if (appError.status >= 500 && appError.cause) req.log?.error({ err: appError.cause }, appError.message);
    res.status(appError.status).json(appError.toBody());
  });

  return app;
}
