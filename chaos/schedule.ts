/**
 * The seeded schedule of a chaos run: which payouts the client sends and when, which bank fault each
 * meets, which process is killed at which moment and for how long, and when a client or an
 * operator acts on a transfer. Pure: the same seed and payout count give the same schedule, byte
 * for byte, so a failing seed reproduces (the timing of the real processes around it does not, and
 * need not: the schedule is what the seed fixes).
 */
import type { Rail } from '../core/transfer';

/** sfc32, seeded through splitmix32: small, fast, and the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  const split = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = split();
  let b = split();
  let c = split();
  let d = split();
  return () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4_294_967_296;
  };
}

export class Dice {
  constructor(private readonly next: () => number) {}
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

export const PROCESS_KINDS = ['worker', 'api', 'temporal', 'mariadb'] as const;
export type ProcessName = 'worker-1' | 'worker-2' | 'api-1' | 'api-2' | 'temporal' | 'mariadb';

export const BANK_FAULTS = ['unavailable', 'rate_limited', 'timeout_after_accept', 'timeout_before_accept', 'hold', 'reject', 'reject_file', 'return_after_settlement', 'noc'] as const;
export type BankFaultKind = (typeof BANK_FAULTS)[number];

export interface BankFault {
  kind: BankFaultKind;
  /** How many requests the rule answers that way before the bank behaves again. */
  times?: number;
  /** return_after_settlement: how long after settlement; rate_limited: the Retry-After. */
  delayMs?: number;
  /** hold: when (after the payout is sent) the bank releases it. */
  releaseAfterMs?: number;
}

export interface Beneficiary {
  name: string;
  country: string;
  accountNumber?: string;
  routingNumber?: string;
  iban?: string;
  bic?: string;
}

export interface PayoutPlan {
  index: number;
  /** When the client sends it, from the start of the load. */
  atMs: number;
  client: number;
  rail: Rail;
  currency: string;
  targetCurrency: string;
  /** Cross-currency at a quote the client asked for first (else at a live rate). */
  withQuote: boolean;
  amountMinor: number;
  beneficiary: Beneficiary;
  fault: BankFault | null;
  /** The client cancels this long after its payout was accepted. */
  clientCancelAfterMs: number | null;
  /** An operator cancels, or asks for a retry, this long after the payout was accepted. */
  operatorCancelAfterMs: number | null;
  operatorRetryAfterMs: number | null;
}

export type ChaosEvent =
  | { atMs: number; kind: 'kill'; process: ProcessName; downMs: number; midRequest: boolean }
  | { atMs: number; kind: 'rail_outage'; rail: Rail; behavior: 'unavailable' | 'rate_limited'; times: number };

export interface ClientPlan {
  name: string;
  /** Deposited before the load, per currency. */
  depositsMinor: Record<string, number>;
}

export interface Schedule {
  seed: number;
  loadMs: number;
  clients: ClientPlan[];
  payouts: PayoutPlan[];
  events: ChaosEvent[];
}

const US_ROUTING = '110000000';
/** The NACHA entry detail record's amount field: 10 digits of cents. */
const ACH_ENTRY_AMOUNT_MAX_MINOR = 9_999_999_999;
/** The simulator's accounts that settle and then send a notification of change (banksim MAGIC_CORRECTIONS). */
const NOC_ACCOUNTS = ['000666666668', '000777777771', '000888888885'];

/** ISO 13616 check digits over a country code and a BBAN. */
export function ibanOf(country: string, bban: string): string {
  const digits = (bban + country + '00').replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rest = 0;
  for (const ch of digits) rest = (rest * 10 + Number(ch)) % 97;
  return `${country}${String(98 - rest).padStart(2, '0')}${bban}`;
}

/** A beneficiary of its own per payout, so a bank rule can aim at exactly one payout. */
function beneficiaryFor(rail: Rail, index: number, targetCurrency: string, fault: BankFault | null): Beneficiary {
  const serial = String(index).padStart(6, '0');
  if (rail === 'ach' || rail === 'rtp') {
    const accountNumber = fault?.kind === 'noc' ? NOC_ACCOUNTS[index % NOC_ACCOUNTS.length] : `7100${serial}21`;
    return { name: `Payee ${index}`, country: 'US', accountNumber, routingNumber: US_ROUTING };
  }
  if (rail === 'sepa' || rail === 'sepa_instant') return { name: `Payee ${index}`, country: 'DE', iban: ibanOf('DE', `370400440${serial}000`), bic: 'COBADEFFXXX' };
  // SWIFT: a yen account by number in Japan, else an IBAN in the United Kingdom.
  if (targetCurrency === 'JPY') return { name: `Payee ${index}`, country: 'JP', accountNumber: `8${serial}`, bic: 'BOTKJPJTXXX' };
  return { name: `Payee ${index}`, country: 'GB', iban: ibanOf('GB', `NWBK601613${serial}55`), bic: 'NWBKGB2LXXX' };
}

