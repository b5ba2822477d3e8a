/**
 * Each rail's largest payment, from the width of its amount field or its scheme's rule: the limit
 * itself is carried, one minor unit more is refused, and routing never picks a rail whose limit
 * the amount passes.
 */
import assert from 'node:assert/strict';
import { RAIL_CAPABILITIES, RAILS, railAccepts, routeRail, type BeneficiaryKind } from '../../core/transfer';

const REACH: Record<string, { currency: string; country: string; offers: BeneficiaryKind[] }> = {
  ach: { currency: 'USD', country: 'US', offers: ['us_account'] },
  rtp: { currency: 'USD', country: 'US', offers: ['us_account'] },
  sepa: { currency: 'EUR', country: 'DE', offers: ['iban', 'bic'] },
  sepa_instant: { currency: 'EUR', country: 'DE', offers: ['iban', 'bic'] },
  swift: { currency: 'JPY', country: 'JP', offers: ['bic'] },
};

describe('rail amount limits', () => {
  it('names a limit for every rail, each a safe integer', () => {
    for (const rail of RAILS) assert.ok(Number.isSafeInteger(RAIL_CAPABILITIES[rail]?.amountMaxMinor), rail);
  });

  it('holds ACH to the NACHA entry amount field: 10 digits of cents', () => {
    assert.equal(RAIL_CAPABILITIES.ach!.amountMaxMinor, 9_999_999_999);
    assert.equal(String(RAIL_CAPABILITIES.ach!.amountMaxMinor).length, 10);
  });

  for (const rail of RAILS) {
    it(`${rail}: carries its limit, refuses one minor unit more`, () => {
      const { currency, country, offers } = REACH[rail];
      const max = RAIL_CAPABILITIES[rail]!.amountMaxMinor;
      assert.equal(railAccepts(rail, currency, country, offers, max), undefined);
      assert.match(railAccepts(rail, currency, country, offers, max + 1) ?? '', /does not carry amounts above/);
    });
  }

  it('routes an ACH-sized US payout over ACH and nothing larger anywhere', () => {
    assert.equal(routeRail('USD', 'US', ['us_account'], 9_999_999_999), 'ach');
    assert.equal(routeRail('USD', 'US', ['us_account'], 10_000_000_000), undefined);
    assert.equal(routeRail('EUR', 'DE', ['iban'], 100_000_000_000), undefined);
    assert.equal(routeRail('EUR', 'DE', ['iban'], 99_999_999_999), 'sepa');
  });
});
