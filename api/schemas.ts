/**
 * Request schemas. Validation errors name the offending field in `param` (dotted path).
 */
import { z } from 'zod';
import { isValidBIC, isValidIBAN } from 'ibantools';
import { AppError, invalid } from '../core/errors';
import { CURRENCY_CODES } from '../core/money';
import { RAILS, TRANSFER_STATUSES } from '../core/transfer';
import { listQuery } from './lists';
import { abaChecksumValid } from '../rails/ach/nacha';

const amountMinor = z
  .number({ error: 'must be an integer number of minor units' })
  .int({ error: 'must be an integer number of minor units (no fractions)' })
  .positive({ error: 'must be greater than zero' });
// z.int() bounds values to the safe-integer range; amounts beyond it are refused, never rounded.
const safeAmountMinor = amountMinor.max(Number.MAX_SAFE_INTEGER, { error: 'is beyond the safe integer range' });

// An enum, so that the OpenAPI document lists the codes the API takes rather than "a string".
const currency = z
  .enum(CURRENCY_CODES as [string, ...string[]], { error: 'must be a known upper-case ISO 4217 currency code' })
  .meta({ description: 'upper-case ISO 4217 code', example: 'USD' });

// Text banks accept (Latin letters with their accents), with at least one character that is not
// a space: surrounding spaces are trimmed, so the pattern the document shows refuses a blank one.
const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[\x20-\x7E\u00A0-\u024F]*[\x21-\x7E\u00A1-\u024F][\x20-\x7E\u00A0-\u024F]*$/, { error: 'contains characters banks do not accept' });

export const createClientSchema = z.strictObject({ name: printable(200) });

/** For POSTs that take no fields: an empty or absent body. */
export const emptyBodySchema = z.strictObject({});

export const depositSchema = z.strictObject({
  currency,
  amountMinor: safeAmountMinor,
  reference: printable(140),
});

const country = z.string().regex(/^[A-Z]{2}$/, { error: 'must be an ISO 3166 alpha-2 country code' });
const bic = z.string().refine((v) => isValidBIC(v), { error: 'is not a valid BIC' });

const ibanBeneficiary = z
  .strictObject({
    name: printable(70),
    country,
    iban: z.string().refine((v) => isValidIBAN(v), { error: 'is not a valid IBAN (checksum or length for its country)' }),
    bic: bic.optional(),
  })
  .refine((b) => b.iban.slice(0, 2) === b.country, { error: 'must be the IBAN’s country', path: ['country'] });

const accountBeneficiary = z.strictObject({
  name: printable(70),
  country,
  accountNumber: z.string().regex(/^[A-Za-z0-9]{4,34}$/, { error: 'must be 4 to 34 letters or digits' }),
  bic,
});

const usBeneficiary = z.strictObject({
  name: printable(70),
  country: z.literal('US', { error: 'must be US for a US bank account' }),
  accountNumber: z.string().regex(/^\d{4,17}$/, { error: 'must be 4 to 17 digits' }),
  routingNumber: z
    .string()
    .regex(/^\d{9}$/, { error: 'must be 9 digits' })
    .refine(abaChecksumValid, { error: 'fails the ABA routing number checksum' }),
});

export const createTransferSchema = z.strictObject({
  amountMinor: safeAmountMinor,
  currency,
  targetCurrency: currency.optional(),
  quoteId: z.string().optional(),
  rail: z.enum(RAILS, { error: `must be one of ${RAILS.join(', ')}` }).optional(),
  chargeBearer: z.enum(['OUR', 'SHA', 'BEN'], { error: 'must be one of OUR, SHA, BEN' }).optional(),
  beneficiary: z.looseObject({}, { error: 'must be an object' }),
  reference: printable(140).optional(),
  metadata: z.record(z.string().max(40), z.string().max(500)).optional(),
});

/**
 * The transfer body as documented: the beneficiary as one of its three shapes. Requests are checked
 * by createTransferSchema and then parseBeneficiary, which picks the shape by its fields so that
 * errors name the field at fault; both use the schemas below.
 */
export const createTransferDocSchema = createTransferSchema
  .extend({
    beneficiary: z.union([usBeneficiary.meta({ id: 'UsAccountBeneficiary' }), ibanBeneficiary.meta({ id: 'IbanBeneficiary' }), accountBeneficiary.meta({ id: 'BicAccountBeneficiary' })]),
  })
  .meta({ id: 'CreateTransfer' });

export type Beneficiary = Record<string, string>;
export type CreateTransferBody = Omit<z.infer<typeof createTransferSchema>, 'beneficiary'> & { beneficiary: Beneficiary };

/**
 * A beneficiary is one of: a US account `{name, country: "US", accountNumber, routingNumber}`, an
 * IBAN `{name, country, iban, bic?}`, or an account with a BIC `{name, country, accountNumber, bic}`.
 * The shape is chosen by its fields, so errors name the field at fault (`beneficiary.iban`).
 */
export function parseBeneficiary(value: unknown): { beneficiary: Beneficiary; kind: 'us_account' | 'bic' | 'iban' } {
  const b = (value ?? {}) as Record<string, unknown>;
  const [schema, kind] =
    'routingNumber' in b ? ([usBeneficiary, 'us_account'] as const) : 'iban' in b ? ([ibanBeneficiary, 'iban'] as const) : 'bic' in b ? ([accountBeneficiary, 'bic'] as const) : ([usBeneficiary, 'us_account'] as const);
  try {
    return { beneficiary: parse(schema as z.ZodType, b) as Beneficiary, kind };
  } catch (err) {
    if (err instanceof AppError && err.param) throw invalid(`beneficiary.${err.param}`, `beneficiary.${err.message}`);
    throw err;
  }
}

export const createQuoteSchema = z.strictObject({
  sourceCurrency: currency,
  targetCurrency: currency,
  sourceAmountMinor: safeAmountMinor,
});

export const transferListQuery = listQuery('tr', {
  status: z.enum(TRANSFER_STATUSES, { error: `must be one of ${TRANSFER_STATUSES.join(', ')}` }).optional().meta({ description: 'only transfers in this status' }),
});


/** Parses or throws the API's 400 with `param` naming the first offending field. */
export function parse<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) {
    if (schema instanceof z.ZodObject && value === undefined) value = {};
    else throw invalid('body', 'request body must be a JSON object');
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    path = [...issue.path.map(String), issue.keys[0]].join('.');
    throw invalid(path, `${path} is not a known field`);
  }
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  throw invalid(path || 'body', missing ? `${path} is required` : `${path || 'body'} ${issue.message}`);
}
