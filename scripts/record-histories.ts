/**
 * Records the transfer workflow's histories (one JSON file per path in test/histories/paths.ts):
 *   npm run histories:record -- <name> …          a new path, into test/histories/
 *   npm run histories:record -- --out DIR [name …] every path (or these) into DIR, to look at
 * It runs on the test infrastructure: MariaDB (DATABASE_URL, else root@127.0.0.1:3306; a scratch
 * database is created and dropped), the Temporal time-skipping test server and the bank simulator.
 *
 * A kept history is never overwritten: it is the proof that runs recorded before a change still
 * replay (a change to the workflow's commands goes behind `patched()`). Record the new behaviour
 * as a new path beside it; `--overwrite` exists for a workflow that replaces another outright,
 * before anything is deployed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
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
    const args = process.argv.slice(2);
    const outAt = args.indexOf('--out');
    const dir = outAt >= 0 ? path.resolve(args[outAt + 1] ?? '') : path.join(__dirname, '..', 'test', 'histories');
    const overwrite = args.includes('--overwrite');
    const only = args.filter((a, i) => !a.startsWith('--') && (outAt < 0 || i !== outAt + 1));
    mkdirSync(dir, { recursive: true });
    const unknown = only.filter((name) => !PATHS.some((p) => p.name === name));
    if (unknown.length) throw new Error(`no recorded path named ${unknown.join(', ')}`);
    for (const p of PATHS.filter((p) => only.length === 0 || only.includes(p.name))) {
      const file = path.join(dir, `${p.name}.json`);
      if (existsSync(file) && !overwrite) throw new Error(`${path.relative(process.cwd(), file)} is kept: record the new behaviour as a new path (or into --out DIR)`);
      const { input, state } = await p.run(runner);
      if (state.status !== p.status) throw new Error(`path ${p.name} ended ${state.status}, expected ${p.status}`);
      // The CLI writes the history in the proto JSON form that replay reads (and the Temporal UI exports).
      const json = execFileSync(temporal, ['workflow', 'show', '--workflow-id', workflowIdFor(input.transferId), '--output', 'json', '--address', runner.env.address, '--namespace', 'default'], { encoding: 'utf8' });
      const events = (JSON.parse(json) as { events: unknown[] }).events.length;
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
