/**
 * What the simulated bank sends on its own, per rail and event, written into its outbox
 * (banksim/outbox.ts) in the rail's format. The simulator calls one function per event of its
 * books; docs/bank-inboxes.md has the table of events, messages and what Railyard routes them to.
 *
 *   received      ISO rails: pacs.002 ACSP (pain.002 ACTC on SEPA), PDNG when held, RJCT with the
 *                 code when refused; an instant rail that settles at once sends ACCC only.
 *   ACH file      one acknowledgment per file taken or refused, every entry's fate by trace number.
 *   settled       every rail: a camt.054 debit notification of what the bank booked; ISO rails
 *                 also pacs.002 ACCC (pain.002 ACSC on SEPA); an ACH entry with a change: a COR file.
 *   returned      ACH: a NACHA return file (R-code); ISO rails: pacs.004.
 *   recall        SEPA: the camt.029 answer, as given to the camt.056.
 *   statements    a camt.053 per rail account whose day has new entries (see statementsDue).
 */
import { buildPacs002 } from '../rails/iso20022/messages';
import { buildPain002 } from '../rails/iso20022/pain';
import { buildPacs004 } from '../rails/iso20022/pacs004';
import { buildCamt054 } from '../rails/iso20022/camt054';
import { buildCamt053, type AccountStatement, type StatementEntry } from '../rails/iso20022/camt053';
import { buildAchAck, type AchFileAck } from '../rails/ach/acknowledgment';
import { buildReturnFile } from '../rails/ach/return-file';
import { railAccountOf } from '../rails/statements';
import type { Outbox } from './outbox';
import type { SimPayment } from './sim';

/** The ISO 20022 message each rail's payment arrived in (for the original message name in answers). */
const ORIGINAL_MESSAGE: Record<string, string> = { sepa: 'pain.001.001.10', sepa_instant: 'pacs.008.001.09', swift: 'pacs.008.001.09', rtp: 'pacs.008.001.09' };

/** The rail account the bank books Railyard's payments on, as its statements name it. */
export const railAccountId = (rail: string, currency: string) => `RAILYARD-${rail.toUpperCase()}-${currency}`;

/** Where an ACH entry came from, kept by the simulator for the return and COR files it sends back. */
export interface AchOrigin {
  odfiRouting: string;
  companyName: string;
  companyId: string;
}

