/**
 * The request ID (the API's X-Request-Id) follows a transfer from the HTTP request that started it
 * into its workflow and activities, so one search finds every log line of that payout. It travels
 * in the workflow's memo (set at start, visible in the Temporal UI) and from the workflow to each
 * activity in a header; the workflow and activity log attributes carry it as `requestId`.
 */
export const REQUEST_ID_MEMO_KEY = 'requestId';
export const REQUEST_ID_HEADER = 'railyard-request-id';

/** The request ID if `value` looks like one the API issues (the same rule as for X-Request-Id). */
export function asRequestId(value: unknown): string | undefined {
  return typeof value === 'string' && /^[\w-]{1,64}$/.test(value) ? value : undefined;
}
