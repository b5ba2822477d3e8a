/**
 * Transfer lifecycle shared by the API, the activities and the workflow (pure: no I/O).
 *
 *   created → funds_held → [fx_locked] → submitted → settled → completed
 *   funds_held → needs_approval (four eyes, core/approval.ts) → funds_held | canceled
 *   any non-terminal → needs_attention | unknown → (back into the flow) | failed | canceled
 *   (submitted → canceled only on the bank's confirmation of a recall)
 *   completed → returned; completed → needs_attention (a late return) → returned | completed
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const TRANSFER_STATUSES = [
  'created',
  'funds_held',
  'fx_locked',
  'submitted',
  'settled',
  'completed',
  'needs_approval',
  'needs_attention',
  'unknown',
  'failed',
  'canceled',
  'returned',
] as const;
export type TransferStatus = (typeof TRANSFER_STATUSES)[number];

export const TERMINAL_STATUSES: readonly TransferStatus[] = ['completed', 'failed', 'canceled', 'returned'];

/** Which status may follow which; anything else is a bug and is refused. */
const NEXT: Record<TransferStatus, readonly TransferStatus[]> = {
  created: ['funds_held', 'failed', 'canceled', 'needs_attention'],
  funds_held: ['fx_locked', 'submitted', 'failed', 'canceled', 'needs_attention', 'unknown', 'needs_approval'],
  // Approved: back to funds_held and on; denied or canceled: the hold voided, canceled.
  needs_approval: ['funds_held', 'canceled', 'needs_attention'],
  fx_locked: ['submitted', 'failed', 'canceled', 'needs_attention', 'unknown'],
  // canceled: the bank confirmed a recall (camt.029 CNCL) before settlement.
  submitted: ['settled', 'failed', 'canceled', 'needs_attention', 'unknown'],
  // canceled: the bank's inquiry answer says it canceled the payment (nothing will be paid).
  unknown: ['submitted', 'settled', 'failed', 'canceled', 'needs_attention'],
  // created: a retry of a failed hold; returned: a late return an operator accepted.
  needs_attention: ['created', 'funds_held', 'needs_approval', 'fx_locked', 'submitted', 'settled', 'completed', 'failed', 'canceled', 'unknown', 'returned'],
  settled: ['completed', 'returned', 'needs_attention'],
  completed: ['returned', 'needs_attention'],
  failed: [],
  canceled: [],
  returned: [],
};

export function canMove(from: TransferStatus, to: TransferStatus): boolean {
  return NEXT[from].includes(to);
}

export const RAILS = ['ach', 'sepa', 'sepa_instant', 'swift', 'rtp'] as const;
export type Rail = (typeof RAILS)[number];

/** What a beneficiary gives us to reach it: a US account, a BIC, an IBAN. */
export type BeneficiaryKind = 'us_account' | 'bic' | 'iban';

/** Countries of the SEPA scheme (EEA, Switzerland, the UK and the micro-states). */
export const SEPA_COUNTRIES = [
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU', 'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE',
  'IS', 'LI', 'NO', 'CH', 'GB', 'MC', 'SM', 'VA', 'AD',
] as const;

/**
 * Rails this build can carry a payout over, with what each accepts and what it needs to know.
 * `amountMaxMinor` is the largest single payment the rail carries, in the minor units of the
 * currency the beneficiary receives: the API refuses more (400 naming amountMinor), so no payment
 * reaches a file or message whose amount field it would overflow.
 */
export const RAIL_CAPABILITIES: Partial<Record<Rail, { currencies: readonly string[]; countries: readonly string[] | 'any'; needs: BeneficiaryKind; amountMaxMinor: number }>> = {
  // NACHA Entry Detail amount, positions 30-39: 10 digits of cents, USD 99,999,999.99.
  ach: { currencies: ['USD'], countries: ['US'], needs: 'us_account', amountMaxMinor: 9_999_999_999 },
  // SCT Inst: EUR 100,000.00 per payment (tighter than the message's amount field).
  sepa_instant: { currencies: ['EUR'], countries: SEPA_COUNTRIES, needs: 'iban', amountMaxMinor: 10_000_000 },
  // SCT (EPC rulebook and pain.001 implementation guidelines): at most EUR 999,999,999.99.
  sepa: { currencies: ['EUR'], countries: SEPA_COUNTRIES, needs: 'iban', amountMaxMinor: 99_999_999_999 },
  // RTP: US instant payments, USD 10,000,000.00 per payment; chosen when the client names it.
  rtp: { currencies: ['USD'], countries: ['US'], needs: 'us_account', amountMaxMinor: 1_000_000_000 },
  // CBPR+ pacs.008: amounts of at most 14 digits, fraction included (the MT 32A field's width);
  // in minor units that is 14 digits whatever the currency's exponent.
  swift: {
    currencies: ['USD', 'EUR', 'GBP', 'JPY', 'CHF', 'CAD', 'AUD', 'SGD', 'MXN', 'KWD', 'BHD', 'JOD', 'OMR', 'TND'],
    countries: 'any',
    needs: 'bic',
    amountMaxMinor: 99_999_999_999_999,
  },
};

