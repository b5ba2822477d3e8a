/**
 * FX quotes: a locked rate for one client, one pair and one amount, for a limited time.
 *
 * The client's balance pays sourceAmountMinor. The fee (FX_FEE_BPS of it) is taken in the source
 * currency; the rest is converted at the client rate (mid less FX_SPREAD_BPS), rounded once,
 * half-even, into targetAmountMinor. The spread is what the same amount would fetch at mid, less
 * what the beneficiary gets; the ledger books fee and spread as postings of their own.
 */
import type { SqlEntityManager } from '@mikro-orm/knex';
import { AppError, invalid } from '../core/errors';
import { newId } from '../core/ids';
import { FxQuote, type FxQuoteRow } from '../db/schema';
import { basisPoints, clientRate, convertMinor } from '../fx/pricing';
import { FX_CURRENCIES, UnsupportedPairError, type RatesSource } from '../fx/rates';

export interface FxPricing {
  quoteTtlMs: number;
  spreadBps: number;
  feeBps: number;
}

export function quoteView(q: FxQuoteRow) {
  return {
    id: q.id,
    object: 'fx_quote',
    sourceCurrency: q.sourceCurrency,
    targetCurrency: q.targetCurrency,
    rate: q.rate,
    sourceAmountMinor: q.sourceAmountMinor,
    targetAmountMinor: q.targetAmountMinor,
    feeMinor: q.feeMinor,
    expiresAt: q.expiresAt.toISOString(),
    createdAt: q.createdAt.toISOString(),
  };
}

/** Prices a quote without storing it. Throws the API's 400s for pairs and amounts it cannot price. */
export function priceQuote(
  rates: RatesSource,
  pricing: FxPricing,
  input: { clientId: string; sourceCurrency: string; targetCurrency: string; sourceAmountMinor: number },
  nowMs: number,
): FxQuoteRow {
  const { sourceCurrency, targetCurrency, sourceAmountMinor } = input;
  if (sourceCurrency === targetCurrency) throw invalid('targetCurrency', 'targetCurrency must differ from sourceCurrency');
  for (const [param, code] of [['sourceCurrency', sourceCurrency], ['targetCurrency', targetCurrency]] as const) {
    if (!FX_CURRENCIES.includes(code)) throw invalid(param, `${code} is not offered for FX; offered: ${FX_CURRENCIES.join(', ')}`);
  }
  let midRate: string;
  try {
    midRate = rates.midRate(sourceCurrency, targetCurrency, nowMs);
  } catch (err) {
    if (err instanceof UnsupportedPairError) throw invalid('targetCurrency', err.message);
    throw err;
  }
  const feeMinor = basisPoints(sourceAmountMinor, pricing.feeBps);
  const convertedMinor = sourceAmountMinor - feeMinor;
  const rate = clientRate(midRate, pricing.spreadBps);
  let targetAmountMinor: number;
  let midTargetAmountMinor: number;
  try {
    targetAmountMinor = convertMinor(convertedMinor, sourceCurrency, targetCurrency, rate);
    midTargetAmountMinor = convertMinor(convertedMinor, sourceCurrency, targetCurrency, midRate);
  } catch {
    throw invalid('sourceAmountMinor', 'the converted amount is beyond the safe integer range');
  }
  if (targetAmountMinor < 1) {
    throw invalid('sourceAmountMinor', `converts to less than one minor unit of ${targetCurrency}`);
  }
  return {
    id: newId('qt', nowMs),
    clientId: input.clientId,
    sourceCurrency,
    targetCurrency,
    sourceAmountMinor,
    feeMinor,
    convertedMinor,
    midRate,
    rate,
    targetAmountMinor,
    midTargetAmountMinor,
    expiresAt: new Date(nowMs + pricing.quoteTtlMs),
    createdAt: new Date(nowMs),
    transferId: null,
  };
}

export async function createQuote(
  em: SqlEntityManager,
  rates: RatesSource,
  pricing: FxPricing,
  input: { clientId: string; sourceCurrency: string; targetCurrency: string; sourceAmountMinor: number },
  nowMs = Date.now(),
): Promise<FxQuoteRow> {
  const quote = priceQuote(rates, pricing, input, nowMs);
  await em.fork().insert(FxQuote, quote);
  return quote;
}

/**
 * The quote a transfer may use: the caller's own, unexpired, unused, and for this exact pair and
 * amount. Another client's quote is "not found", so existence does not leak.
 */
export async function usableQuote(
  em: SqlEntityManager,
  clientId: string,
  quoteId: string,
  expect: { sourceCurrency: string; targetCurrency: string; sourceAmountMinor: number },
  nowMs = Date.now(),
): Promise<FxQuoteRow> {
  const quote = await em.fork().findOne(FxQuote, { id: quoteId, clientId });
  if (!quote) throw new AppError('not_found', `no quote ${quoteId}`, { param: 'quoteId' });
  if (quote.expiresAt.getTime() <= nowMs) {
    throw new AppError('quote_expired', `quote ${quoteId} expired at ${quote.expiresAt.toISOString()}; request a new one`, { param: 'quoteId' });
  }
  if (quote.transferId) throw new AppError('invalid_state', `quote ${quoteId} was already used by ${quote.transferId}`, { param: 'quoteId' });
  if (quote.sourceCurrency !== expect.sourceCurrency || quote.targetCurrency !== expect.targetCurrency || quote.sourceAmountMinor !== expect.sourceAmountMinor) {
    throw invalid(
      'quoteId',
      `quote ${quoteId} is for ${quote.sourceAmountMinor} ${quote.sourceCurrency} → ${quote.targetCurrency}, not ${expect.sourceAmountMinor} ${expect.sourceCurrency} → ${expect.targetCurrency}`,
    );
  }
  return quote;
}
