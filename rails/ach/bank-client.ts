/**
 * The partner bank's ACH endpoint, as far as a single payment goes: inquiries by trace number. ACH
 * payments go out only in window files (activities/ach-windows.ts, rails/ach/window-file.ts); there
 * is no one-file-per-payout path.
 */
import { bankFetch, type PaymentStatusAnswer } from '../bank-http';
import type { CreditFileInput } from './nacha';

/** Railyard's identity in the files it originates: the file and batch header fields it owns. */
export type AchOriginator = Pick<CreditFileInput, 'originRouting' | 'originName' | 'destinationRouting' | 'destinationName' | 'companyName' | 'companyId'>;

/** Where the bank says the entry with this trace number stands; `not_found` when it has none. Throws BankUnavailableError when it cannot say. */
export async function inquireAchEntry(baseUrl: string, reference: string, requestTimeoutMs = 10_000): Promise<PaymentStatusAnswer> {
  const res = await bankFetch(baseUrl, `/ach/payments/${encodeURIComponent(reference)}`, { method: 'GET' }, requestTimeoutMs);
  if (res.status === 404) {
    await res.body?.cancel();
    return { status: 'not_found', code: null };
  }
  if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to an inquiry`);
  const body = (await res.json()) as PaymentStatusAnswer;
  return { status: body.status, code: body.code ?? null, correction: body.correction ?? null };
}
