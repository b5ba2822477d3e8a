/**
 * The one error path of the API. Every failure leaves as `{"error": {type, code, message, param?}}`
 * with the status core/errors.ts assigns to its code. What the client did wrong is said plainly;
 * what went wrong inside (5xx) is logged with the request ID and answered with a fixed message, so
 * SQL, hostnames and stack traces never reach a client.
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../core/errors';

/** Body-parser's error types, mapped to what the client should be told. */
function fromBodyParser(err: { type?: string; limit?: number }): AppError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return new AppError('invalid_request', 'request body is not valid JSON', { param: 'body' });
    case 'entity.too.large':
      return new AppError('payload_too_large', `request body is larger than ${err.limit} bytes`);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('invalid_request', 'request body must be UTF-8 JSON', { param: 'body' });
    case 'request.size.invalid':
    case 'request.aborted':
      return new AppError('invalid_request', 'request body was cut short', { param: 'body' });
    default:
      return undefined;
  }
}

/** Refuses a body that is not JSON: silently ignoring it would report its fields as missing. */
export function requireJsonBody(req: Request, _res: Response, next: NextFunction): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    next(new AppError('invalid_request', 'request body must be JSON, sent with Content-Type: application/json', { param: 'Content-Type' }));
    return;
  }
  next();
}

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('not_found', 'no such route'));
}

export function errorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    // The answer is already on its way; Express can only cut the connection.
    next(err);
    return;
  }
  let appError = err instanceof AppError ? err : fromBodyParser(err as { type?: string; limit?: number });
  if (!appError) {
    req.log?.error({ err }, 'unhandled error');
    appError = new AppError('internal_error', 'an internal error occurred; it has been logged with this request ID');
  } else if (appError.status >= 500 && appError.cause) {
    req.log?.error({ err: appError.cause }, appError.message);
  }
  res.status(appError.status).json(appError.toBody());
}
