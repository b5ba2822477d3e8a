/**
 * Payments sent to the bank simulator over HTTP in the rails' own formats, and its outbox read
 * back: for the outbox and bank inbox tests.
 */
import { randomBytes } from 'node:crypto';
import { buildCreditFile, emitNacha } from '../../rails/ach/nacha';
import { buildPacs008, uetrFor } from '../../rails/iso20022/messages';
import { buildPain001 } from '../../rails/iso20022/pain';
import { buildCamt056 } from '../../rails/iso20022/recall';

export const IBAN = 'DE89370400440532013000';
export const ROUTING = '021000021';

/** A fresh end-to-end reference (35 characters at most). */
export const newReference = (prefix = 'E2E') => `${prefix}-${randomBytes(8).toString('hex')}`;

async function post(url: string, body: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/xml' } });
  return { status: res.status, body: await res.text() };
}

export function payIso(bankUrl: string, rail: 'rtp' | 'swift' | 'sepa_instant', reference: string, amountMinor: number, account = '000123456789') {
  const currency = rail === 'rtp' ? 'USD' : 'EUR';
  const creditor = rail === 'rtp' ? { name: 'Ada Payee', accountNumber: account, routingNumber: ROUTING, country: 'US' } : rail === 'swift' ? { name: 'Ada Payee', iban: account.startsWith('DE') ? account : IBAN, bic: 'DEUTDEFFXXX', country: 'DE' } : { name: 'Ada Payee', iban: account.startsWith('DE') ? account : IBAN, country: 'DE' };
  const xml = buildPacs008({
    messageId: `MSG-${reference}`.slice(0, 35),
    createdAt: new Date(),
    endToEndId: reference,
    uetr: uetrFor(reference),
    amountMinor,
    currency,
    settlementDate: new Date().toISOString().slice(0, 10),
    chargeBearer: 'SHA',
    debtor: { name: 'Railyard', accountNumber: '9876543210', bic: 'RAILUS33XXX' },
    creditor,
  });
  const path = rail === 'rtp' ? '/rtp/pacs008' : rail === 'swift' ? '/swift/pacs008' : '/sepa-instant/pacs008';
  return post(`${bankUrl}${path}`, xml);
}

export function paySepa(bankUrl: string, reference: string, amountMinor: number, iban = IBAN) {
  const xml = buildPain001({
    messageId: `MSG-${reference}`.slice(0, 35),
    createdAt: new Date(),
    endToEndId: reference,
    amountMinor,
    currency: 'EUR',
    executionDate: new Date().toISOString().slice(0, 10),
    debtor: { name: 'Railyard', iban: 'DE02120300000000202051', bic: 'BYLADEM1001' },
    creditor: { name: 'Ada Payee', iban },
  });
  return post(`${bankUrl}/sepa/pain001`, xml);
}

export function recallSepa(bankUrl: string, reference: string, amountMinor: number) {
  return post(
    `${bankUrl}/sepa/camt056`,
    buildCamt056({ cancellationId: `CXL-${reference}`.slice(0, 35), createdAt: new Date(), assignerBic: 'BYLADEM1001', assigneeBic: 'DEUTDEFFXXX', originalMessageId: `MSG-${reference}`.slice(0, 35), originalMessageName: 'pain.001.001.10', originalEndToEndId: reference, amountMinor, currency: 'EUR', reason: 'CUST' }),
  );
}

let fileCount = 0;
/** One ACH file of credits; returns each entry's trace number (ODFI 02100002, then a sequence). */
export async function payAch(bankUrl: string, entries: { accountNumber: string; amountMinor: number }[]) {
  const seq = Date.now() % 1_000_000;
  const traces = entries.map((_, i) => `02100002${String((seq * 10 + i) % 10_000_000).padStart(7, '0')}`);
  const createdAt = new Date(Date.now() + fileCount++ * 60_000);
  const file = buildCreditFile({
    originRouting: ROUTING,
    originName: 'RAILYARD BANK',
    destinationRouting: '091000019',
    destinationName: 'FED',
    companyName: 'RAILYARD',
    companyId: '1234567890',
    entryClass: 'PPD',
    entryDescription: 'PAYOUT',
    createdAt,
    effectiveDate: createdAt,
    fileIdModifier: 'A',
    entries: entries.map((e, i) => ({ transactionCode: '22', routingNumber: ROUTING, accountNumber: e.accountNumber, amountMinor: e.amountMinor, individualId: `ID${i}`, individualName: 'ADA PAYEE', traceNumber: traces[i] })),
  });
  const res = await fetch(`${bankUrl}/ach/files`, { method: 'POST', body: emitNacha(file) });
  return { status: res.status, traces, body: (await res.json()) as unknown };
}

export interface OutboxItem {
  id: string;
  rail: string;
  type: string;
  createdAt: string;
  raw: string;
  cursor: string;
}

export async function readOutbox(bankUrl: string, query: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${bankUrl}/sim/outbox?${new URLSearchParams(query)}`);
  return { status: res.status, body: await res.json() };
}

/** Every message of the outbox (of `rail`), page by page. */
export async function wholeOutbox(bankUrl: string, rail?: string): Promise<OutboxItem[]> {
  const all: OutboxItem[] = [];
  let after: string | undefined;
  for (;;) {
    const { body } = await readOutbox(bankUrl, { ...(rail ? { rail } : {}), ...(after ? { after } : {}), limit: '500' });
    all.push(...body.data);
    if (body.data.length < 500) return all;
    after = body.next;
  }
}

/** Waits (at most `timeoutMs`) until `check` returns a value. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
