import type { Server } from 'node:http';
import type { MikroORM } from '@mikro-orm/core';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { codecCorsOrigins, type Config } from '../core/config';
import { railTiming, TASK_QUEUE_TRANSFERS } from '../core/transfer';
import { createApp } from './app';
import { createRatesSource } from '../fx/rates';
import { sweepIdempotencyKeys } from './idempotency';
import { startRecoverySweep } from '../services/recover-transfers';
import { dispatcherOptions } from '../webhooks/dispatcher';

export interface ApiServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Listens with the configured host and port (0 picks a free one), sweeps expired idempotency keys
 * hourly, and starts the workflows of transfers left in `created` (at start, then every minute).
 */
export async function startApiServer(deps: { orm: MikroORM; temporal: Client; config: Config; opsApiKey: string; logger?: Logger }): Promise<ApiServer> {
  const app = createApp({
    orm: deps.orm,
    temporal: deps.temporal,
    opsApiKey: deps.opsApiKey,
    taskQueue: TASK_QUEUE_TRANSFERS,
    timing: railTiming(deps.config.RAIL_TIME),
    rates: createRatesSource(),
    pricing: { quoteTtlMs: deps.config.FX_QUOTE_TTL_MS, spreadBps: deps.config.FX_SPREAD_BPS, feeBps: deps.config.FX_FEE_BPS },
    rateLimit: { ratePerSecond: deps.config.RATE_LIMIT_PER_SECOND, burst: deps.config.RATE_LIMIT_BURST },
    codecCorsOrigins: codecCorsOrigins(deps.config),
    codecLocalUiDecode: deps.config.CODEC_LOCAL_UI_DECODE === 'true',
    webhooks: dispatcherOptions(deps.config),
    logger: deps.logger,
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(deps.config.PORT, deps.config.HOST, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const sweep = setInterval(() => {
    sweepIdempotencyKeys(deps.orm).catch((err) => deps.logger?.error({ err }, 'idempotency key sweep failed'));
  }, 3600_000);
  sweep.unref();
  const recovery = startRecoverySweep({ orm: deps.orm, temporal: deps.temporal, taskQueue: TASK_QUEUE_TRANSFERS, timing: railTiming(deps.config.RAIL_TIME) }, deps.logger);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : deps.config.PORT;
  return {
    server,
    url: `http://${deps.config.HOST}:${port}`,
    close: async () => {
      clearInterval(sweep);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // The sweep's pass in flight ends before the caller may close the Temporal connection under it.
      await Promise.all([closed, recovery.stop()]);
    },
  };
}
