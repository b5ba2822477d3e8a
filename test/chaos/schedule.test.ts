/** The chaos schedule (chaos/schedule.ts): a pure function of the seed, covering every fault it promises. */
import assert from 'node:assert/strict';
import { isValidIBAN } from 'ibantools';
import { abaChecksumValid } from '../../rails/ach/nacha';
import { BANK_FAULTS, buildSchedule, faultCounts, formatSchedule, seededRandom } from '../../chaos/schedule';

describe('chaos schedule', () => {
  it('is the same for the same seed and differs between seeds', () => {
    assert.deepEqual(formatSchedule(buildSchedule(7, 60)), formatSchedule(buildSchedule(7, 60)));
    assert.notDeepEqual(formatSchedule(buildSchedule(7, 60)), formatSchedule(buildSchedule(8, 60)));
  });

  it('draws numbers in [0, 1) from a seeded generator', () => {
    const next = seededRandom(42);
    const draws = Array.from({ length: 10_000 }, next);
    assert.ok(draws.every((x) => x >= 0 && x < 1));
    assert.deepEqual(Array.from({ length: 5 }, seededRandom(42)), draws.slice(0, 5));
    // Roughly uniform: each tenth of the range gets about a tenth of the draws.
    for (let bucket = 0; bucket < 10; bucket++) {
      const n = draws.filter((x) => Math.floor(x * 10) === bucket).length;
      assert.ok(n > 850 && n < 1150, `bucket ${bucket} got ${n} of 10,000`);
    }
  });

  it('kills every process kind, both workers and both APIs, within the load', () => {
    for (const seed of [1, 7, 11, 12345]) {
      const schedule = buildSchedule(seed, 60);
      const killed = new Set(schedule.events.flatMap((e) => (e.kind === 'kill' ? [e.process] : [])));
      assert.deepEqual([...killed].sort(), ['api-1', 'api-2', 'mariadb', 'temporal', 'worker-1', 'worker-2']);
      assert.ok(schedule.events.every((e) => e.atMs > 0 && e.atMs < schedule.loadMs));
    }
  });

  it('pays on every rail, with and without FX, and plants each bank fault over a few seeds', () => {
    const payouts = [1, 2, 3, 4, 5].flatMap((seed) => buildSchedule(seed, 60).payouts);
    assert.deepEqual([...new Set(payouts.map((p) => p.rail))].sort(), ['ach', 'rtp', 'sepa', 'sepa_instant', 'swift']);
    for (const rail of ['ach', 'rtp', 'sepa', 'sepa_instant', 'swift']) {
      assert.ok(payouts.some((p) => p.rail === rail && p.currency !== p.targetCurrency), `${rail} with FX`);
      if (rail !== 'swift') assert.ok(payouts.some((p) => p.rail === rail && p.currency === p.targetCurrency), `${rail} without FX`);
    }
    const faults = new Set(payouts.flatMap((p) => (p.fault ? [p.fault.kind] : [])));
    assert.deepEqual([...faults].sort(), [...BANK_FAULTS].sort());
    assert.ok(payouts.filter((p) => p.fault?.kind === 'reject_file' || p.fault?.kind === 'noc').every((p) => p.rail === 'ach'));
  });

  it('gives each payout a valid beneficiary account of its own', () => {
    const { payouts } = buildSchedule(7, 200);
    for (const p of payouts) {
      if (p.beneficiary.iban) assert.ok(isValidIBAN(p.beneficiary.iban), p.beneficiary.iban);
      if (p.beneficiary.routingNumber) assert.ok(abaChecksumValid(p.beneficiary.routingNumber));
    }
    const planted = payouts.filter((p) => p.fault && p.fault.kind !== 'noc').map((p) => p.beneficiary.iban ?? p.beneficiary.accountNumber);
    assert.equal(new Set(planted).size, planted.length);
  });

  it('counts what it holds', () => {
    const schedule = buildSchedule(7, 60);
    const counts = faultCounts(schedule);
    assert.equal(counts['kill:worker'] + counts['kill:api'] + counts['kill:temporal'] + counts['kill:mariadb'], schedule.events.filter((e) => e.kind === 'kill').length);
    assert.equal(Object.entries(counts).filter(([k]) => k.startsWith('bank:')).reduce((sum, [, n]) => sum + n, 0), schedule.payouts.filter((p) => p.fault).length);
  });
});
