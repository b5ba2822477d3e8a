/**
 * NACHA notifications of change (COR entries, change codes C01–C13): the receiving bank paid the
 * entry but says part of the instruction was wrong and gives the corrected data, which the
 * originator must use from the next entry on (within six banking days). Pure.
 */
import { maskAccount } from './masking';

export interface ChangeCode {
  code: string;
  title: string;
  /** What the 29-position corrected data field holds for this code. */
  corrected: string;
}

export const ACH_CHANGE_CODES: readonly ChangeCode[] = [
  { code: 'C01', title: 'Incorrect DFI account number', corrected: 'account number' },
  { code: 'C02', title: 'Incorrect routing number', corrected: 'routing number' },
  { code: 'C03', title: 'Incorrect routing number and incorrect DFI account number', corrected: 'routing number and account number' },
  { code: 'C05', title: 'Incorrect transaction code', corrected: 'transaction code' },
  { code: 'C06', title: 'Incorrect DFI account number and incorrect transaction code', corrected: 'account number and transaction code' },
  { code: 'C07', title: 'Incorrect routing number, DFI account number and transaction code', corrected: 'routing number, account number and transaction code' },
  { code: 'C08', title: 'Incorrect receiving DFI identification (IAT only)', corrected: 'receiving DFI identification' },
  { code: 'C09', title: 'Incorrect individual identification number', corrected: 'individual identification number' },
  { code: 'C13', title: 'Addenda format error', corrected: 'nothing (the addenda format was wrong)' },
];

const BY_CODE = new Map(ACH_CHANGE_CODES.map((c) => [c.code, c]));

export function achChangeCode(code: string): ChangeCode | undefined {
  return BY_CODE.get(code);
}

/** Corrected data, field by field, as NACHA lays it out in the COR addenda (positions 1–29). */
export function readCorrectedData(code: string, correctedData: string): Record<string, string> {
  const d = correctedData.padEnd(29, ' ');
  const trim = (from: number, to: number) => d.slice(from, to).trim();
  switch (code) {
    case 'C01':
      return { accountNumber: trim(0, 17) };
    case 'C02':
      return { routingNumber: trim(0, 9) };
    case 'C03':
      return { routingNumber: trim(0, 9), accountNumber: trim(12, 29) };
    case 'C05':
      return { transactionCode: trim(0, 2) };
    case 'C06':
      return { accountNumber: trim(0, 17), transactionCode: trim(20, 22) };
    case 'C07':
      return { routingNumber: trim(0, 9), accountNumber: trim(9, 26), transactionCode: trim(26, 28) };
    default:
      return { correctedData: correctedData.trim() };
  }
}

/** One line for the transfer's history: what changed and what to send next time. */
export function describeChange(code: string, correctedData: string): string {
  const change = achChangeCode(code);
  // The event is the client's to read: a corrected account number shows its last four digits (the full one stays in ach_corrections).
  const fields = Object.entries(readCorrectedData(code, correctedData))
    .map(([k, v]) => `${k} ${k === 'accountNumber' ? maskAccount(v) : v}`)
    .join(', ');
  return `notification of change ${code} (${change?.title ?? 'unknown change code'}): corrected ${fields}; use it for the next payout to this beneficiary`;
}
