/**
 * NACHA return reason codes and their windows, and whether a return came in time (pure).
 *
 * The RDFI has 2 banking days after the settlement date to return most entries; 60 calendar days
 * for entries the receiver says it never authorized (R05, R07, R10, R11, R37, R38, R51, R52, R53).
 * R06 and R31 have no NACHA window: they come at the ODFI's request or with its agreement. R61–R77
 * are dishonored and contested dishonored returns: answers about a return, never a return of an
 * original entry. A return outside its window is not money the ODFI has to take back silently: it
 * may dishonor it (R68, untimely return), so Railyard puts it before an operator.
 *
 * Windows are checked on dates in US Eastern time, the Fed's: a return observed on or before the
 * deadline's date is timely.
 */
import { addBankingDays, addDays, eastern, type IsoDate } from './calendar';

export type ReturnWindow =
  | { kind: 'banking_days'; days: number }
  | { kind: 'calendar_days'; days: number }
  /** R06, R31: by the ODFI's request or agreement, not bound by a NACHA window. */
  | { kind: 'by_agreement' }
  /** R61–R77: about a return (dishonor, contest), not a return of an original entry. */
  | { kind: 'about_a_return' };

export interface ReturnCode {
  code: string;
  title: string;
  window: ReturnWindow;
}

const TWO_BANKING_DAYS: ReturnWindow = { kind: 'banking_days', days: 2 };
const SIXTY_CALENDAR_DAYS: ReturnWindow = { kind: 'calendar_days', days: 60 };
const AGREEMENT: ReturnWindow = { kind: 'by_agreement' };
const ABOUT_A_RETURN: ReturnWindow = { kind: 'about_a_return' };

/** Every return reason code NACHA defines from R01 to R85 (unassigned numbers are absent). */
export const ACH_RETURN_CODES: readonly ReturnCode[] = [
  { code: 'R01', title: 'Insufficient funds', window: TWO_BANKING_DAYS },
  { code: 'R02', title: 'Account closed', window: TWO_BANKING_DAYS },
  { code: 'R03', title: 'No account / unable to locate account', window: TWO_BANKING_DAYS },
  { code: 'R04', title: 'Invalid account number structure', window: TWO_BANKING_DAYS },
  { code: 'R05', title: 'Unauthorized debit to consumer account using corporate SEC code', window: SIXTY_CALENDAR_DAYS },
  { code: 'R06', title: "Returned per ODFI's request", window: AGREEMENT },
  { code: 'R07', title: 'Authorization revoked by customer', window: SIXTY_CALENDAR_DAYS },
  { code: 'R08', title: 'Payment stopped', window: TWO_BANKING_DAYS },
  { code: 'R09', title: 'Uncollected funds', window: TWO_BANKING_DAYS },
  { code: 'R10', title: 'Customer advises originator is not known to receiver and/or not authorized to debit', window: SIXTY_CALENDAR_DAYS },
  { code: 'R11', title: 'Customer advises entry not in accordance with the terms of the authorization', window: SIXTY_CALENDAR_DAYS },
  { code: 'R12', title: 'Account sold to another DFI', window: TWO_BANKING_DAYS },
  { code: 'R13', title: 'Invalid ACH routing number', window: TWO_BANKING_DAYS },
  { code: 'R14', title: 'Representative payee deceased or unable to continue in that capacity', window: TWO_BANKING_DAYS },
  { code: 'R15', title: 'Beneficiary or account holder (other than a representative payee) deceased', window: TWO_BANKING_DAYS },
  { code: 'R16', title: 'Account frozen / entry returned per OFAC instruction', window: TWO_BANKING_DAYS },
  { code: 'R17', title: 'File record edit criteria / entry with invalid account number initiated under questionable circumstances', window: TWO_BANKING_DAYS },
  { code: 'R18', title: 'Improper effective entry date', window: TWO_BANKING_DAYS },
  { code: 'R19', title: 'Amount field error', window: TWO_BANKING_DAYS },
  { code: 'R20', title: 'Non-transaction account', window: TWO_BANKING_DAYS },
  { code: 'R21', title: 'Invalid company identification', window: TWO_BANKING_DAYS },
  { code: 'R22', title: 'Invalid individual ID number', window: TWO_BANKING_DAYS },
  { code: 'R23', title: 'Credit entry refused by receiver', window: TWO_BANKING_DAYS },
  { code: 'R24', title: 'Duplicate entry', window: TWO_BANKING_DAYS },
  { code: 'R25', title: 'Addenda error', window: TWO_BANKING_DAYS },
  { code: 'R26', title: 'Mandatory field error', window: TWO_BANKING_DAYS },
  { code: 'R27', title: 'Trace number error', window: TWO_BANKING_DAYS },
  { code: 'R28', title: 'Routing number check digit error', window: TWO_BANKING_DAYS },
  // Corporate (CCD/CTX) unauthorized: NACHA gives these the ordinary 2 banking days, not 60.
  { code: 'R29', title: 'Corporate customer advises not authorized', window: TWO_BANKING_DAYS },
  { code: 'R30', title: 'RDFI not participant in check truncation program', window: TWO_BANKING_DAYS },
  { code: 'R31', title: 'Permissible return entry (CCD and CTX only)', window: AGREEMENT },
  { code: 'R32', title: 'RDFI non-settlement', window: TWO_BANKING_DAYS },
  { code: 'R33', title: 'Return of XCK entry', window: SIXTY_CALENDAR_DAYS },
  { code: 'R34', title: 'Limited participation DFI', window: TWO_BANKING_DAYS },
  { code: 'R35', title: 'Return of improper debit entry', window: TWO_BANKING_DAYS },
  { code: 'R36', title: 'Return of improper credit entry', window: TWO_BANKING_DAYS },
  { code: 'R37', title: 'Source document presented for payment', window: SIXTY_CALENDAR_DAYS },
  { code: 'R38', title: 'Stop payment on source document', window: SIXTY_CALENDAR_DAYS },
  { code: 'R39', title: 'Improper source document / source document presented for payment', window: TWO_BANKING_DAYS },
  { code: 'R40', title: 'Return of ENR entry by federal government agency', window: TWO_BANKING_DAYS },
  { code: 'R41', title: 'Invalid transaction code (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R42', title: 'Routing number / check digit error (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R43', title: 'Invalid DFI account number (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R44', title: 'Invalid individual ID number / identification number (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R45', title: 'Invalid individual name / company name (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R46', title: 'Invalid representative payee indicator (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R47', title: 'Duplicate enrollment (ENR)', window: TWO_BANKING_DAYS },
  { code: 'R50', title: 'State law affecting RCK acceptance', window: TWO_BANKING_DAYS },
  { code: 'R51', title: 'Item related to RCK entry is ineligible or RCK entry is improper', window: SIXTY_CALENDAR_DAYS },
  { code: 'R52', title: 'Stop payment on item related to RCK entry', window: SIXTY_CALENDAR_DAYS },
  { code: 'R53', title: 'Item and RCK entry presented for payment', window: SIXTY_CALENDAR_DAYS },
  { code: 'R61', title: 'Misrouted return', window: ABOUT_A_RETURN },
  { code: 'R62', title: 'Return of erroneous or reversing debit', window: ABOUT_A_RETURN },
  { code: 'R67', title: 'Duplicate return', window: ABOUT_A_RETURN },
  { code: 'R68', title: 'Untimely return', window: ABOUT_A_RETURN },
  { code: 'R69', title: 'Field error(s)', window: ABOUT_A_RETURN },
  { code: 'R70', title: 'Permissible return entry not accepted / return not requested by ODFI', window: ABOUT_A_RETURN },
  { code: 'R71', title: 'Misrouted dishonored return', window: ABOUT_A_RETURN },
  { code: 'R72', title: 'Untimely dishonored return', window: ABOUT_A_RETURN },
  { code: 'R73', title: 'Timely original return', window: ABOUT_A_RETURN },
  { code: 'R74', title: 'Corrected return', window: ABOUT_A_RETURN },
  { code: 'R75', title: 'Return not a duplicate', window: ABOUT_A_RETURN },
  { code: 'R76', title: 'No errors found', window: ABOUT_A_RETURN },
  { code: 'R77', title: 'Non-acceptance of R62 dishonored return', window: ABOUT_A_RETURN },
  { code: 'R80', title: 'IAT entry coding error', window: TWO_BANKING_DAYS },
  { code: 'R81', title: 'Non-participant in IAT program', window: TWO_BANKING_DAYS },
  { code: 'R82', title: 'Invalid foreign receiving DFI identification', window: TWO_BANKING_DAYS },
  { code: 'R83', title: 'Foreign receiving DFI unable to settle', window: TWO_BANKING_DAYS },
  { code: 'R84', title: 'Entry not processed by gateway', window: TWO_BANKING_DAYS },
  { code: 'R85', title: 'Incorrectly coded outbound international payment', window: TWO_BANKING_DAYS },
];

