import { loadConfig } from '../core/config';
import { createBankSim } from './sim';

const config = loadConfig();
const settlementDelayMs = config.RAIL_TIME === 'demo' ? config.BANK_SIM_SETTLEMENT_DELAY_MS : 24 * 3600 * 1000;
// SWIFT charges of 0.10% on every wire: deducted on the way under SHA and BEN, debited to Railyard on top under OUR.
const { app } = createBankSim({ settlementDelayMs, swiftChargeBps: 10 });
const server = app.listen(config.BANK_SIM_PORT, config.HOST, () => {
  console.log(`bank simulator listening on http://${config.HOST}:${config.BANK_SIM_PORT} (settlement after ${settlementDelayMs} ms)`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
