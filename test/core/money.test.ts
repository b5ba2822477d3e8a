import assert from 'node:assert/strict';
import { decimalToMinor, isCurrency, minorDigits, minorToDecimal } from '../../core/money';

describe('money: ISO 4217 digits and exact decimal conversion', () => {
  it('takes minor-unit digits from the ISO 4217 table, not Intl', () => {
    assert.equal(minorDigits('USD'), 2);
    assert.equal(minorDigits('JPY'), 0);
    assert.equal(minorDigits('KRW'), 0);
    for (const code of ['BHD', 'KWD', 'JOD', 'OMR', 'TND']) assert.equal(minorDigits(code), 3, code);
    assert.equal(minorDigits('CLF'), 4);
    // Intl says 0 for ISK in some runtimes and 2 for IDR; ISO 4217 says ISK 0, IDR 2.
    assert.equal(minorDigits('ISK'), 0);
    assert.equal(minorDigits('IDR'), 2);
  });

  it('rejects unknown and lower-case codes', () => {
    assert.equal(isCurrency('XYZ'), false);
    assert.equal(isCurrency('usd'), false);
    assert.throws(() => minorDigits('XYZ'), /unknown ISO 4217 currency/);
  });

  it('converts decimal strings to minor units exactly, both ways', () => {
    const cases: [string, string, number][] = [
      ['10.50', 'USD', 1050],
      ['0.01', 'USD', 1],
      ['1234', 'JPY', 1234],
      ['1.234', 'KWD', 1234],
      ['0.001', 'BHD', 1],
      ['90071992547409.91', 'USD', 9007199254740991],
    ];
    for (const [decimal, currency, minor] of cases) {
      assert.equal(decimalToMinor(decimal, currency), minor, `${decimal} ${currency}`);
      assert.equal(minorToDecimal(minor, currency), decimal, `${minor} ${currency}`);
    }
    assert.equal(decimalToMinor('10.5', 'USD'), 1050);
    assert.equal(decimalToMinor('10.500', 'USD'), 1050, 'trailing zeros are exact');
    assert.equal(minorToDecimal(-5, 'USD'), '-0.05');
  });

  it('rejects excess precision instead of rounding it away', () => {
    assert.throws(() => decimalToMinor('10.505', 'USD'), /more precision than USD allows/);
    assert.throws(() => decimalToMinor('1.5', 'JPY'), /more precision than JPY allows/);
    assert.throws(() => decimalToMinor('0.0001', 'KWD'), /more precision than KWD allows/);
  });

  it('rejects malformed and unsafe amounts', () => {
    for (const bad of ['', '1e3', '1,00', ' 1', '.5', '1.', 'NaN']) assert.throws(() => decimalToMinor(bad, 'USD'), /not a decimal amount/, bad);
    assert.throws(() => decimalToMinor('90071992547409.92', 'USD'), /safe integer/);
    assert.throws(() => minorToDecimal(0.5, 'USD'), /safe integer/);
  });
});
