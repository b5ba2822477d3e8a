/**
 * The closed table of API error codes and the one place that maps them to HTTP.
 * Every failure a client can see is exactly one of these.
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  unauthenticated: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  // Four eyes: the operator who asked for an approval may not decide it.
  four_eyes_required: { status: 403, type: 'permission_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error' },
  quote_expired: { status: 400, type: 'invalid_request_error' },
  insufficient_funds: { status: 402, type: 'payment_error' },
  idempotency_key_in_use: { status: 409, type: 'idempotency_error' },
  invalid_state: { status: 409, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  idempotency_key_reused: { status: 422, type: 'idempotency_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  internal_error: { status: 500, type: 'api_error' },
  service_unavailable: { status: 503, type: 'api_error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly param?: string;

  constructor(code: ErrorCode, message: string, options: { param?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.param = options.param;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  toBody(): { error: { type: string; code: ErrorCode; message: string; param?: string } } {
    const body: { type: string; code: ErrorCode; message: string; param?: string } = {
      type: ERROR_CODES[this.code].type,
      code: this.code,
      message: this.message,
    };
    if (this.param !== undefined) body.param = this.param;
    return { error: body };
  }
}

export function invalid(param: string, message: string): AppError {
  return new AppError('invalid_request', message, { param });
}