const BY_CODE = new Map(ACH_RETURN_CODES.map((c) => [c.code, c]));

export function achReturnCode(code: string): ReturnCode | undefined {
  return BY_CODE.get(code);
}

/** The last date (ET) the RDFI may return an entry settled on `settledOn`; undefined when no NACHA window binds it. */
export function returnDeadline(settledOn: IsoDate, code: string): IsoDate | undefined {
  const window = BY_CODE.get(code)?.window;
  if (window?.kind === 'banking_days') return addBankingDays(settledOn, window.days);
  if (window?.kind === 'calendar_days') return addDays(settledOn, window.days);
  return undefined;
}

export type ReturnAssessment =
  | { timely: true; code: string; title: string; deadline: IsoDate | null }
  | { timely: false; code: string; reason: string };

/**
 * Whether an ACH return observed at `receivedAtMs` for an entry settled at `settledAtMs` may be
 * taken as it is. Both instants are the workflow's clock, so a test server that skips time governs them.
 */
export function assessAchReturn(code: string, settledAtMs: number, receivedAtMs: number): ReturnAssessment {
  if (!Number.isSafeInteger(settledAtMs) || !Number.isSafeInteger(receivedAtMs) || receivedAtMs < settledAtMs) {
    throw new RangeError(`return times out of order: settled ${settledAtMs}, received ${receivedAtMs}`);
  }
  const entry = BY_CODE.get(code);
  const settledOn = eastern(new Date(settledAtMs)).date;
  const receivedOn = eastern(new Date(receivedAtMs)).date;
  if (!entry) return { timely: false, code, reason: `return with ${code}, which is not a NACHA return reason code` };
  if (entry.window.kind === 'about_a_return') {
    return { timely: false, code, reason: `${code} (${entry.title}) answers a return; it is not a return of the original entry` };
  }
  const deadline = returnDeadline(settledOn, code) ?? null;
  if (deadline !== null && receivedOn > deadline) {
    return {
      timely: false,
      code,
      reason: `late return ${code} (${entry.title}) received ${receivedOn}; the entry settled ${settledOn} and its return deadline was ${deadline}`,
    };
  }
  return { timely: true, code, title: entry.title, deadline };
}
