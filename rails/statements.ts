/**
 * The bank's daily camt.053 statements, fetched by date. Statement accounts are named
 * `RAILYARD-<RAIL>-<CCY>`: one settlement account per rail and currency, as the ledger keeps them
 * (`bank_settlement:<rail>`).
 */
import { bankFetch } from './bank-http';
import { parseCamt053, type ParsedStatement } from './iso20022/camt053';
import { readIsoAnswer } from './iso20022/xml';

export interface StatementSource {
  /** Every account statement for one day (YYYY-MM-DD). Throws BankUnavailableError when the bank does not answer. */
  fetch(date: string): Promise<ParsedStatement[]>;
}

export function createStatementSource(baseUrl: string, requestTimeoutMs = 10_000): StatementSource {
  return {
    async fetch(date) {
      const res = await bankFetch(baseUrl, `/sim/statements?date=${encodeURIComponent(date)}`, { method: 'GET' }, requestTimeoutMs);
      if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to a statement request for ${date}`);
      return readIsoAnswer(res, parseCamt053, 'camt.053');
    },
  };
}

/** The rail and currency of a statement account, or null for an account Railyard does not know. */
export function railAccountOf(accountId: string): { rail: string; currency: string } | null {
  const m = /^RAILYARD-([A-Z_]+)-([A-Z]{3})$/.exec(accountId);
  return m ? { rail: m[1].toLowerCase(), currency: m[2] } : null;
}
