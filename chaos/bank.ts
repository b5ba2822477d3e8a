/**
 * The bank simulator's control API as the chaos run uses it: planting a payout's fault, releasing
 * held payments, and reading back what the bank booked. Calls to the simulator are retried a few
 * times on a network error only (the simulator is never killed; its books live in its memory).
 */
import type { BankFault, Beneficiary } from './schedule';
import type { Rail } from '../core/transfer';

export interface SimPaymentView {
  reference: string;
  rail: string;
  status: 'pending' | 'held' | 'settled' | 'rejected' | 'returned' | 'canceled';
  code: string | null;
  amountMinor: number;
  currency: string;
  correction: { code: string; correctedData: string } | null;
}

export interface SimSubmission {
  rail: string;
  reference: string;
  amountMinor: number;
  status: string;
  duplicate: boolean;
}

/** Statuses a submission gets when the bank booked nothing (the payment never arrived). */
const NOT_BOOKED = new Set(['unavailable', 'rate_limited', 'dropped', 'file_rejected', 'message_rejected']);
/** Booked and not undone: the bank paid (or is paying) it. */
export const PAID_STATUSES = new Set(['pending', 'held', 'settled', 'returned']);

export class Bank {
  constructor(readonly url: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await fetch(this.url + path, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined };
      } catch (err) {
        if (attempt >= 3) throw new Error(`bank simulator ${method} ${path}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** The payout's fault, aimed at its beneficiary alone (each payout has its own account). */
  async plantFault(beneficiary: Beneficiary, fault: BankFault): Promise<void> {
    // A notification of change comes from the simulator's own magic accounts: no rule.
    if (fault.kind === 'noc') return;
    const match = beneficiary.iban ? { iban: beneficiary.iban } : { accountNumber: beneficiary.accountNumber };
    const behavior = fault.kind === 'hold' ? 'hold' : fault.kind;
    const res = await this.call('POST', '/sim/rules', { match, behavior, ...(fault.times ? { times: fault.times } : {}), ...(fault.delayMs !== undefined ? { delayMs: fault.delayMs } : {}) });
    if (res.status !== 201) throw new Error(`the bank simulator refused a ${fault.kind} rule: ${JSON.stringify(res.body)}`);
  }

  async railOutage(rail: Rail, behavior: 'unavailable' | 'rate_limited', times: number): Promise<void> {
    const res = await this.call('POST', '/sim/rules', { match: { rail }, behavior, times, delayMs: 1_000 });
    if (res.status !== 201) throw new Error(`the bank simulator refused an outage rule: ${JSON.stringify(res.body)}`);
  }

  /** The bank is back: every rule cleared. */
  async clearRules(): Promise<void> {
    await this.call('DELETE', '/sim/rules');
  }

  /** True when it released the payment; false when it is not (or no longer) held. */
  async release(reference: string): Promise<boolean> {
    return (await this.call('POST', `/sim/payments/${encodeURIComponent(reference)}/release`)).status === 200;
  }

  /** One payment by its end-to-end reference or trace number, any rail. */
  async payment(reference: string): Promise<SimPaymentView | null> {
    const res = await this.call('GET', `/ach/payments/${encodeURIComponent(reference)}`);
    return res.status === 200 ? (res.body as SimPaymentView) : null;
  }

  async submissions(): Promise<SimSubmission[]> {
    return (await this.call('GET', '/sim/submissions')).body.data as SimSubmission[];
  }

  /** Every reference the bank booked a payment for (whatever became of it since). */
  async bookedReferences(): Promise<string[]> {
    const refs = new Set<string>();
    for (const s of await this.submissions()) if (s.reference && !s.duplicate && !NOT_BOOKED.has(s.status) && !s.status.startsWith('recall_')) refs.add(s.reference);
    return [...refs];
  }
}
