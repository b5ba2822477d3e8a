/**
 * The request log: one line per request through pino-http, with every header that can carry a
 * credential replaced by `[Redacted]` before the line is written, whatever logger the process
 * gives it. Client and operator keys travel in `Authorization`; cookies and proxy credentials are
 * redacted as well in case a proxy in front adds them. Bodies are never logged (they hold API
 * keys shown once, webhook secrets and beneficiaries' account numbers).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

export const REDACTED = '[Redacted]';

/** Request and response headers whose values are credentials, lower-case as Node gives them. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

function redactHeaders<H extends IncomingHttpHeaders | OutgoingHttpHeaders>(headers: H | undefined): H | undefined {
  if (!headers) return headers;
  const out = { ...headers };
  for (const name of Object.keys(out)) if (CREDENTIAL_HEADERS.has(name.toLowerCase())) (out as Record<string, unknown>)[name] = REDACTED;
  return out;
}

export function requestLogger(logger: Logger) {
  return pinoHttp({
    logger,
    genReqId: (req, res) => {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // pino-http hands these the standard serializers' output: plain objects, safe to copy.
    serializers: {
      req: (req: { headers?: IncomingHttpHeaders }) => ({ ...req, headers: redactHeaders(req.headers) }),
      res: (res: { headers?: OutgoingHttpHeaders }) => ({ ...res, headers: redactHeaders(res.headers) }),
    },
  });
}
