import { loadConfig } from '../core/config';
import { createBankSim } from './sim';

const config = loadConfig();
// SWIFT charges of 0.10% on every wire: deducted on the way under SHA and BEN, debited to Railyard on top under OUR.
const { app } = createBankSim({ settlementDelayMs: config.BANK_SIM_SETTLEMENT_DELAY_MS, railTime: config.RAIL_TIME, swiftChargeBps: 10 });
const server = app.listen(config.BANK_SIM_PORT, config.HOST, () => {
  const pace = config.RAIL_TIME === 'real' ? 'settling on the rails\' calendars' : `a settlement day lasting ${config.BANK_SIM_SETTLEMENT_DELAY_MS} ms`;
  console.log(`bank simulator listening on http://${config.HOST}:${config.BANK_SIM_PORT} (RAIL_TIME=${config.RAIL_TIME}, ${pace})`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
