import { z } from 'zod';
import { parseCodecKeys, type CodecKeys } from './payload-codec';

/**
 * Process configuration, validated once at start. A bad value stops the process with a
 * message naming the variable; nothing falls back silently.
 */
const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^mysql:\/\/[^/]+\/[A-Za-z0-9_]+$/, 'must look like mysql://user:pass@host:3306/db')
    .optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TASK_QUEUES: z.string().regex(/^[a-z0-9-]+(,[a-z0-9-]+)*$/, 'must be a comma-separated list of queue names').default('transfers'),
  /** The worker's /healthz port (0 picks a free one). */
  WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  /** The worker's Prometheus /metrics port (activity failures, process metrics). */
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65535).default(9465),
  /** Where the Temporal SDK's own Prometheus exporter listens (in the worker process). */
  TEMPORAL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).default(9466),
  WORKER_ACTIVITY_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(20),
  /**
   * A workflow bundle built beforehand (the code of `bundleWorkflowCode`, interceptors included,
   * written to a file): the worker loads it instead of bundling the workflows at every start.
   */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  BANK_SIM_URL: z.url().default('http://127.0.0.1:4100'),
  BANK_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4100),
  /** In RAIL_TIME=demo, how long the simulated bank takes to settle a payment. */
  BANK_SIM_SETTLEMENT_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(3000),
  OPS_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Payload encryption keys, `keyId:base64key[,…]` (32-byte AES-256 keys), the first one current.
   * Required by the API and the worker; `npm start` generates one. The message never echoes a key.
   */
  PAYLOAD_CODEC_KEYS: z
    .string()
    .superRefine((value, ctx) => {
      try {
        parseCodecKeys(value);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message, input: undefined });
      }
    })
    .optional(),
  /** Browser origins (the Temporal UI) allowed to call the codec server, comma-separated. */
  CODEC_CORS_ORIGINS: z
    .string()
    .regex(/^https?:\/\/[^,\s/]+(,https?:\/\/[^,\s/]+)*$/, 'must be a comma-separated list of origins like http://127.0.0.1:8233')
    .default('http://127.0.0.1:8233,http://localhost:8233'),
  /**
   * `true` lets the Temporal UI at a CODEC_CORS_ORIGINS origin decode (never encode) without the
   * operator key, for a single-person machine: `npm start` sets it when HOST is a loopback address.
   * Refused with any other HOST, so a shared deployment always needs the key.
   */
  CODEC_LOCAL_UI_DECODE: z.enum(['true', 'false'], { error: 'must be true or false' }).default('false'),
  /** How long an FX quote holds its rate. */
  FX_QUOTE_TTL_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** FX spread under mid, and the FX fee on the source amount, in basis points. */
  FX_SPREAD_BPS: z.coerce.number().int().min(0).max(500).default(30),
  FX_FEE_BPS: z.coerce.number().int().min(0).max(500).default(25),
  /** Webhook delivery: first retry delay (doubling), its cap, when to give up, one request's timeout, the outbox poll. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(6 * 3_600_000),
  WEBHOOK_MAX_AGE_MS: z.coerce.number().int().min(100).max(30 * 86_400_000).default(3 * 86_400_000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
  /**
   * Whether webhook endpoints may be on loopback, private and link-local addresses (a receiver on
   * this machine). Unset, it follows HOST: allowed on a loopback HOST (`npm start`), refused
   * elsewhere, at creation and at delivery. `true` is refused with any other HOST.
   */
  WEBHOOK_ALLOW_PRIVATE_URLS: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
  RAIL_TIME: z.enum(['demo', 'real']).default('demo'),
  /** Per API key, in each API process: tokens refilled per second, and the bucket's size (the burst). */
  RATE_LIMIT_PER_SECOND: z.coerce.number().positive('must be greater than 0').max(100_000).default(25),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(100_000).default(50),
  /**
   * ACH payouts go out in one NACHA file per cut-off window, the only mode. The one-file-per-payout
   * mode was removed; a deployment still asking for it is stopped and told, rather than silently
   * batched.
   */
  ACH_FILE_MODE: z.enum(['per_window'], { error: 'per_payout was removed: ACH payouts go out in one NACHA file per cut-off window (per_window, the default)' }).default('per_window'),
  /** Under RAIL_TIME=demo, how often an ACH file window closes. */
  ACH_DEMO_WINDOW_MS: z.coerce.number().int().min(100).max(3_600_000).default(2_000),
  /** How often each rail's bank inbox reads the bank's outbox (services/bank-inbox.ts); a bank that does not answer backs off from it. */
  BANK_INBOX_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(1_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as shells and compose files often produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  if (parsed.data.CODEC_LOCAL_UI_DECODE === 'true' && !LOOPBACK_HOSTS.has(parsed.data.HOST)) {
    throw new ConfigError(`CODEC_LOCAL_UI_DECODE=true needs HOST to be a loopback address (${[...LOOPBACK_HOSTS].join(', ')}), not ${parsed.data.HOST}: elsewhere the codec server needs the operator key`);
  }
  if (parsed.data.WEBHOOK_ALLOW_PRIVATE_URLS === 'true' && !LOOPBACK_HOSTS.has(parsed.data.HOST)) {
    throw new ConfigError(`WEBHOOK_ALLOW_PRIVATE_URLS=true needs HOST to be a loopback address (${[...LOOPBACK_HOSTS].join(', ')}), not ${parsed.data.HOST}: elsewhere webhooks to private addresses would let a client reach internal hosts`);
  }
  return parsed.data;
}

/** Webhook endpoints on this machine or the private network: for a loopback HOST only (see WEBHOOK_ALLOW_PRIVATE_URLS). */
export function webhookPrivateUrlsAllowed(config: Pick<Config, 'HOST' | 'WEBHOOK_ALLOW_PRIVATE_URLS'>): boolean {
  return config.WEBHOOK_ALLOW_PRIVATE_URLS ? config.WEBHOOK_ALLOW_PRIVATE_URLS === 'true' : LOOPBACK_HOSTS.has(config.HOST);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** The environment variable names the config reads; docker-compose.yml is checked against them. */
export const CONFIG_KEYS = Object.keys(schema.shape);

/** The payload codec keys; the API and the worker cannot run without them. */
export function codecKeys(config: Config): CodecKeys {
  if (!config.PAYLOAD_CODEC_KEYS) throw new ConfigError('PAYLOAD_CODEC_KEYS must be set (keyId:base64key, 32-byte keys, the first current)');
  return parseCodecKeys(config.PAYLOAD_CODEC_KEYS);
}

export function codecCorsOrigins(config: Config): string[] {
  return config.CODEC_CORS_ORIGINS.split(',');
}

export function taskQueues(config: Config): string[] {
  return config.TASK_QUEUES.split(',');
}
