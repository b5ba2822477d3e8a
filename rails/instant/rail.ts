/**
 * Instant credit transfer rails on ISO 20022 — SEPA Instant (SCT Inst, EUR) and RTP (US, USD):
 * a pacs.008.001.09 per payout whose pacs.002.001.11 must come within the scheme's limit
 * (ACCC credited, RJCT rejected). When it does not, the outcome is unknown and the payment is
 * traced with a pacs.028.001.04 under the same reference.
 *
 * A rejection because the beneficiary's bank cannot be reached instantly (AB05, AB06, AB08) is
 * marked `fallback`: the payout may go again, as a new attempt, over the scheme's batch rail.
 */
import { inquiryAnswer, submitAnswer } from '../iso20022/exchange';
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../bank-http';
import { buildPacs008, buildPacs028, parsePacs002, uetrFor } from '../iso20022/messages';

/** What the bank's status codes mean for the payout. */
const STATUSES = { ACCC: 'settled', ACSP: 'pending', PDNG: 'held', RJCT: 'rejected' } as const;

/** SCT Inst and RTP: the schemes' maximum time for an answer. */
export const INSTANT_ANSWER_TIMEOUT_MS = 10_000;
export const UNREACHABLE_CODES = new Set(['AB05', 'AB06', 'AB08']);

export interface InstantRailOptions {
  baseUrl: string;
  /** Where the scheme's endpoints live at the bank: `/sepa-instant`, `/rtp`. */
  pathPrefix: string;
  currency: 'EUR' | 'USD';
  debtor: { name: string; bic: string; iban?: string; accountNumber?: string };
}

export function createInstantRail(options: InstantRailOptions): PayoutRail {
  const { baseUrl, pathPrefix, currency, debtor } = options;
  return {
    async submit(p): Promise<SubmitAnswer> {
      if (p.currency !== currency) throw new RangeError(`${pathPrefix} carries ${currency} only, not ${p.currency}`);
      const b = p.beneficiary;
      const xml = buildPacs008({
        messageId: p.reference,
        createdAt: p.createdAt,
        endToEndId: p.reference,
        uetr: uetrFor(p.reference),
        amountMinor: p.amountMinor,
        currency,
        settlementDate: p.createdAt.toISOString().slice(0, 10),
        chargeBearer: 'SHA',
        debtor,
        creditor: { name: b.name, iban: b.iban, accountNumber: b.accountNumber, bic: b.bic, routingNumber: b.routingNumber, country: b.country },
        remittance: p.remittance ?? undefined,
      });
      const res = await bankFetch(baseUrl, `${pathPrefix}/pacs008`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, INSTANT_ANSWER_TIMEOUT_MS);
      return submitAnswer(res, parsePacs002, 'pacs.002', p.reference, UNREACHABLE_CODES);
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const xml = buildPacs028({ messageId: `INQ-${reference}`.slice(0, 35), createdAt: new Date(), originalMessageId: reference, endToEndId: reference, uetr: uetrFor(reference) });
      const res = await bankFetch(baseUrl, `${pathPrefix}/pacs028`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, INSTANT_ANSWER_TIMEOUT_MS);
      return inquiryAnswer(res, parsePacs002, 'pacs.002', STATUSES);
    },
  };
}
