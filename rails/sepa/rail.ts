/**
 * The SEPA credit transfer rail: a pain.001.001.10 per payout to the bank, a pain.002.001.11 back
 * (ACTC/ACSP accepted, RJCT rejected), settlement D+1 (ACSC), inquiries by end-to-end reference;
 * a payment returned after settlement is answered with a pacs.004.001.10 carrying the reason.
 */
import { inquiryAnswer, submitAnswer } from '../iso20022/exchange';
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../bank-http';
import { buildPain001, parsePain002 } from '../iso20022/pain';
import { isPaymentReturn, parsePacs004 } from '../iso20022/pacs004';
import { readIsoAnswer } from '../iso20022/xml';

/** What the bank's status codes mean for the payout. */
const STATUSES = { ACSC: 'settled', ACSP: 'pending', ACTC: 'pending', PDNG: 'held', RJCT: 'rejected' } as const;

export interface SepaOriginator {
  name: string;
  iban: string;
  bic: string;
}

export function createSepaRail(baseUrl: string, originator: SepaOriginator, requestTimeoutMs = 10_000): PayoutRail {
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
      return submitAnswer(res, parsePain002, 'pain.002', p.reference);
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const res = await bankFetch(baseUrl, `/sepa/payments/${encodeURIComponent(reference)}`, { method: 'GET' }, requestTimeoutMs);
      if (res.status !== 200) return inquiryAnswer(res, parsePain002, 'pain.002', STATUSES);
      // After settlement the bank may answer with a pacs.004: the payment came back, with its reason.
      const xml = await res.text();
      if (isPaymentReturn(xml)) {
        const ret = await readIsoAnswer(new Response(xml), parsePacs004, 'pacs.004');
        if (ret.endToEndId !== reference) throw new Error(`pacs.004 returns ${ret.endToEndId}, not ${reference}`);
        return { status: 'returned', code: ret.reasonCode };
      }
      return inquiryAnswer(new Response(xml, { status: 200 }), parsePain002, 'pain.002', STATUSES);
    },
  };
}
