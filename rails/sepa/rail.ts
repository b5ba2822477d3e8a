/**
 * The SEPA credit transfer rail: a pain.001.001.10 per payout to the bank, a pain.002.001.11 back
 * (ACTC/ACSP accepted, RJCT rejected), settlement D+1 (ACSC), inquiries by end-to-end reference;
 * a payment returned after settlement is answered with a pacs.004.001.10 carrying the reason.
 * Before settlement a payment can be recalled: a camt.056.001.09 out, a camt.029.001.10 back
 * (CNCL canceled, RJCR refused with the bank's reason); a canceled payment then inquires as CANC.
 */
import { inquiryAnswer, submitAnswer } from '../iso20022/exchange';
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type RecallAnswer, type SubmitAnswer } from '../bank-http';
import { buildCamt056, parseCamt029 } from '../iso20022/recall';
import { buildPain001, parsePain002 } from '../iso20022/pain';
import { isPaymentReturn, parsePacs004 } from '../iso20022/pacs004';
import { readIsoAnswer } from '../iso20022/xml';

/** What the bank's status codes mean for the payout. */
const STATUSES = { ACSC: 'settled', ACSP: 'pending', ACTC: 'pending', PDNG: 'held', RJCT: 'rejected', CANC: 'canceled' } as const;

/** The bank's BIC, the assignee of our recall requests. */
const BANK_BIC = 'SIMBDEFFXXX';

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

    async recall(r): Promise<RecallAnswer> {
      const xml = buildCamt056({
        cancellationId: r.recallId,
        createdAt: new Date(),
        assignerBic: originator.bic,
        assigneeBic: BANK_BIC,
        // Our pain.001 uses the end-to-end reference as its message ID too.
        originalMessageId: r.reference,
        originalMessageName: 'pain.001.001.10',
        originalEndToEndId: r.reference,
        amountMinor: r.amountMinor,
        currency: r.currency,
        reason: r.reason,
        ...(r.note ? { additionalInfo: r.note } : {}),
      });
      const res = await bankFetch(baseUrl, '/sepa/camt056', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, requestTimeoutMs);
      if (res.status !== 200) {
        // A recall the bank refused whole (400) took nothing; it is a protocol error, never a cancellation.
        const text = await res.text();
        throw new Error(`unexpected bank answer ${res.status} to a camt.056: ${text.slice(0, 200)}`);
      }
      const resolution = await readIsoAnswer(res, parseCamt029, 'camt.029');
      if (resolution.originalEndToEndId !== r.reference || resolution.cancellationId !== r.recallId) {
        throw new Error(`camt.029 resolves ${resolution.cancellationId} for ${resolution.originalEndToEndId}, not ${r.recallId} for ${r.reference}`);
      }
      if (resolution.confirmation === 'CNCL') return { kind: 'canceled' };
      const code = resolution.reasonCode ?? 'RJCR';
      return { kind: 'refused', code, message: `the bank refused the recall (${code}${resolution.reasonText ? `: ${resolution.reasonText}` : ''})` };
    },
  };
}
