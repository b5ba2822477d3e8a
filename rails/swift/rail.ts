/**
 * The SWIFT rail: a pacs.008.001.09 per payout with a UETR, status by pacs.002.001.11
 * (ACSP accepted and in process, ACCC credited, RJCT rejected), tracker-style inquiries by
 * end-to-end reference. The charge bearer is the transfer's (ChrgBr: OUR → DEBT, SHA → SHAR,
 * BEN → CRED); without one Railyard pays the charges (OUR) so the beneficiary gets the full amount.
 */
import { inquiryAnswer, submitAnswer } from '../iso20022/exchange';
import { bankFetch, type PaymentStatusAnswer, type PayoutRail, type SubmitAnswer } from '../bank-http';
import { buildPacs008, parsePacs002, uetrFor, type ChargeBearer } from '../iso20022/messages';

/** What the bank's status codes mean for the payout. */
const STATUSES = { ACCC: 'settled', ACSP: 'pending', PDNG: 'held', RJCT: 'rejected' } as const;

export interface SwiftOriginator {
  name: string;
  accountNumber: string;
  bic: string;
}

export function createSwiftRail(baseUrl: string, originator: SwiftOriginator, chargeBearer: ChargeBearer = 'OUR', requestTimeoutMs = 10_000): PayoutRail {
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
        chargeBearer: p.chargeBearer ?? chargeBearer,
        debtor: { name: originator.name, accountNumber: originator.accountNumber, bic: originator.bic },
        creditor: { name: b.name, iban: b.iban, accountNumber: b.accountNumber, bic: b.bic, country: b.country },
        remittance: p.remittance ?? undefined,
      });
      const res = await bankFetch(baseUrl, '/swift/pacs008', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml }, requestTimeoutMs);
      return submitAnswer(res, parsePacs002, 'pacs.002', p.reference);
    },

    async inquire(reference): Promise<PaymentStatusAnswer> {
      const res = await bankFetch(baseUrl, `/swift/payments/${encodeURIComponent(reference)}`, { method: 'GET' }, requestTimeoutMs);
      return inquiryAnswer(res, parsePacs002, 'pacs.002', STATUSES);
    },
  };
}
