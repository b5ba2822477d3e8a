/**
 * HTTP to a partner bank, with one classification of failures for every rail: an answer that
 * might be different later (5xx, 429, timeouts, refused connections) is a BankUnavailableError for
 * the caller to retry, carrying the bank's Retry-After when it sent one; anything else is returned.
 */
export class BankUnavailableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
    /** True when the request may have reached the bank and only the answer is missing. */
    readonly maybeReceived = false,
  ) {
    super(message, options);
    this.name = 'BankUnavailableError';
  }
}

/** Only a refused connection proves the bank never saw the request; anything else might have landed. */
function neverSent(err: unknown): boolean {
  const code = (err as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
}

export async function bankFetch(baseUrl: string, path: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), { ...init, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const detail = (err as { cause?: { message?: string } })?.cause?.message ?? (err as Error).message;
    throw new BankUnavailableError(`bank unreachable: ${detail}`, undefined, { cause: err }, !neverSent(err));
  }
  if (res.status >= 500 || res.status === 429) {
    const retryAfterS = Number(res.headers.get('retry-after'));
    await res.body?.cancel();
    throw new BankUnavailableError(`bank answered ${res.status}`, Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined);
  }
  return res;
}

/** Where a payment stands at the bank, in the same words for every rail. */
export interface PaymentStatusAnswer {
  status: 'pending' | 'held' | 'settled' | 'rejected' | 'returned' | 'canceled' | 'not_found';
  code: string | null;
  /** ACH: a notification of change on a paid entry (change code and the COR addenda's corrected data). */
  correction?: { code: string; correctedData: string } | null;
}

/** `fallback`: the rail could not reach the beneficiary, nothing was paid, another rail may try. */
/**
 * `queued`: the rail batches payments (ACH files per cut-off window); the entry waits in
 * `windowId` until its file goes at `cutoffAtMs`, and the file's answer comes later.
 */
export type SubmitAnswer =
  | { kind: 'accepted' }
  | { kind: 'rejected'; code: string; message: string; fallback?: boolean }
  | { kind: 'queued'; windowId: string; cutoffAtMs: number; label: string };

/** What the payout activities need from a rail. */
export interface PayoutRail {
  /** Sends one payment under its end-to-end reference; resending the same reference is safe. */
  submit(instruction: PayoutInstruction): Promise<SubmitAnswer>;
  inquire(reference: string): Promise<PaymentStatusAnswer>;
  /**
   * Asks the bank to cancel a submitted, unsettled payment (only rails that can recall carry it).
   * `recallId` names the request; resending it is safe, the bank answers with its first resolution.
   */
  recall?(request: RecallRequest): Promise<RecallAnswer>;
}

export interface RecallRequest {
  recallId: string;
  reference: string;
  amountMinor: number;
  currency: string;
  reason: 'CUST' | 'DUPL';
  note?: string;
}

/** The bank's resolution: canceled (nothing will be paid) or refused, with its reason. */
export type RecallAnswer = { kind: 'canceled' } | { kind: 'refused'; code: string; message: string };

export interface PayoutInstruction {
  reference: string;
  transferId: string;
  amountMinor: number;
  currency: string;
  beneficiary: Record<string, string>;
  remittance: string | null;
  createdAt: Date;
  /** The payout's own clock at submission (its workflow time): an ACH entry joins the first window open then. */
  atMs?: number;
  /** SWIFT: who bears the charges; the rail's default when absent. */
  chargeBearer?: 'OUR' | 'SHA' | 'BEN';
}
