/**
 * The worker's logs and metrics.
 *
 * - Logs: the Temporal runtime logger writes through pino as JSON, so workflow and activity log
 *   lines carry their attributes (workflowId, activityType, and the `requestId` that started the
 *   transfer) as fields.
 * - Metrics: a prom-client registry served at `GET /metrics` on WORKER_METRICS_PORT: process
 *   metrics and `railyard_activity_failures_total{activity_type}`, counted by an activity
 *   interceptor on every failed attempt (retries included: a bank that keeps failing shows as a
 *   climbing rate). The Temporal SDK's own metrics (task slots, poll latencies, workflow and
 *   activity outcomes) are exported by its runtime on TEMPORAL_METRICS_PORT.
 */
import http from 'node:http';
import { defaultPayloadConverter, type Logger as TemporalLogger, type LogLevel, type LogMetadata } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { asRequestId, REQUEST_ID_HEADER } from '../core/request-id';

export interface WorkerMetrics {
  registry: Registry;
  activityFailures: Counter<'activity_type'>;
}

/** `processMetrics: false` for a registry nobody serves (no event-loop monitor for nothing). */
export function createWorkerMetrics(options: { processMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const activityFailures = new Counter({
    name: 'railyard_activity_failures_total',
    help: 'Activity attempts that ended in an error, by activity type (each retry counts)',
    labelNames: ['activity_type'] as const,
    registers: [registry],
  });
  return { registry, activityFailures };
}

/**
 * Per activity execution: reads the request ID from the header the workflow interceptor set, adds
 * it to the activity's log attributes, and counts a failed attempt. (The SDK's own "Activity
 * started" line is written before the headers reach any interceptor, so it lacks the request ID;
 * the lines after it, the activity's own included, carry it.)
 */
export function activityInterceptors(metrics: WorkerMetrics): ActivityInterceptorsFactory {
  return (ctx) => {
    let requestId: string | undefined;
    return {
      inbound: {
        async execute(input, next) {
          const header = input.headers[REQUEST_ID_HEADER];
          requestId = header ? asRequestId(defaultPayloadConverter.fromPayload(header)) : undefined;
          try {
            return await next(input);
          } catch (err) {
            metrics.activityFailures.inc({ activity_type: ctx.info.activityType });
            throw err;
          }
        },
      },
      outbound: {
        getLogAttributes(input, next) {
          return next(requestId ? { ...input, requestId } : input);
        },
      },
    };
  };
}

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/** The Temporal runtime's logger, writing through pino: one JSON line per entry, attributes as fields. */
export function pinoTemporalLogger(logger: Logger): TemporalLogger {
  const write = (level: LogLevel, message: string, meta?: LogMetadata) => logger[PINO_LEVEL[level]]({ ...meta }, message);
  return {
    log: write,
    trace: (message, meta) => write('TRACE', message, meta),
    debug: (message, meta) => write('DEBUG', message, meta),
    info: (message, meta) => write('INFO', message, meta),
    warn: (message, meta) => write('WARN', message, meta),
    error: (message, meta) => write('ERROR', message, meta),
  };
}

/** `GET /metrics` on its own port; resolves once listening. */
export async function startMetricsServer(registry: Registry, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; metrics are at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
