/**
 * camt.054.001.08: the bank's debit/credit notification. The simulated bank sends one per booked
 * payment as it settles (a debit on Railyard's rail account), carrying the payment's end-to-end
 * reference (an ACH entry's trace number) so the bank inbox can route it to its transfer. Entries
 * are laid out as in camt.053 (ReportEntry10).
 */
import { create } from 'xmlbuilder2';
import { amountIn, entryElement, many, readEntry, type ParsedEntry, type StatementEntry } from './camt053';
import { isoDateTime, parseXml, required } from './xml';

export const CAMT054 = 'urn:iso:std:iso:20022:tech:xsd:camt.054.001.08';

export interface AccountNotification {
  messageId: string;
  createdAt: Date;
  /** The notification's own ID (Ntfctn/Id). */
  id: string;
  accountId: string;
  currency: string;
  entries: StatementEntry[];
}

export function buildCamt054(n: AccountNotification): string {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(CAMT054, 'Document')
    .ele({
      BkToCstmrDbtCdtNtfctn: {
        GrpHdr: { MsgId: n.messageId, CreDtTm: isoDateTime(n.createdAt) },
        Ntfctn: {
          Id: n.id,
          CreDtTm: isoDateTime(n.createdAt),
          Acct: { Id: { Othr: { Id: n.accountId } }, Ccy: n.currency },
          Ntry: n.entries.map((e) => entryElement(e, n.currency)),
        },
      },
    })
    .end({ prettyPrint: true });
}

export interface ParsedNotification {
  messageId: string;
  id: string;
  accountId: string;
  currency: string;
  entries: ParsedEntry[];
}

/** Reads a camt.054.001.08; a missing or malformed field is an IsoMessageError naming it. */
export function parseCamt054(xml: string): ParsedNotification[] {
  const doc = parseXml(xml);
  const root = required(doc?.Document?.BkToCstmrDbtCdtNtfctn, 'Document/BkToCstmrDbtCdtNtfctn');
  const messageId = required(root.GrpHdr?.MsgId, 'GrpHdr/MsgId');
  return many(root.Ntfctn).map((ntfctn: any, i: number) => {
    const path = `Ntfctn[${i}]`;
    const currency = required(ntfctn.Acct?.Ccy, `${path}/Acct/Ccy`);
    return {
      messageId,
      id: required(ntfctn.Id, `${path}/Id`),
      accountId: required(ntfctn.Acct?.Id?.Othr?.Id ?? ntfctn.Acct?.Id?.IBAN, `${path}/Acct/Id`),
      currency,
      entries: many(ntfctn.Ntry).map((n: any, j: number) => readEntry(n, `${path}/Ntry[${j}]`, amountIn(currency))),
    };
  });
}
