/** What every scenario shares: the stack, the database reader, the action counter, the outcome ledger, the clock. */
import { counterDelta, sumCounter } from './actions';
import type { Stack } from './stack';

export interface CounterReading {
  atMs: number;
  total: number;
  byType: Record<string, number>;
}

export class BenchContext {
  /** transferId → the status it must end in. */
  readonly expected = new Map<string, string>();
  /** Twin workflows that did not complete, and scenario errors: each fails the run. */
  readonly failures: string[] = [];

  constructor(
    readonly stack: Stack,
    readonly quick: boolean,
    /** When the whole run must be done (ms since epoch). */
    readonly deadlineMs: number,
    private readonly startedMs = Date.now(),
  ) {}

  expect(ids: Iterable<string>, status: string): void {
    for (const id of ids) this.expected.set(id, status);
  }

  log(message: string): void {
    console.log(`[bench ${((Date.now() - this.startedMs) / 1000).toFixed(0).padStart(4)} s] ${message}`);
  }

  /** The dev server's `action` counter for the namespace, or undefined on a server the bench did not start. */
  async readCounter(): Promise<CounterReading | undefined> {
    if (!this.stack.temporalMetricsUrl) return undefined;
    const asked = Date.now();
    const text = await (await fetch(this.stack.temporalMetricsUrl)).text();
    const { total, by } = sumCounter(text, 'action', { namespace: this.stack.temporal.options.namespace }, 'action_type');
    // The reading was taken somewhere between asking and answering: the middle is the best guess.
    return { atMs: Math.round((asked + Date.now()) / 2), total, byType: by };
  }

  static delta(before: CounterReading | undefined, after: CounterReading | undefined): { total: number; byType: Record<string, number> } | null {
    if (!before || !after) return null;
    return { total: after.total - before.total, byType: counterDelta(before.byType, after.byType) };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
