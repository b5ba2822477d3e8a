/**
 * HTTP client for the partner bank's ACH endpoints (the bank simulator speaks the same protocol).
 * Classifies every answer: a definitive outcome is returned; anything that might succeed later
 * (5xx, timeouts, connection errors) is thrown as BankUnavailableError for the caller to retry.
 */
export class BankUnavailableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BankUnavailableError';
  }
}

export interface EntryResult {
  reference: string;
  status: 'accepted' | 'rejected';
  code: string | null;
  duplicate: boolean;
}

export type FileOutcome = { kind: 'received'; entries: EntryResult[] } | { kind: 'file_rejected'; message: string };

export interface PaymentStatusAnswer {
  status: 'pending' | 'held' | 'settled' | 'rejected' | 'returned' | 'not_found';
  code: string | null;
  settledAt: string | null;
}

export interface AchBankClient {
  submitFile(nacha: string): Promise<FileOutcome>;
  paymentStatus(reference: string): Promise<PaymentStatusAnswer>;
}

export function createAchBankClient(baseUrl: string, requestTimeoutMs = 10_000): AchBankClient {
  async function call(path: string, init: RequestInit): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), { ...init, signal: AbortSignal.timeout(requestTimeoutMs) });
    } catch (err) {
      throw new BankUnavailableError(`bank unreachable: ${(err as Error).message}`, undefined, { cause: err });
    }
    if (res.status >= 500 || res.status === 429) {
      const retryAfterS = Number(res.headers.get('retry-after'));
      await res.body?.cancel();
      throw new BankUnavailableError(`bank answered ${res.status}`, Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : undefined);
    }
    return res;
  }

  return {
    async submitFile(nacha) {
      const res = await call('/ach/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: nacha });
      const body = (await res.json()) as { entries?: EntryResult[]; error?: { message: string } };
      if (res.status === 202 && body.entries) return { kind: 'received', entries: body.entries };
      if (res.status === 400) return { kind: 'file_rejected', message: body.error?.message ?? 'file rejected' };
      throw new Error(`unexpected bank answer ${res.status} to a file submission`);
    },
    async paymentStatus(reference) {
      const res = await call(`/ach/payments/${encodeURIComponent(reference)}`, { method: 'GET' });
      if (res.status === 404) {
        await res.body?.cancel();
        return { status: 'not_found', code: null, settledAt: null };
      }
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to an inquiry`);
      const body = (await res.json()) as PaymentStatusAnswer;
      return { status: body.status, code: body.code ?? null, settledAt: body.settledAt ?? null };
    },
  };
}
