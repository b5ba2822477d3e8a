/**
 * Re-records the transfer workflow's histories under test/histories/ (one JSON file per path in
 * test/histories/paths.ts):
 *   npm run histories:record
 *   npm run histories:record -- <name> …   (only these paths: a new path is recorded alone, the
 *                                           kept histories of the others stay as they were)
 * It runs on the test infrastructure: MariaDB (DATABASE_URL, else root@127.0.0.1:3306; a scratch
 * database is created and dropped), the Temporal time-skipping test server and the bank simulator.
 * Re-record after a deliberate change to the workflow's commands (made behind `patched()`), and
 * commit the files with it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { workflowIdFor } from '../core/transfer';
import { findBinary } from '../devtools/temporal';
import { PATHS } from '../test/histories/paths';
import { mochaGlobalTeardown } from '../test/support/global';
import { transferRunner } from '../test/support/workflow-runner';

async function main(): Promise<void> {
  const temporal = findBinary('temporal');
  if (!temporal) throw new Error('the temporal CLI is missing: run scripts/bootstrap-tools.sh');
  const runner = await transferRunner();
  try {
    const only = process.argv.slice(2);
    const unknown = only.filter((name) => !PATHS.some((p) => p.name === name));
    if (unknown.length) throw new Error(`no recorded path named ${unknown.join(', ')}`);
    for (const p of PATHS.filter((p) => only.length === 0 || only.includes(p.name))) {
      const { input, state } = await p.run(runner);
      if (state.status !== p.status) throw new Error(`path ${p.name} ended ${state.status}, expected ${p.status}`);
      // The CLI writes the history in the proto JSON form that replay reads (and the Temporal UI exports).
      const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', workflowIdFor(input.transferId), '--output', 'json', '--address', runner.env.address, '--namespace', 'default'], { encoding: 'utf8' });
      const events = (JSON.parse(json) as { events: unknown[] }).events.length;
      const file = path.join(__dirname, '..', 'test', 'histories', `${p.name}.json`);
      writeFileSync(file, json.endsWith('\n') ? json : `${json}\n`);
      console.log(`${p.name}: ${state.status}, ${events} events → ${path.relative(process.cwd(), file)}`);
    }
  } finally {
    await mochaGlobalTeardown();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
