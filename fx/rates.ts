/**
 * The rates source: mid-market rates that drift over time the way real ones do (a few basis points a
 * minute, a fraction of a percent over hours), quoted against USD. The drift is a deterministic
 * function of time, so a test clock gives repeatable rates and two processes agree.
 */
import { divideRates, multiplyRates } from './pricing';

/** Units of each currency per 1 USD: the anchor around which rates drift. */
const USD_ANCHORS: Record<string, string> = {
  USD: '1',
  EUR: '0.9213',
  GBP: '0.7862',
  JPY: '151.37',
  CHF: '0.8841',
  CAD: '1.3655',
  AUD: '1.5198',
  SGD: '1.3421',
  MXN: '17.0432',
  KWD: '0.30745',
  BHD: '0.37604',
  JOD: '0.70901',
  OMR: '0.38499',
  TND: '3.1120',
};

export const FX_CURRENCIES = Object.keys(USD_ANCHORS);

export class UnsupportedPairError extends Error {}

export interface RatesSource {
  /** Mid-market rate: units of `target` per unit of `source`, as a decimal string. */
  midRate(source: string, target: string, atMs: number): string;
}

/** A market-movement factor near 1, as a decimal string with 8 places (simulated market data, not money). */
function drift(currency: string, atMs: number): string {
  if (currency === 'USD') return '1';
  // Two slow waves with a per-currency phase: at most ±0.6 %, a few bps per minute.
  let phase = 0;
  for (const ch of currency) phase = (phase * 31 + ch.charCodeAt(0)) % 997;
  const hours = atMs / 3_600_000;
  const factor = 1 + 0.004 * Math.sin((2 * Math.PI * hours) / 7 + phase) + 0.002 * Math.sin((2 * Math.PI * hours) / 0.9 + phase / 3);
  return String(Math.round(factor * 1e8) / 1e8);
}

export function createRatesSource(): RatesSource {
  return {
    midRate(source, target, atMs) {
      const s = USD_ANCHORS[source];
      const t = USD_ANCHORS[target];
      if (!s || !t) throw new UnsupportedPairError(`no rates for ${source}/${target}`);
      if (source === target) throw new UnsupportedPairError(`${source}/${target} is not a currency pair`);
      return divideRates(multiplyRates(t, drift(target, atMs)), multiplyRates(s, drift(source, atMs)));
    },
  };
}
