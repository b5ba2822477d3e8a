import type { MikroORM } from '@mikro-orm/core';
import { createActivities } from '../activities';
import type { AchOriginator } from '../activities/transfers';
import type { Config } from '../core/config';
import { createAchBankClient } from '../rails/ach/bank-client';
import { createRatesSource } from '../fx/rates';

/** Railyard's own ACH identity at its partner bank (the simulator plays that bank). */
export const ACH_ORIGINATOR: AchOriginator = {
  originRouting: '123456780',
  originName: 'RAILYARD',
  destinationRouting: '123456780',
  destinationName: 'RAILYARD SIM BANK',
  companyName: 'RAILYARD',
  companyId: '1871234567',
};

export function buildActivities(orm: MikroORM, config: Pick<Config, 'BANK_SIM_URL'>) {
  return createActivities({ orm, ach: createAchBankClient(config.BANK_SIM_URL), originator: ACH_ORIGINATOR, rates: createRatesSource() });
}