function faultFor(dice: Dice, rail: Rail): BankFault | null {
  if (!dice.chance(0.4)) return null;
  const kinds = BANK_FAULTS.filter((k) => (k !== 'reject_file' && k !== 'noc') || rail === 'ach');
  const kind = dice.pick(kinds);
  switch (kind) {
    case 'unavailable':
      return { kind, times: dice.int(1, 3) };
    case 'rate_limited':
      return { kind, times: dice.int(1, 2), delayMs: dice.int(1, 3) * 1000 };
    case 'hold':
      return { kind, times: 1, releaseAfterMs: dice.int(2_000, 12_000) };
    case 'return_after_settlement':
      return { kind, times: 1, delayMs: dice.int(500, 5_000) };
    case 'noc':
      return { kind };
    default:
      return { kind, times: 1 };
  }
}

const RAIL_CURRENCY: Record<Rail, string> = { ach: 'USD', rtp: 'USD', sepa: 'EUR', sepa_instant: 'EUR', swift: 'GBP' };

export function buildSchedule(seed: number, transfers: number): Schedule {
  const dice = new Dice(seededRandom(seed));
  // About two payouts a second: enough to overlap every crash with requests in flight.
  const loadMs = Math.max(15_000, transfers * 450);
  const clients: ClientPlan[] = [
    { name: 'Chaos Marketplace', depositsMinor: { USD: 1_000_000_000, EUR: 1_000_000_000 } },
    { name: 'Chaos Payroll', depositsMinor: { USD: 1_000_000_000, EUR: 1_000_000_000 } },
    // Spends more than it holds: some of its payouts are refused with 402.
    { name: 'Chaos Small Shop', depositsMinor: { USD: 1_500_000, EUR: 1_500_000 } },
    // Rich enough for an ACH payout beyond the NACHA entry's 10-digit amount field.
    { name: 'Chaos Treasury', depositsMinor: { USD: 100_000_000_000 } },
  ];
  const rails: Rail[] = ['ach', 'sepa', 'sepa_instant', 'swift', 'rtp'];
  const payouts: PayoutPlan[] = [];
  for (let index = 0; index < transfers; index++) {
    const rail = rails[index % rails.length] === 'swift' || dice.chance(0.2) ? dice.pick(rails) : rails[index % rails.length];
    let targetCurrency = RAIL_CURRENCY[rail];
    if (rail === 'swift') targetCurrency = dice.pick(['GBP', 'JPY', 'EUR', 'GBP']);
    const fx = rail === 'swift' ? targetCurrency !== 'EUR' || dice.chance(0.5) : dice.chance(0.3);
    const currency = fx ? (targetCurrency === 'USD' ? 'EUR' : dice.pick(['USD', 'EUR'].filter((c) => c !== targetCurrency))) : targetCurrency;
    const fault = faultFor(dice, rail);
    const client = dice.chance(0.15) ? 2 : dice.int(0, 1);
    const acted = dice.int(0, 99);
    payouts.push({
      index,
      atMs: Math.floor((index * loadMs) / transfers) + dice.int(0, 300),
      client,
      rail,
      currency,
      targetCurrency,
      withQuote: fx && dice.chance(0.5),
      amountMinor: client === 2 ? dice.int(100_000, 600_000) : dice.int(1_000, 2_500_000),
      beneficiary: beneficiaryFor(rail, index, targetCurrency, fault),
      fault,
      clientCancelAfterMs: acted < 10 ? dice.int(0, 2_500) : null,
      operatorCancelAfterMs: acted >= 10 && acted < 15 ? dice.int(0, 4_000) : null,
      operatorRetryAfterMs: acted >= 15 && acted < 25 ? dice.int(0, 6_000) : null,
    });
  }

  const events: ChaosEvent[] = [];
  const at = () => dice.int(Math.floor(loadMs * 0.1), Math.floor(loadMs * 0.9));
  // Every process kind dies at least once: two workers, two APIs, the Temporal server, the database.
  for (const process of ['worker-1', 'worker-2', dice.pick(['worker-1', 'worker-2'] as const)] as const) events.push({ atMs: at(), kind: 'kill', process, downMs: dice.int(500, 6_000), midRequest: false });
  for (const process of ['api-1', 'api-2', dice.pick(['api-1', 'api-2'] as const)] as const) events.push({ atMs: at(), kind: 'kill', process, downMs: dice.int(500, 4_000), midRequest: dice.chance(0.7) });
  events.push({ atMs: at(), kind: 'kill', process: 'temporal', downMs: dice.int(1_000, 5_000), midRequest: false });
  events.push({ atMs: at(), kind: 'kill', process: 'mariadb', downMs: dice.int(1_000, 5_000), midRequest: false });
  for (let i = dice.int(1, 2); i > 0; i--) events.push({ atMs: at(), kind: 'rail_outage', rail: dice.pick(rails), behavior: dice.pick(['unavailable', 'rate_limited'] as const), times: dice.int(2, 4) });
  events.sort((a, b) => a.atMs - b.atMs);

  // Now and then one ACH payout above 99,999,999.99 USD, the most a NACHA entry's amount field
  // holds: the API must refuse it, or it must go out without poisoning its window's file. Drawn
  // from a stream of its own, so it leaves the rest of the seed's schedule as it was.
  const whale = new Dice(seededRandom(seed ^ 0x5eed5eed));
  if (whale.chance(0.3)) {
    const index = payouts.length;
    payouts.push({
      index,
      atMs: whale.int(0, loadMs),
      client: clients.length - 1,
      rail: 'ach',
      currency: 'USD',
      targetCurrency: 'USD',
      withQuote: false,
      amountMinor: whale.int(10_000_000_000, 50_000_000_000),
      beneficiary: beneficiaryFor('ach', index, 'USD', null),
      fault: null,
      clientCancelAfterMs: null,
      operatorCancelAfterMs: null,
      operatorRetryAfterMs: null,
    });
  }
  return { seed, loadMs, clients, payouts, events };
}

