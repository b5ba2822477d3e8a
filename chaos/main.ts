/**
 * `npm run chaos -- --seed S [--transfers N] [--keep]`: one seeded fault simulation of the whole
 * deployment (chaos/runner.ts). Prints the seed, the schedule, what happened, and one verdict line
 * last; exits 0 on PASS, 1 on FAIL. The same seed plays the same schedule.
 */
import { runChaos } from './runner';
import { stopEverything } from './topology';

function parseArgs(argv: string[]): { seed: number; transfers: number; keep: boolean } {
  const args = { seed: NaN, transfers: 60, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    if (name === '--seed') args.seed = Number(value());
    else if (name === '--transfers') args.transfers = Number(value());
    else if (name === '--keep') args.keep = true;
    else throw new Error(`unknown argument ${argv[i]}: use --seed S [--transfers N] [--keep]`);
  }
  if (!Number.isSafeInteger(args.seed) || args.seed < 0 || args.seed > 0xffffffff) throw new Error('--seed must be an integer from 0 to 4294967295');
  if (!Number.isSafeInteger(args.transfers) || args.transfers < 1 || args.transfers > 2_000) throw new Error('--transfers must be an integer from 1 to 2000');
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`VERDICT seed=${args.seed} FAIL: interrupted by ${signal}`);
      void stopEverything().finally(() => process.exit(1));
    });
  }
  const result = await runChaos(args);
  console.log(result.verdict);
  process.exit(result.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
