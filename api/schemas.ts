/**
 * Request schemas. Validation errors name the offending field in `param` (dotted path).
 */
import { z } from 'zod';
import { invalid } from '../core/errors';
import { isCurrency } from '../core/money';
import { RAILS } from '../core/transfer';
import { abaChecksumValid } from '../rails/ach/nacha';

const amountMinor = z
  .number({ error: 'must be an integer number of minor units' })
  .int({ error: 'must be an integer number of minor units (no fractions)' })
  .positive({ error: 'must be greater than zero' });
// z.int() bounds values to the safe-integer range; amounts beyond it are refused, never rounded.
const safeAmountMinor = amountMinor.max(Number.MAX_SAFE_INTEGER, { error: 'is beyond the safe integer range' });

const currency = z
  .string({ error: 'must be an ISO 4217 currency code' })
  .refine(isCurrency, { error: 'must be a known upper-case ISO 4217 currency code' });

const printable = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[\x20-\x7E\u00A0-\u024F]+$/, { error: 'contains characters banks do not accept' });

export const createClientSchema = z.strictObject({ name: printable(200) });

export const depositSchema = z.strictObject({
  currency,
  amountMinor: safeAmountMinor,
  reference: printable(140),
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
  beneficiary: usBeneficiary,
  reference: printable(140).optional(),
  metadata: z.record(z.string().max(40), z.string().max(500)).optional(),
});

export type CreateTransferBody = z.infer<typeof createTransferSchema>;

export const createQuoteSchema = z.strictObject({
  sourceCurrency: currency,
  targetCurrency: currency,
  sourceAmountMinor: safeAmountMinor,
});

export const listSchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  startingAfter: z.string().optional(),
  status: z.string().optional(),
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