/** What the schedule holds, counted: the line a run's report lists per seed. */
export function faultCounts(schedule: Schedule): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (name: string) => (counts[name] = (counts[name] ?? 0) + 1);
  for (const e of schedule.events) add(e.kind === 'kill' ? `kill:${e.process.replace(/-\d$/, '')}` : `outage:${e.behavior}`);
  for (const p of schedule.payouts) {
    if (p.fault) add(`bank:${p.fault.kind}`);
    if (p.clientCancelAfterMs !== null) add('client_cancel');
    if (p.operatorCancelAfterMs !== null) add('operator_cancel');
    if (p.operatorRetryAfterMs !== null) add('operator_retry');
    if (p.rail === 'ach' && p.amountMinor > ACH_ENTRY_AMOUNT_MAX_MINOR) add('ach_oversized');
  }
  return counts;
}

/** The schedule as people read it: one line per event and per payout. */
export function formatSchedule(schedule: Schedule): string[] {
  const lines = [`schedule: ${schedule.payouts.length} payouts over ${schedule.loadMs} ms, ${schedule.events.length} process and rail events`];
  for (const e of schedule.events) {
    lines.push(
      e.kind === 'kill'
        ? `  t+${e.atMs}ms kill -9 ${e.process}${e.midRequest ? ' (mid-request)' : ''}, restart after ${e.downMs} ms`
        : `  t+${e.atMs}ms ${e.rail} ${e.behavior} for the next ${e.times} requests`,
    );
  }
  for (const p of schedule.payouts) {
    const fx = p.currency === p.targetCurrency ? p.currency : `${p.currency}->${p.targetCurrency}${p.withQuote ? ' quoted' : ' live'}`;
    const fault = p.fault ? ` bank:${p.fault.kind}${p.fault.times ? `x${p.fault.times}` : ''}${p.fault.releaseAfterMs ? ` release+${p.fault.releaseAfterMs}ms` : ''}${p.fault.delayMs ? ` delay ${p.fault.delayMs}ms` : ''}` : '';
    const acts = [
      p.clientCancelAfterMs !== null ? ` client-cancel+${p.clientCancelAfterMs}ms` : '',
      p.operatorCancelAfterMs !== null ? ` ops-cancel+${p.operatorCancelAfterMs}ms` : '',
      p.operatorRetryAfterMs !== null ? ` ops-retry+${p.operatorRetryAfterMs}ms` : '',
    ].join('');
    lines.push(`  t+${p.atMs}ms payout #${p.index} client ${p.client} ${p.rail} ${p.amountMinor} ${fx}${fault}${acts}${p.amountMinor > ACH_ENTRY_AMOUNT_MAX_MINOR && p.rail === 'ach' ? ' (beyond the NACHA entry amount field)' : ''}`);
  }
  return lines;
}
