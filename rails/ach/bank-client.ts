/**
 * The ACH rail: one NACHA file per payout, sent to the partner bank's ACH endpoint (the bank
 * simulator speaks the same protocol); inquiries by trace number.
 */
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../bank-http';
import { buildCreditFile, emitNacha, type CreditFileInput } from './nacha';
import { achSchedule } from '../../core/calendar';

/** Railyard's identity in the files it originates: the file and batch header fields it owns. */
export type AchOriginator = Pick<CreditFileInput, 'originRouting' | 'originName' | 'destinationRouting' | 'destinationName' | 'companyName' | 'companyId'>;

interface EntryResult {
  reference: string;
  status: 'accepted' | 'rejected';
  code: string | null;
}

export function createAchRail(baseUrl: string, originator: AchOriginator, requestTimeoutMs = 10_000): PayoutRail {
  return {
    async submit(p): Promise<SubmitAnswer> {
      // A file that cannot be built is a bug, not something a retry fixes: the error propagates.
      const file = emitNacha(
        buildCreditFile({
          ...originator,
          entryClass: 'PPD',
          entryDescription: 'PAYOUT',
          createdAt: p.createdAt,
          // The banking day the entry settles, from the Fed calendar and same-day windows.
          effectiveDate: new Date(`${achSchedule(p.createdAt, p.amountMinor, true).effectiveDate}T00:00:00Z`),
          fileIdModifier: 'A',
          entries: [
            {
              transactionCode: '22',
              routingNumber: p.beneficiary.routingNumber,
              accountNumber: p.beneficiary.accountNumber,
              amountCents: p.amountMinor,
              individualId: p.transferId.slice(-15),
              individualName: p.beneficiary.name,
              traceNumber: p.reference,
            },
          ],
        }),
      );
      const res = await bankFetch(baseUrl, '/ach/files', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: file }, requestTimeoutMs);
      const body = (await res.json()) as { entries?: EntryResult[]; error?: { message: string } };
      if (res.status === 400) return { kind: 'rejected', code: 'file_rejected', message: body.error?.message ?? 'file rejected' };
      const entry = res.status === 202 ? body.entries?.find((e) => e.reference === p.reference) : undefined;
      if (!entry) throw new Error(`unexpected bank answer ${res.status} to a file submission for trace ${p.reference}`);
      return entry.status === 'rejected' ? { kind: 'rejected', code: entry.code ?? 'rejected', message: `rejected by the bank with ${entry.code}` } : { kind: 'accepted' };
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const res = await bankFetch(baseUrl, `/ach/payments/${encodeURIComponent(reference)}`, { method: 'GET' }, requestTimeoutMs);
      if (res.status === 404) {
        await res.body?.cancel();
        return { status: 'not_found', code: null };
      }
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to an inquiry`);
      const body = (await res.json()) as PaymentStatusAnswer;
      return { status: body.status, code: body.code ?? null, correction: body.correction ?? null };
    },
  };
}
