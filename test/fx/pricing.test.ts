import assert from 'node:assert/strict';
import { basisPoints, clientRate, convertMinor } from '../../fx/pricing';
import { createRatesSource } from '../../fx/rates';
import { priceQuote } from '../../services/fx';
import { decimalToMinor, minorToDecimal } from '../../core/money';

describe('FX pricing', () => {
  it('converts between minor units across currencies with different digits, rounding once half-even', () => {
    assert.equal(convertMinor(10_000, 'USD', 'EUR', '0.921345'), 9_213); // 100.00 × 0.921345 = 92.1345
    assert.equal(convertMinor(10_000, 'USD', 'JPY', '151.375'), 15_138); // 15137.5 → 15138 (half to even)
    assert.equal(convertMinor(10_000, 'USD', 'JPY', '151.385'), 15_138); // 15138.5 → 15138 (half to even)
    assert.equal(convertMinor(1_000, 'JPY', 'USD', '0.0066'), 660); // ¥1000 → 6.60
    assert.equal(convertMinor(10_000, 'USD', 'KWD', '0.30745'), 30_745); // 100.00 → 30.745 KWD
    assert.equal(convertMinor(30_745, 'KWD', 'USD', '3.2525'), 10_000); // 30.745 × 3.2525 = 99.998… → 100.00
  });

  it('takes fees in basis points half-even, and the spread under mid', () => {
    assert.equal(basisPoints(10_000, 25), 25);
    assert.equal(basisPoints(200, 25), 0); // 0.5 → 0 (half to even)
    assert.equal(basisPoints(600, 25), 2); // 1.5 → 2
    assert.equal(clientRate('1.25', 30), '1.24625');
  });

  it('prices a quote whose parts add up exactly', () => {
    const quote = priceQuote(createRatesSource(), { quoteTtlMs: 60_000, spreadBps: 30, feeBps: 25 }, { clientId: 'cl_x', sourceCurrency: 'USD', targetCurrency: 'EUR', sourceAmountMinor: 123_456 }, Date.parse('2026-11-24T12:00:00Z'));
    assert.equal(quote.feeMinor + quote.convertedMinor, quote.sourceAmountMinor);
    assert.equal(quote.targetAmountMinor, convertMinor(quote.convertedMinor, 'USD', 'EUR', quote.rate));
    assert.ok(quote.midTargetAmountMinor >= quote.targetAmountMinor, 'the spread is never negative');
    assert.equal(quote.expiresAt.getTime() - quote.createdAt.getTime(), 60_000);
  });

  it('drifts rates over time, within a realistic band', () => {
    const rates = createRatesSource();
    const t0 = Date.parse('2026-11-24T12:00:00Z');
    const r0 = Number(rates.midRate('USD', 'EUR', t0));
    const r1 = Number(rates.midRate('USD', 'EUR', t0 + 3_600_000));
    assert.notEqual(r0, r1);
    assert.ok(Math.abs(r1 / r0 - 1) < 0.02);
    assert.ok(Math.abs(r0 / 0.9213 - 1) < 0.01);
  });

  it('round-trips JPY and 3-decimal currencies exactly between bank decimals and minor units', () => {
    for (const [decimal, currency] of [['15138', 'JPY'], ['30.745', 'KWD'], ['0.001', 'BHD'], ['1234.567', 'TND'], ['7.5', 'OMR']] as const) {
      const minor = decimalToMinor(decimal, currency);
      assert.equal(decimalToMinor(minorToDecimal(minor, currency), currency), minor);
    }
  });

  it('refuses a quote that converts to less than one minor unit', () => {
    const cheap = { midRate: () => '0.004' };
    assert.throws(
      () => priceQuote(cheap, { quoteTtlMs: 60_000, spreadBps: 30, feeBps: 25 }, { clientId: 'c', sourceCurrency: 'JPY', targetCurrency: 'USD', sourceAmountMinor: 1 }, Date.now()),
      /less than one minor unit of USD/,
    );
  });
});