/** `offers`: what the beneficiary gave — an IBAN with a BIC offers both 'iban' and 'bic'. */
export function railAccepts(rail: Rail, currency: string, country: string, offers: readonly BeneficiaryKind[], amountMinor: number): string | undefined {
  const caps = RAIL_CAPABILITIES[rail];
  if (!caps) return `rail ${rail} is not enabled on this deployment`;
  if (!caps.currencies.includes(currency)) return `rail ${rail} does not carry ${currency}`;
  if (amountMinor > caps.amountMaxMinor) return `rail ${rail} does not carry amounts above ${caps.amountMaxMinor} minor units`;
  if (caps.countries !== 'any' && !caps.countries.includes(country)) return `rail ${rail} does not reach ${country}`;
  if (!offers.includes(caps.needs)) {
    return { bic: `rail ${rail} needs the beneficiary's bic`, iban: `rail ${rail} needs the beneficiary's iban`, us_account: `rail ${rail} needs a US accountNumber and routingNumber` }[caps.needs];
  }
  return undefined;
}

/**
 * Routing when the client names no rail: a domestic scheme where one fits (ACH; SEPA Instant up to
 * its limit, else SEPA), else a SWIFT wire.
 */
export function routeRail(currency: string, country: string, offers: readonly BeneficiaryKind[], amountMinor: number): Rail | undefined {
  for (const rail of ['ach', 'sepa_instant', 'sepa', 'swift'] as const) if (railAccepts(rail, currency, country, offers, amountMinor) === undefined) return rail;
  return undefined;
}

/** Where a payout goes next when its rail refuses it as unreachable (nothing was paid). */
export const FALLBACK_RAIL: Partial<Record<Rail, Rail>> = { sepa_instant: 'sepa', rtp: 'ach' };

export interface TransferTiming {
  /** How often the workflow asks the bank about a submitted payment. */
  pollIntervalMs: number;
  /** After this long without settlement the transfer needs an operator. */
  settlementTimeoutMs: number;
  /** After completion, how long the bank may still return the payment, and how often we look. */
  returnWindowMs: number;
  returnPollIntervalMs: number;
  /**
   * After settlement, how long the payment has to appear on the bank's statement before it is a
   * break, and how often we look.
   */
  reconcileWindowMs: number;
  reconcilePollIntervalMs: number;
}

export function railTiming(railTime: 'demo' | 'real'): TransferTiming {
  return railTime === 'demo'
    ? { pollIntervalMs: 1_000, settlementTimeoutMs: 5 * 60_000, returnWindowMs: 30_000, returnPollIntervalMs: 3_000, reconcileWindowMs: 60_000, reconcilePollIntervalMs: 2_000 }
    : // Real: ACH allows unauthorized returns for 60 calendar days; look a little beyond. A payment
      // shows on a statement within three banking days, five calendar days over a weekend.
      { pollIntervalMs: 15 * 60_000, settlementTimeoutMs: 5 * 24 * 3600_000, returnWindowMs: 62 * 24 * 3600_000, returnPollIntervalMs: 6 * 3600_000, reconcileWindowMs: 5 * 24 * 3600_000, reconcilePollIntervalMs: 6 * 3600_000 };
}

/** Workflow input: IDs and amounts only; personal data stays in the database. */
export interface TransferWorkflowInput {
  transferId: string;
  clientId: string;
  amountMinor: number;
  currency: string;
  /** Differs from currency for a cross-currency payout: the workflow converts before submitting. */
  targetCurrency: string;
  rail: Rail;
  timing: TransferTiming;
  /** At or above the client's approval threshold: wait in needs_approval after the hold (core/approval.ts). */
  approvalRequired?: boolean;
}

export interface HoldOutcome {
  held: boolean;
  status: TransferStatus;
  failureCode?: string;
}

export function workflowIdFor(transferId: string): string {
  return `transfer-${transferId}`;
}

export const SEARCH_ATTRIBUTES = {
  status: defineSearchAttributeKey('TransferStatus', SearchAttributeType.KEYWORD),
  rail: defineSearchAttributeKey('TransferRail', SearchAttributeType.KEYWORD),
  clientId: defineSearchAttributeKey('TransferClientId', SearchAttributeType.KEYWORD),
  currency: defineSearchAttributeKey('TransferCurrency', SearchAttributeType.KEYWORD),
  amountMinor: defineSearchAttributeKey('TransferAmountMinor', SearchAttributeType.INT),
} as const;

/** `--search-attribute` values for `temporal server start-dev` and the operator API. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword' | 'Int'> = {
  TransferStatus: 'Keyword',
  TransferRail: 'Keyword',
  TransferClientId: 'Keyword',
  TransferCurrency: 'Keyword',
  TransferAmountMinor: 'Int',
};

export const TASK_QUEUE_TRANSFERS = 'transfers';
