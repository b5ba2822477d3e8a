/** `npm run audit:ledger`: prints every ledger invariant violation; exits 1 if there is any. */
import { loadConfig } from '../core/config';
import { openOrm } from '../db/orm';
import { auditLedger } from '../ledger/auditor';

async function main(): Promise<void> {
  const config = loadConfig();
  const orm = await openOrm({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
  try {
    const violations = await auditLedger(orm.em);
    for (const v of violations) console.log(`${v.invariant}\t${v.subject}\t${v.detail}`);
    console.log(violations.length === 0 ? 'ledger audit: no violations' : `ledger audit: ${violations.length} violation(s)`);
    process.exitCode = violations.length === 0 ? 0 : 1;
  } finally {
    await orm.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
