/**
 * FX arithmetic: exact decimal rates, one half-even rounding per converted amount.
 */
import Decimal from 'decimal.js';
import { assertAmountMinor, minorDigits } from '../core/money';

const D = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });

/** Significant digits a published rate carries. */
export const RATE_SIGNIFICANT_DIGITS = 10;

export function formatRate(value: Decimal.Value): string {
  return new D(value).toSignificantDigits(RATE_SIGNIFICANT_DIGITS, Decimal.ROUND_HALF_EVEN).toString();
}

export function isRate(value: string): boolean {
  return /^\d+(\.\d+)?$/.test(value) && new D(value).gt(0);
}

/**
 * sourceMinor (in sourceCurrency) × rate → target minor units, rounded once, half-even.
 * The digits of both currencies come from the ISO 4217 table.
 */
export function convertMinor(sourceMinor: number, sourceCurrency: string, targetCurrency: string, rate: string): number {
  assertAmountMinor(sourceMinor, 'sourceMinor');
  if (!isRate(rate)) throw new RangeError(`bad rate ${JSON.stringify(rate)}`);
  const scale = minorDigits(targetCurrency) - minorDigits(sourceCurrency);
  const exact = new D(sourceMinor).mul(rate).mul(new D(10).pow(scale));
  const rounded = exact.toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toNumber();
  assertAmountMinor(rounded, 'converted amount');
  return rounded;
}

/** amountMinor × bps / 10 000, half-even. */
export function basisPoints(amountMinor: number, bps: number): number {
  assertAmountMinor(amountMinor);
  const result = new D(amountMinor).mul(bps).div(10_000).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toNumber();
  assertAmountMinor(result);
  return result;
}

/** The rate the client gets: mid less the spread. */
export function clientRate(midRate: string, spreadBps: number): string {
  return formatRate(new D(midRate).mul(new D(10_000 - spreadBps).div(10_000)));
}

export function multiplyRates(a: string, b: string): string {
  return formatRate(new D(a).mul(b));
}

export function divideRates(a: string, b: string): string {
  return formatRate(new D(a).div(b));
}
