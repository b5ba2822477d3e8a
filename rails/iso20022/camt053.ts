/**
 * camt.053.001.08: the bank's end-of-day account statement. One statement per account (currency),
 * with opening and closing booked balances and an entry per booked payment, carrying the payment's
 * end-to-end reference for reconciliation. Amounts are exact decimals from minor units.
 */
import { create } from 'xmlbuilder2';
import { decimalToMinor, minorToDecimal } from '../../core/money';
import { IsoMessageError, isoDateTime, parseXml, required } from './xml';

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
  /**
   * SWIFT charges on this payment. `included`: they are part of this entry's amount (OUR, the bank
   * debits them to us on top of the payment); otherwise they were deducted from the amount on its
   * way to the beneficiary (SHA, BEN) and the beneficiary received that much less.
   */
  charges?: { amountMinor: number; bearer: 'DEBT' | 'SHAR' | 'CRED'; included: boolean };
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

/** One booked entry (ReportEntry10), as camt.053 statements and camt.054 notifications both carry it. */
export function entryElement(e: StatementEntry, currency: string) {
  return {
    Amt: { '@Ccy': currency, '#': minorToDecimal(e.amountMinor, currency) },
    CdtDbtInd: e.direction,
    Sts: { Cd: 'BOOK' },
    BookgDt: { Dt: e.bookingDate },
    ValDt: { Dt: e.bookingDate },
    AcctSvcrRef: e.accountServicerRef,
    BkTxCd: { Domn: { Cd: 'PMNT', Fmly: { Cd: e.direction === 'DBIT' ? 'ICDT' : 'RCDT', SubFmlyCd: e.subFamily } } },
    ...(e.charges
      ? {
          Chrgs: {
            Rcrd: {
              Amt: { '@Ccy': currency, '#': minorToDecimal(e.charges.amountMinor, currency) },
              CdtDbtInd: 'DBIT',
              ChrgInclInd: String(e.charges.included),
              Br: e.charges.bearer,
            },
          },
        }
      : {}),
    NtryDtls: { TxDtls: { Refs: { EndToEndId: e.endToEndId, ...(e.uetr ? { UETR: e.uetr } : {}) } } },
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
            Ntry: s.entries.map((e) => entryElement(e, s.currency)),
          };
        }),
      },
    })
    .end({ prettyPrint: true });
}

/** A statement as Railyard reads it: balances signed (negative = DBIT), amounts in minor units. */
export interface ParsedStatement {
  id: string;
  accountId: string;
  currency: string;
  openingMinor: number;
  closingMinor: number;
  entries: (Omit<StatementEntry, 'endToEndId'> & { endToEndId: string | null })[];
}

export const many = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Reads a camt.053.001.08; a missing or malformed field is an IsoMessageError naming it. */
export function parseCamt053(xml: string): ParsedStatement[] {
  const doc = parseXml(xml);
  const root = required(doc?.Document?.BkToCstmrStmt, 'Document/BkToCstmrStmt');
  return many(root.Stmt).map((stmt: any, i: number) => {
    const path = `Stmt[${i}]`;
    const currency = required(stmt.Acct?.Ccy, `${path}/Acct/Ccy`);
    const amount = amountIn(currency);
    const signed = (minor: number, indicator: string) => (indicator === 'DBIT' ? -minor : minor);
    const balance = (code: string) => {
      const bal = many(stmt.Bal).find((b: any) => b?.Tp?.CdOrPrtry?.Cd === code);
      if (!bal) throw new IsoMessageError(`${path}/Bal: no ${code} balance`);
      return signed(amount(bal.Amt, `${path}/Bal[${code}]/Amt`), bal.CdtDbtInd);
    };
    return {
      id: required(stmt.Id, `${path}/Id`),
      accountId: required(stmt.Acct?.Id?.Othr?.Id ?? stmt.Acct?.Id?.IBAN, `${path}/Acct/Id`),
      currency,
      openingMinor: balance('OPBD'),
      closingMinor: balance('CLBD'),
      entries: many(stmt.Ntry).map((n: any, j: number) => readEntry(n, `${path}/Ntry[${j}]`, amount)),
    };
  });
}

/** Reads an amount that must be in `currency`, in minor units; an IsoMessageError names the field at fault. */
export function amountIn(currency: string) {
  return (amt: any, where: string): number => {
    if (amt?.['@Ccy'] !== currency) throw new IsoMessageError(`${where}/@Ccy: expected ${currency}, got ${amt?.['@Ccy']}`);
    try {
      return decimalToMinor(required(amt['#text'], where), currency);
    } catch (err) {
      throw err instanceof IsoMessageError ? err : new IsoMessageError(`${where}: ${(err as Error).message}`);
    }
  };
}

export type ParsedEntry = ParsedStatement['entries'][number];

/** Reads one ReportEntry10; `amount` reads an amount in the report's currency (an IsoMessageError names the field at fault). */
export function readEntry(n: any, where: string, amount: (amt: any, where: string) => number): ParsedEntry {
  const direction = required(n.CdtDbtInd, `${where}/CdtDbtInd`);
  if (direction !== 'DBIT' && direction !== 'CRDT') throw new IsoMessageError(`${where}/CdtDbtInd: ${direction}`);
  const refs = many(n.NtryDtls?.TxDtls)[0]?.Refs;
  const records = many(n.Chrgs?.Rcrd);
  const chargesMinor = records.reduce((sum: number, r: any, k: number) => sum + amount(r.Amt, `${where}/Chrgs/Rcrd[${k}]/Amt`), 0);
  return {
    endToEndId: refs?.EndToEndId ?? null,
    uetr: refs?.UETR,
    amountMinor: amount(n.Amt, `${where}/Amt`),
    direction,
    bookingDate: required(n.BookgDt?.Dt, `${where}/BookgDt/Dt`),
    subFamily: n.BkTxCd?.Domn?.Fmly?.SubFmlyCd ?? '',
    accountServicerRef: n.AcctSvcrRef ?? '',
    ...(records.length > 0 ? { charges: { amountMinor: chargesMinor, bearer: records[0].Br, included: records[0].ChrgInclInd === 'true' } } : {}),
  };
}
