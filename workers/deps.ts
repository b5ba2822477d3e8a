import type { MikroORM } from '@mikro-orm/core';
import { createActivities } from '../activities';
import type { AchOriginator } from '../rails/ach/bank-client';
import { createSwiftRail, type SwiftOriginator } from '../rails/swift/rail';
import { createSepaRail, type SepaOriginator } from '../rails/sepa/rail';
import { createInstantRail } from '../rails/instant/rail';
import type { Config } from '../core/config';
import { createRatesSource } from '../fx/rates';
import { createStatementSource } from '../rails/statements';
import { railTiming } from '../core/transfer';
import { createWindowedAchRail, type AchWindowDeps } from '../activities/ach-windows';

/** Railyard's own ACH identity at its partner bank (the simulator plays that bank). */
export const ACH_ORIGINATOR: AchOriginator = {
  originRouting: '123456780',
  originName: 'RAILYARD',
  destinationRouting: '123456780',
  destinationName: 'RAILYARD SIM BANK',
  companyName: 'RAILYARD',
  companyId: '1871234567',
};

/** Railyard's own EUR account for SEPA payments. */
export const SEPA_ORIGINATOR: SepaOriginator = { name: 'Railyard Europe', iban: 'DE02100100100006820101', bic: 'RAILDEFFXXX' };

/** Railyard's own account and BIC for SWIFT payments. */
export const SWIFT_ORIGINATOR: SwiftOriginator = { name: 'Railyard Inc', accountNumber: '1871234567', bic: 'RAILUS33XXX' };

export function buildActivities(orm: MikroORM, config: Pick<Config, 'BANK_SIM_URL'> & Partial<Pick<Config, 'RAIL_TIME' | 'ACH_DEMO_WINDOW_MS'>>) {
  const railTime = config.RAIL_TIME ?? 'demo';
  const achWindows: AchWindowDeps = { orm, baseUrl: config.BANK_SIM_URL, originator: ACH_ORIGINATOR, railTime, demoWindowMs: config.ACH_DEMO_WINDOW_MS ?? 2_000 };
  return createActivities({
    orm,
    achWindows,
    rails: {
      // ACH payouts go out only in window files: the submit step queues the entry.
      ach: createWindowedAchRail(achWindows),
      sepa: createSepaRail(config.BANK_SIM_URL, SEPA_ORIGINATOR),
      sepa_instant: createInstantRail({ baseUrl: config.BANK_SIM_URL, pathPrefix: '/sepa-instant', currency: 'EUR', debtor: SEPA_ORIGINATOR }),
      rtp: createInstantRail({ baseUrl: config.BANK_SIM_URL, pathPrefix: '/rtp', currency: 'USD', debtor: { name: 'Railyard Inc', accountNumber: '1871234567', bic: 'RAILUS33XXX' } }),
      swift: createSwiftRail(config.BANK_SIM_URL, SWIFT_ORIGINATOR),
    },
    achOdfi: ACH_ORIGINATOR.originRouting.slice(0, 8),
    rates: createRatesSource(),
    statements: createStatementSource(config.BANK_SIM_URL),
    railTime,
    matchWindowMs: railTiming(railTime).reconcileWindowMs!,
  });
}
