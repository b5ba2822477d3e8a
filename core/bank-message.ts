/**
 * What reaches a transfer's workflow when its bank says something on its own (SPEC §7).
 *
 * The bank's messages — ACH acknowledgments, return and COR files, pain.002/pacs.002 status
 * reports, pacs.004 returns, camt.054 notifications, camt.053 statements — are collected once per
 * rail, stored once by the bank's message ID (raw kept), parsed, and routed to their transfer by
 * end-to-end reference or trace number. Each routed fact arrives at `transfer-<id>` as the signal
 * `bankMessage` with one of the payloads below. A message that names no known transfer becomes a
 * reconciliation break; nothing is dropped.
 *
 * A payload is the bank's word only: amounts in the minor unit as the bank booked them, codes as
 * the rail has them. Account numbers and free text from the bank never travel in it.
 */
import type { Rail } from './transfer';

export const BANK_MESSAGE_SIGNAL = 'bankMessage';

/** What the bank said about one payment. */
export type BankMessageKind =
  /** The bank has the payment and will execute it (pacs.002 ACSP, an ACH file acknowledged). */
  | 'accepted'
  /** Definitive: the bank will not pay (pacs.002 RJCT, an ACH entry rejected). `code` says why. */
  | 'rejected'
  /** The money reached the beneficiary's bank (pacs.002 ACCC, camt.054 booked debit, ACH settlement date). */
  | 'settled'
  /** The day's statement (camt.053) booked this payment with `amountMinor`. */
  | 'statement_matched'
  /** The day's statement booked this payment with another amount: a break is open. `code` is the break's kind. */
  | 'statement_break'
  /** Funds came back after settlement (pacs.004, an ACH return entry). `code` is the return reason. */
  | 'returned'
  /** An ACH notification of change (COR): the payment went through, details must change. `code` is Cxx. */
  | 'correction'
  /** The bank confirmed a recall (camt.029 CNCL): the payment will not be paid. */
  | 'recall_confirmed'
  /** The bank refused a recall (camt.029 RJCR): the payment stands. `code` is the reason. */
  | 'recall_refused';

export interface BankMessage {
  /** The stored message's ID (unique per rail); a workflow applies each ID once. */
  messageId: string;
  rail: Rail;
  kind: BankMessageKind;
  /** The end-to-end reference (ISO 20022) or trace number (ACH) the message names: an attempt's railReference. */
  railReference: string;
  /** The rail's reason code (R03, AC04, C01, …) where the message carries one. */
  code?: string;
  /** What the bank booked, in the minor unit of `currency`. */
  amountMinor?: number;
  currency?: string;
  /** When the bank booked it (settlement, return or statement date), ISO 8601. */
  bookedAt?: string;
  // A correction's new details (an account or routing number) are not here: they stay in the
  // stored COR file, which the step recording the correction reads by `messageId`.
}
