import { loadConfig } from '../core/config';
import { createBankSim } from './sim';

const config = loadConfig();
const { app } = createBankSim({ settlementDelayMs: config.BANK_SIM_SETTLEMENT_DELAY_MS, railTime: config.RAIL_TIME });
const server = app.listen(config.BANK_SIM_PORT, config.HOST, () => {
  const pace = config.RAIL_TIME === 'real' ? 'settling on the rails\' calendars' : `a settlement day lasting ${config.BANK_SIM_SETTLEMENT_DELAY_MS} ms`;
  console.log(`bank simulator listening on http://${config.HOST}:${config.BANK_SIM_PORT} (RAIL_TIME=${config.RAIL_TIME}, ${pace})`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
