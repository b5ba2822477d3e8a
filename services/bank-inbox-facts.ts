/**
 * What one bank message says about payments, read with the rails' parsers: a list of facts in the
 * words of core/bank-message.ts (kind, the payment's end-to-end reference or trace number, the
 * rail's code, what the bank booked). Only codes, references and amounts come out; account numbers,
 * names and the bank's free text stay in the raw message. A camt.053 statement is read in bulk by
 * the reconciliation instead (services/reconciliation.ts). Pure.
 *
 * A status that moves nothing (pending, PDNG; a pain.002 CANC, whose camt.029 says it) is no fact,
 * and neither is an ACH entry refused with its whole file: that is no verdict on the payment (it
 * goes again in a later file), and the window's batch brings the refusal to each payout it carried.
 */
import type { BankMessage, BankMessageKind } from '../core/bank-message';
import { FILE_REJECTED_CODE, parseAchAck, type AchFileAck } from '../rails/ach/acknowledgment';
import { parseReturnFile } from '../rails/ach/return-file';
import { parsePacs002 } from '../rails/iso20022/messages';
import { parsePain002 } from '../rails/iso20022/pain';
import { parsePacs004 } from '../rails/iso20022/pacs004';
import { parseCamt054 } from '../rails/iso20022/camt054';
import { parseCamt029 } from '../rails/iso20022/recall';

/**
 * One thing a bank message says about one payment: the signal's payload before it is addressed,
 * and, for a correction, its new details (which stay here, out of the signal).
 */
export type Fact = Omit<BankMessage, 'messageId' | 'rail'> & { correctedData?: string };

/** The payment statuses of pacs.002 and pain.002 that move a transfer, and what they say. */
const STATUS_KINDS: Record<string, BankMessageKind> = { ACTC: 'accepted', ACSP: 'accepted', ACCC: 'settled', ACSC: 'settled', RJCT: 'rejected' };

const dateTime = (date: string) => (/^\d{4}-\d{2}-\d{2}$/.test(date) ? `${date}T00:00:00.000Z` : undefined);

/** Messages that exist to say something about payments: one that names none (a refused file's empty acknowledgment) is a break. */
const ALWAYS_NAMES_A_PAYMENT = new Set(['ach.file_ack', 'nacha.return', 'camt.054', 'pacs.004', 'camt.029']);

/** A fact's ID: its stored message's ID and its place among that message's facts. */
export const factId = (messageId: string, n: number): string => `${messageId}:${n}`;
export function splitFactId(id: string): { messageId: string; n: number } {
  const colon = id.lastIndexOf(':');
  return { messageId: id.slice(0, colon), n: Number(id.slice(colon + 1)) };
}

/**
 * One message of `type` read once: its facts, and whether it is a message about payments that
 * names none (a break). An acknowledgment of a file refused whole lists the entries it carried: it
 * names payments, though it states no fact about them. Throws (the parser's error) when unreadable.
 */
export function readMessage(type: string, raw: string): { facts: Fact[]; namesNoPayment: boolean } {
  if (type === 'ach.file_ack') {
    const ack = parseAchAck(raw);
    const facts = ackFacts(ack);
    return { facts, namesNoPayment: facts.length === 0 && !(ack.status === 'rejected' && ack.entries.length > 0) };
  }
  const facts = readFacts(type, raw);
  return { facts, namesNoPayment: facts.length === 0 && ALWAYS_NAMES_A_PAYMENT.has(type) };
}

function ackFacts(ack: AchFileAck): Fact[] {
  return ack.entries
    .filter((e) => e.code !== FILE_REJECTED_CODE)
    .map((e) => (e.status === 'accepted' ? { kind: 'accepted', railReference: e.traceNumber } : { kind: 'rejected', railReference: e.traceNumber, ...(e.code ? { code: e.code } : {}) }));
}

/** The facts of one message of `type`; throws (the parser's error) when it cannot be read. */
export function readFacts(type: string, raw: string): Fact[] {
  switch (type) {
    case 'ach.file_ack':
      return ackFacts(parseAchAck(raw));
    case 'nacha.return':
      return parseReturnFile(raw).map((r) =>
        r.kind === 'return' ? { kind: 'returned', railReference: r.originalTraceNumber, code: r.code, amountMinor: r.amountMinor, currency: 'USD' } : { kind: 'correction', railReference: r.originalTraceNumber, code: r.code, correctedData: r.correctedData ?? '' },
      );
    case 'pacs.002':
    case 'pain.002': {
      const report = type === 'pacs.002' ? parsePacs002(raw) : parsePain002(raw);
      const kind = STATUS_KINDS[report.status];
      if (!kind) return [];
      return [{ kind, railReference: report.endToEndId, ...(kind === 'rejected' && report.reasonCode ? { code: report.reasonCode } : {}) }];
    }
    case 'pacs.004': {
      const r = parsePacs004(raw);
      const bookedAt = dateTime(r.settlementDate);
      return [{ kind: 'returned', railReference: r.endToEndId, code: r.reasonCode, amountMinor: r.returnedAmountMinor, currency: r.currency, ...(bookedAt ? { bookedAt } : {}) }];
    }
    case 'camt.054':
      // Debits of our rail account are our payments settling; credits (returns) come as pacs.004 or return files.
      return parseCamt054(raw).flatMap((n) =>
        n.entries
          .filter((e) => e.direction === 'DBIT' && e.endToEndId)
          .map((e): Fact => {
            const bookedAt = dateTime(e.bookingDate);
            return { kind: 'settled', railReference: e.endToEndId!, amountMinor: e.amountMinor, currency: n.currency, ...(bookedAt ? { bookedAt } : {}) };
          }),
      );
    case 'camt.029': {
      const r = parseCamt029(raw);
      return [r.confirmation === 'CNCL' ? { kind: 'recall_confirmed', railReference: r.originalEndToEndId } : { kind: 'recall_refused', railReference: r.originalEndToEndId, ...(r.reasonCode ? { code: r.reasonCode } : {}) }];
    }
    default:
      throw new Error(`no reader for bank message type ${type}`);
  }
}