export interface BankMessageDeps {
  outbox: Outbox;
  now: () => number;
  uetrOf: (reference: string) => string | undefined;
  achOriginOf: (reference: string) => AchOrigin | undefined;
  /** How the bank books a payment's settlement on Railyard's account (amount, charges), as its statement does. */
  debitEntryOf: (p: SimPayment) => Omit<StatementEntry, 'bookingDate'>;
  /** The day's statements (every rail account), as GET /sim/statements answers them. */
  statementsOn: (date: string) => AccountStatement[];
  /** How often at most the bank sends a grown statement of the same day. */
  statementIntervalMs: number;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function createBankMessages(deps: BankMessageDeps) {
  const { outbox, now } = deps;

  function isoStatus(p: SimPayment, status: 'ACSP' | 'ACCC' | 'RJCT' | 'PDNG', atMs: number): void {
    if (p.rail === 'ach') return;
    if (p.rail === 'sepa') {
      const painStatus = ({ ACSP: 'ACTC', ACCC: 'ACSC', RJCT: 'RJCT', PDNG: 'PDNG' } as const)[status];
      outbox.push(p.rail, 'pain.002', atMs, (id) => buildPain002({ messageId: id, createdAt: new Date(atMs), originalMessageId: p.reference, endToEndId: p.reference, status: painStatus, reasonCode: status === 'RJCT' ? (p.code ?? undefined) : undefined }));
      return;
    }
    outbox.push(p.rail, 'pacs.002', atMs, (id) =>
      buildPacs002({ messageId: id, createdAt: new Date(atMs), originalMessageId: p.reference, endToEndId: p.reference, uetr: deps.uetrOf(p.reference) ?? '', status, reasonCode: status === 'RJCT' ? (p.code ?? undefined) : undefined }),
    );
  }

  /** A payment just booked (or refused) from an ISO message. */
  function received(p: SimPayment): void {
    if (p.status === 'rejected') return isoStatus(p, 'RJCT', p.receivedAtMs);
    if (p.status === 'held') return isoStatus(p, 'PDNG', p.receivedAtMs);
    // An instant rail settles on the spot: its only status is the ACCC that settlement sends.
    if (p.settleAtMs !== null && p.settleAtMs <= p.receivedAtMs) return;
    isoStatus(p, 'ACSP', p.receivedAtMs);
  }

  function achFileAnswered(ack: Omit<AchFileAck, 'type' | 'id' | 'createdAt'>): void {
    const at = now();
    outbox.push('ach', 'ach.file_ack', at, (id) => buildAchAck({ id, createdAt: new Date(at).toISOString(), ...ack }));
  }

  function settled(p: SimPayment): void {
    const at = p.settledAtMs ?? now();
    isoStatus(p, 'ACCC', at);
    outbox.push(p.rail, 'camt.054', at, (id) =>
      buildCamt054({ messageId: id, createdAt: new Date(at), id: `NTFCTN-${id}`.slice(0, 35), accountId: railAccountId(p.rail, p.currency), currency: p.currency, entries: [{ ...deps.debitEntryOf(p), bookingDate: day(at) }] }),
    );
    if (p.rail === 'ach' && p.correction) achReturnFile(p, 'correction', p.correction.code, at);
  }

  function returned(p: SimPayment): void {
    const at = p.returnedAtMs ?? now();
    if (p.rail === 'ach') return achReturnFile(p, 'return', p.code ?? 'R01', at);
    outbox.push(p.rail, 'pacs.004', at, (id) =>
      buildPacs004({ messageId: id, createdAt: new Date(at), originalMessageId: p.reference, originalMessageName: ORIGINAL_MESSAGE[p.rail] ?? 'pacs.008.001.09', endToEndId: p.reference, returnedAmountMinor: p.amountMinor, currency: p.currency, settlementDate: day(at), reasonCode: p.code ?? 'NARR' }),
    );
  }

  let fileSeq = 0;
  function achReturnFile(p: SimPayment, kind: 'return' | 'correction', code: string, at: number): void {
    const origin = deps.achOriginOf(p.reference) ?? { odfiRouting: '021000021', companyName: 'RAILYARD', companyId: '1234567890' };
    // File ID Modifiers A–Z then 0–9: a new identity for every file the bank sends in the same minute.
    const modifier = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'[fileSeq++ % 36];
    outbox.push('ach', 'nacha.return', at, () =>
      buildReturnFile({
        rdfiRouting: p.routingNumber,
        odfiRouting: origin.odfiRouting,
        createdAt: new Date(at),
        fileIdModifier: modifier,
        companyName: origin.companyName,
        companyId: origin.companyId,
        entries: [{ kind, code, originalTraceNumber: p.reference.slice(0, 15), originalRoutingNumber: p.routingNumber, accountNumber: p.accountNumber, individualName: p.name, amountMinor: p.amountMinor, ...(kind === 'correction' ? { correctedData: p.correction?.correctedData ?? '' } : {}) }],
      }),
    );
  }

  function recallAnswered(xml: string): void {
    outbox.push('sepa', 'camt.029', now(), () => xml);
  }

  /** Entries per rail account and day already sent in a statement; when the last statement went out. */
  const sentEntries = new Map<string, number>();
  let lastStatementMs = -Infinity;

  /**
   * The day's statement of every rail account with entries it has not sent yet: today's (the day
   * so far, sent again as it grows) and yesterday's (its last entries, once the day has ended).
   * At most once per statementIntervalMs, so a busy bank does not send a statement per payment.
   */
  function statementsDue(): void {
    const t = now();
    if (t - lastStatementMs < deps.statementIntervalMs) return;
    lastStatementMs = t;
    for (const date of [day(t - 86_400_000), day(t)]) {
      for (const statement of deps.statementsOn(date)) {
        const key = `${statement.accountId}|${date}`;
        if (statement.entries.length === 0 || sentEntries.get(key) === statement.entries.length) continue;
        sentEntries.set(key, statement.entries.length);
        const rail = railAccountOf(statement.accountId)?.rail ?? 'ach';
        // The same statement ID each time (the day's statement of the account), a new message ID.
        outbox.push(rail, 'camt.053', t, (id) => buildCamt053(id, new Date(t), [statement]));
      }
    }
  }

  return { received, achFileAnswered, settled, returned, recallAnswered, statementsDue };
}
