/**
 * The SWIFT rail: a pacs.008.001.09 per payout with a UETR, status by pacs.002.001.11
 * (ACSP accepted and in process, ACCC credited, RJCT rejected), tracker-style inquiries by
 * end-to-end reference. Railyard pays the charges (OUR) so the beneficiary gets the full amount.
 */
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../bank-http';
import { buildPacs008, parsePacs002, uetrFor, readIsoAnswer, type ChargeBearer } from '../iso20022/messages';

export interface SwiftOriginator {
  name: string;
  accountNumber: string;
  bic: string;
}

export function createSwiftRail(baseUrl: string, originator: SwiftOriginator, chargeBearer: ChargeBearer = 'OUR', requestTimeoutMs = 10_000): PayoutRail {
  const report = (res: Response) => readIsoAnswer(res, parsePacs002, 'pacs.002');

  return {
    async submit(p): Promise<SubmitAnswer> {
      const b = p.beneficiary;
      const xml = buildPacs008({
        messageId: p.reference,
        createdAt: p.createdAt,
        endToEndId: p.reference,
        uetr: uetrFor(p.reference),
        amountMinor: p.amountMinor,
        currency: p.currency,
        settlementDate: p.createdAt.toISOString().slice(0, 10),
        chargeBearer,
        debtor: { name: originator.name, accountNumber: originator.accountNumber, bic: originator.bic },
        creditor: { name: b.name, iban: b.iban, accountNumber: b.accountNumber, bic: b.bic, country: b.country },
        remittance: p.remittance ?? undefined,
      });
      const res = await bankFetch(baseUrl, '/swift/pacs008', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, requestTimeoutMs);
      if (res.status === 400) {
        const body = (await res.json()) as { error?: { message: string } };
        return { kind: 'rejected', code: 'message_rejected', message: body.error?.message ?? 'message rejected' };
      }
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to a pacs.008`);
      const status = await report(res);
      if (status.endToEndId !== p.reference) throw new Error(`pacs.002 answers ${status.endToEndId}, not ${p.reference}`);
      return status.status === 'RJCT' ? { kind: 'rejected', code: status.reasonCode ?? 'RJCT', message: `rejected by the bank with ${status.reasonCode ?? 'no reason code'}` } : { kind: 'accepted' };
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const res = await bankFetch(baseUrl, `/swift/payments/${encodeURIComponent(reference)}`, { method: 'GET' }, requestTimeoutMs);
      if (res.status === 404) {
        await res.body?.cancel();
        return { status: 'not_found', code: null };
      }
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to an inquiry`);
      const status = await report(res);
      const map = { ACCC: 'settled', ACSP: 'pending', PDNG: 'held', RJCT: 'rejected' } as const;
      return { status: map[status.status], code: status.reasonCode ?? null };
    },
  };
}
