/**
 * ISO 4217 currencies and exact conversion between minor units and decimal strings.
 * Minor-unit digits come from this table only: `Intl` disagrees with ISO 4217 for several
 * currencies and must never decide how many digits money has.
 */

// Active ISO 4217 codes grouped by minor-unit digits (ISO 4217 amendment list as of 2026).
const DIGITS_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const DIGITS_3 = 'BHD IQD JOD KWD LYD OMR TND';
const DIGITS_4 = 'CLF UYW';
const DIGITS_2 =
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL ' +
  'GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR ' +
  'LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD ' +
  'PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC ' +
  'SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG';

const MINOR_DIGITS: ReadonlyMap<string, number> = new Map([
  ...DIGITS_0.split(' ').map((c): [string, number] => [c, 0]),
  ...DIGITS_2.split(' ').map((c): [string, number] => [c, 2]),
  ...DIGITS_3.split(' ').map((c): [string, number] => [c, 3]),
  ...DIGITS_4.split(' ').map((c): [string, number] => [c, 4]),
]);

/** Every active code, sorted: what the API accepts as a currency. */
export const CURRENCY_CODES: readonly string[] = [...MINOR_DIGITS.keys()].sort();

export function isCurrency(code: unknown): code is string {
  return typeof code === 'string' && MINOR_DIGITS.has(code);
}

export function minorDigits(currency: string): number {
  const digits = MINOR_DIGITS.get(currency);
  if (digits === undefined) throw new RangeError(`unknown ISO 4217 currency: ${JSON.stringify(currency)}`);
  return digits;
}

export function assertAmountMinor(amountMinor: number, what = 'amountMinor'): void {
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`${what} must be a safe integer, got ${amountMinor}`);
}

/**
 * "1234.5" USD → 123450. Trailing zeros beyond the currency's digits are exact and accepted;
 * any other excess precision is rejected, never rounded away.
 */
export function decimalToMinor(decimal: string, currency: string): number {
  const digits = minorDigits(currency);
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(decimal);
  if (!match) throw new RangeError(`not a decimal amount: ${JSON.stringify(decimal)}`);
  const [, sign, whole, fraction = ''] = match;
  const kept = fraction.slice(0, digits);
  const excess = fraction.slice(digits);
  if (/[^0]/.test(excess)) {
    throw new RangeError(`${decimal} has more precision than ${currency} allows (${digits} decimals)`);
  }
  const minorText = (whole + kept.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  const minor = Number(minorText);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`${decimal} ${currency} is beyond the safe integer range`);
  return sign === '-' && minor !== 0 ? -minor : minor;
}

/** 123450 USD → "1234.50"; 5 JPY → "5"; 1 KWD → "0.001". */
export function minorToDecimal(amountMinor: number, currency: string): string {
  assertAmountMinor(amountMinor);
  const digits = minorDigits(currency);
  const negative = amountMinor < 0;
  const text = String(Math.abs(amountMinor)).padStart(digits + 1, '0');
  const whole = text.slice(0, text.length - digits);
  const fraction = text.slice(text.length - digits);
  return (negative ? '-' : '') + (digits === 0 ? whole : `${whole}.${fraction}`);
}
