/**
 * camt.053.001.08: the bank's end-of-day account statement. One statement per account (currency),
 * with opening and closing booked balances and an entry per booked payment, carrying the payment's
 * end-to-end reference for reconciliation. Amounts are exact decimals from minor units.
 */
import { create } from 'xmlbuilder2';
import { minorToDecimal } from '../../core/money';
import { isoDateTime } from './xml';

export const CAMT053 = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';

export interface StatementEntry {
  endToEndId: string;
  uetr?: string;
  amountMinor: number;
  direction: 'DBIT' | 'CRDT';
  bookingDate: string;
  /** ISO bank transaction sub-family, e.g. XBCT (cross-border), ACDT (ACH credit), RRTN (return). */
  subFamily: string;
  accountServicerRef: string;
}

export interface AccountStatement {
  id: string;
  accountId: string;
  currency: string;
  date: string;
  openingMinor: number;
  entries: StatementEntry[];
}

function balance(type: 'OPBD' | 'CLBD', minor: number, currency: string, date: string) {
  return {
    Tp: { CdOrPrtry: { Cd: type } },
    Amt: { '@Ccy': currency, '#': minorToDecimal(Math.abs(minor), currency) },
    CdtDbtInd: minor < 0 ? 'DBIT' : 'CRDT',
    Dt: { Dt: date },
  };
}

export function buildCamt053(messageId: string, createdAt: Date, statements: AccountStatement[]): string {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(CAMT053, 'Document')
    .ele({
      BkToCstmrStmt: {
        GrpHdr: { MsgId: messageId, CreDtTm: isoDateTime(createdAt) },
        Stmt: statements.map((s) => {
          const closing = s.entries.reduce((sum, e) => sum + (e.direction === 'CRDT' ? e.amountMinor : -e.amountMinor), s.openingMinor);
          return {
            Id: s.id,
            CreDtTm: isoDateTime(createdAt),
            FrToDt: { FrDtTm: `${s.date}T00:00:00Z`, ToDtTm: `${s.date}T23:59:59Z` },
            Acct: { Id: { Othr: { Id: s.accountId } }, Ccy: s.currency },
            Bal: [balance('OPBD', s.openingMinor, s.currency, s.date), balance('CLBD', closing, s.currency, s.date)],
            Ntry: s.entries.map((e) => ({
              Amt: { '@Ccy': s.currency, '#': minorToDecimal(e.amountMinor, s.currency) },
              CdtDbtInd: e.direction,
              Sts: { Cd: 'BOOK' },
              BookgDt: { Dt: e.bookingDate },
              ValDt: { Dt: e.bookingDate },
              AcctSvcrRef: e.accountServicerRef,
              BkTxCd: { Domn: { Cd: 'PMNT', Fmly: { Cd: e.direction === 'DBIT' ? 'ICDT' : 'RCDT', SubFmlyCd: e.subFamily } } },
              NtryDtls: { TxDtls: { Refs: { EndToEndId: e.endToEndId, ...(e.uetr ? { UETR: e.uetr } : {}) } } },
            })),
          };
        }),
      },
    })
    .end({ prettyPrint: true });
}
