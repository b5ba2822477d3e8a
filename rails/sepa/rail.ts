/**
 * The SEPA credit transfer rail: a pain.001.001.10 per payout to the bank, a pain.002.001.11 back
 * (ACTC/ACSP accepted, RJCT rejected), settlement D+1 (ACSC), inquiries by end-to-end reference.
 */
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../bank-http';
import { buildPain001, parsePain002 } from '../iso20022/pain';
import { readIsoAnswer } from '../iso20022/messages';

export interface SepaOriginator {
  name: string;
  iban: string;
  bic: string;
}

export function createSepaRail(baseUrl: string, originator: SepaOriginator, requestTimeoutMs = 10_000): PayoutRail {
  const report = (res: Response) => readIsoAnswer(res, parsePain002, 'pain.002');

  return {
    async submit(p): Promise<SubmitAnswer> {
      if (p.currency !== 'EUR') throw new RangeError(`SEPA carries EUR only, not ${p.currency}`);
      const xml = buildPain001({
        messageId: p.reference,
        createdAt: p.createdAt,
        endToEndId: p.reference,
        amountMinor: p.amountMinor,
        currency: 'EUR',
        executionDate: p.createdAt.toISOString().slice(0, 10),
        debtor: originator,
        creditor: { name: p.beneficiary.name, iban: p.beneficiary.iban, bic: p.beneficiary.bic },
        remittance: p.remittance ?? undefined,
      });
      const res = await bankFetch(baseUrl, '/sepa/pain001', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, requestTimeoutMs);
      if (res.status === 400) {
        const body = (await res.json()) as { error?: { message: string } };
        return { kind: 'rejected', code: 'message_rejected', message: body.error?.message ?? 'message rejected' };
      }
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to a pain.001`);
      const status = await report(res);
      if (status.endToEndId !== p.reference) throw new Error(`pain.002 answers ${status.endToEndId}, not ${p.reference}`);
      return status.status === 'RJCT' ? { kind: 'rejected', code: status.reasonCode ?? 'RJCT', message: `rejected by the bank with ${status.reasonCode ?? 'no reason code'}` } : { kind: 'accepted' };
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const res = await bankFetch(baseUrl, `/sepa/payments/${encodeURIComponent(reference)}`, { method: 'GET' }, requestTimeoutMs);
      if (res.status === 404) {
        await res.body?.cancel();
        return { status: 'not_found', code: null };
      }
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to an inquiry`);
      const status = await report(res);
      const map = { ACSC: 'settled', ACSP: 'pending', ACTC: 'pending', PDNG: 'held', RJCT: 'rejected' } as const;
      return { status: map[status.status], code: status.reasonCode ?? null };
    },
  };
}
