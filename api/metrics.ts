/**
 * The API's Prometheus metrics, served at `GET /metrics`:
 *
 * - `railyard_http_request_duration_seconds{method, route, status}`: a histogram per route
 *   template (`/v1/transfers/:id`, never the raw URL, so IDs cannot explode the series count);
 *   requests that matched no route are `route="unmatched"`;
 * - `railyard_transfers{status}`: transfers by status, read from the database at each scrape
 *   (every status is reported, zero included, so an alert on `needs_attention > 0` has a series);
 * - the process's default metrics (CPU, memory, event loop lag, GC).
 *
 * To add a gauge read from the database, add a `DbGauge` to DB_GAUGES below: it is registered on
 * every API's registry and read at each scrape. A gauge whose query fails is left out of that
 * scrape (and the failure logged) rather than failing the whole scrape or reporting stale numbers.
 */
import type { NextFunction, Request, Response } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { TRANSFER_STATUSES } from '../core/transfer';
import { webhookBacklog } from '../webhooks/outbox';

export interface DbGauge {
  name: string;
  help: string;
  labelNames: readonly string[];
  /** One scrape's values. Must be one bounded query: it runs on every scrape. */
  read(em: SqlEntityManager): Promise<{ labels: Record<string, string>; value: number }[]>;
}

const transfersByStatus: DbGauge = {
  name: 'railyard_transfers',
  help: 'Transfers by current status',
  labelNames: ['status'],
  async read(em) {
    const rows: { status: string; n: number | string }[] = await em.getConnection().execute('select status, count(*) as n from transfers group by status');
    const counts = new Map<string, number>(TRANSFER_STATUSES.map((s) => [s, 0]));
    for (const row of rows) counts.set(row.status, Number(row.n));
    return [...counts].map(([status, value]) => ({ labels: { status }, value }));
  },
};

const webhookBacklogGauge: DbGauge = {
  name: 'railyard_webhook_backlog',
  help: 'Webhook deliveries not yet delivered (pending, retries included)',
  labelNames: [],
  async read(em) {
    return [{ labels: {}, value: await webhookBacklog(em) }];
  },
};

export const DB_GAUGES: DbGauge[] = [transfersByStatus, webhookBacklogGauge];

export interface ApiMetrics {
  registry: Registry;
  /** Times every request; mount before the routes. */
  middleware(req: Request, res: Response, next: NextFunction): void;
  /** `GET /metrics`. */
  handler(req: Request, res: Response): Promise<void>;
}

export function createApiMetrics(orm: MikroORM, logger: Logger): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'railyard_http_request_duration_seconds',
    help: 'HTTP request duration by route template, method and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  for (const spec of DB_GAUGES) {
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        try {
          for (const { labels, value } of await spec.read(orm.em.fork() as SqlEntityManager)) this.set(labels, value);
        } catch (err) {
          logger.warn({ err, metric: spec.name }, 'metrics: could not read a gauge from the database');
        }
      },
    });
  }

  return {
    registry,
    middleware(req, res, next) {
      const end = httpDuration.startTimer();
      res.once('finish', () => {
        // req.route is set once a route matched; baseUrl keeps the prefix of routers mounted on a path.
        const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
        end({ method: req.method, route, status: String(res.statusCode) });
      });
      next();
    },
    async handler(_req, res) {
      res.type(registry.contentType).send(await registry.metrics());
    },
  };
}
