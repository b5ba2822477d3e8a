/**
 * The bank simulator: plays Railyard's partner bank over HTTP, in the rails' own formats.
 *
 * It keeps its own books (payments by end-to-end reference), never pays a reference twice (a
 * resubmission is answered with the first outcome and counted as a duplicate; ACH files, as at a
 * real ODFI, are de-duplicated whole by their identity instead), settles after a
 * configurable delay, and misbehaves on request through rules (`/sim/rules`) or the magic test
 * beneficiaries documented in the README.
 *
 * State changes that depend on time (settlement, returns) are computed from the clock on every
 * read, so the simulator needs no timers and a test clock can drive it.
 */
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import { abaChecksumValid, NachaError, parseNacha, CREDIT_CODES } from '../rails/ach/nacha';
import { buildPacs002, IsoMessageError, parsePacs008, parsePacs028, type ChargeBearer } from '../rails/iso20022/messages';
import { buildPain002, parsePain001 } from '../rails/iso20022/pain';
import { buildPacs004 } from '../rails/iso20022/pacs004';
import { buildCamt029, parseCamt056 } from '../rails/iso20022/recall';
import { settlementAtMs, type RailTime, type SettlementClock } from './settlement';
import { isValidIBAN } from 'ibantools';
import { buildCamt053, type AccountStatement, type StatementEntry } from '../rails/iso20022/camt053';
import { FILE_REJECTED_CODE } from '../rails/ach/acknowledgment';
import { createOutbox } from './outbox';
import { createBankMessages, railAccountId, type AchOrigin } from './bank-messages';

export const SIM_BEHAVIORS = ['accept', 'reject', 'unavailable', 'rate_limited', 'timeout_before_accept', 'timeout_after_accept', 'return_after_settlement', 'hold', 'reject_file'] as const;
export type SimBehavior = (typeof SIM_BEHAVIORS)[number];

const ruleSchema = z.object({
  match: z
    .object({
      accountNumber: z.string().optional(),
      iban: z.string().optional(),
      amountMinor: z.int().optional(),
      rail: z.string().optional(),
    })
    .strict()
    .default({}),
  behavior: z.enum(SIM_BEHAVIORS),
  code: z.string().regex(/^[A-Z0-9]{2,4}$/).optional(),
  delayMs: z.int().min(0).max(90 * 24 * 3600 * 1000).optional(),
  times: z.int().min(1).optional(),
  /** SWIFT charges on the matched payment, instead of the simulator's `swiftChargeBps`. */
  chargesMinor: z.int().min(0).optional(),
  /** A bank whose statement misreports the matched payment: another amount, or no entry at all. */
  statement: z.strictObject({ amountMinor: z.int().min(1).optional(), omit: z.literal(true).optional() }).optional(),
});

const entrySchema = z.strictObject({
  rail: z.string().min(1),
  currency: z.string().regex(/^[A-Z]{3}$/),
  amountMinor: z.int().min(1),
  direction: z.enum(['DBIT', 'CRDT']),
  endToEndId: z.string().min(1).max(35),
  date: z.iso.date().optional(),
});

const adjustmentSchema = z.strictObject({ rail: z.string().min(1), currency: z.string().regex(/^[A-Z]{3}$/), amountMinor: z.int() });

export type SimRule = z.infer<typeof ruleSchema> & { id: string };

export type PaymentStatus = 'pending' | 'held' | 'settled' | 'rejected' | 'returned' | 'canceled';

export interface SimPayment {
  reference: string;
  rail: string;
  amountMinor: number;
  currency: string;
  accountNumber: string;
  routingNumber: string;
  name: string;
  status: PaymentStatus;
  code: string | null;
  receivedAtMs: number;
  settleAtMs: number | null;
  returnAtMs: number | null;
  returnCode: string | null;
  settledAtMs: number | null;
  returnedAtMs: number | null;
  /** SWIFT: who bears the charges, and how much they were. */
  chargeBearer: ChargeBearer | null;
  chargesMinor: number;
  statementAmountMinor: number | null;
  omitFromStatement: boolean;
  /** A notification of change the bank sends once the entry has settled (ACH COR entry). */
  correction: { code: string; correctedData: string } | null;
}

export interface SimSubmission {
  id: string;
  rail: string;
  reference: string;
  amountMinor: number;
  currency: string;
  status: string;
  duplicate: boolean;
  receivedAt: string;
  raw: string;
}

export interface BankSimOptions {
  /** Under RAIL_TIME=demo, how long one calendar day of settlement lasts (banksim/settlement.ts). */
  settlementDelayMs: number;
  /** `real` settles on the rails' calendars; `demo` (the default) compresses the same waits. */
  railTime?: RailTime;
  /** How long a `timeout_after_accept` request is left hanging before the socket is dropped. */
  hangMs?: number;
  nowMs?: () => number;
  /** SWIFT charges on every payment without a rule saying otherwise, in basis points of its amount (rounded down). */
  swiftChargeBps?: number;
  /** How often at most the bank sends a grown statement of the same day to its outbox (default 1 s). */
  statementIntervalMs?: number;
}

/**
 * Magic beneficiaries, as Stripe documents test bank numbers: their behavior applies when no
 * rule set through /sim/rules matches.
 */
export const MAGIC_ACCOUNTS: Record<string, { behavior: SimBehavior; code?: string; delayMs?: number }> = {
  '000111111116': { behavior: 'reject', code: 'R03' },
  '000222222227': { behavior: 'return_after_settlement', code: 'R01', delayMs: 2000 },
  '000333333335': { behavior: 'unavailable' },
  '000444444442': { behavior: 'timeout_after_accept' },
  '000555555550': { behavior: 'hold' },
};

/**
 * Magic beneficiaries whose bank pays the entry, then sends a notification of change (NACHA COR
 * entry) with the corrected data laid out as in the COR addenda.
 */
export const MAGIC_CORRECTIONS: Record<string, { code: string; correctedData: string }> = {
  '000666666668': { code: 'C01', correctedData: '000666666669' },
  '000777777771': { code: 'C02', correctedData: '021000021' },
  '000888888885': { code: 'C03', correctedData: '021000021   000888888886' },
};

export function createBankSim(options: BankSimOptions) {
  const now = options.nowMs ?? (() => Date.now());
  const hangMs = options.hangMs ?? 30_000;
  const clock: SettlementClock = { railTime: options.railTime ?? 'demo', demoDayMs: options.settlementDelayMs };
  const rules: SimRule[] = [];
  const payments = new Map<string, SimPayment>();
  const submissions: SimSubmission[] = [];
  const uetrs = new Map<string, string>();
  /** Statement entries the bank booked that match no payment of ours, and differences in its opening balances. */
  const extraEntries: z.infer<typeof entrySchema>[] = [];
  const balanceAdjustments = new Map<string, number>();
  /** Where each ACH entry came from (its file's ODFI and company), for the return and COR files the bank sends back. */
  const achOrigins = new Map<string, AchOrigin>();
  const outbox = createOutbox();
  const SUB_FAMILY: Record<string, string> = { ach: 'ACDT', sepa: 'ESCT', sepa_instant: 'SDCT', rtp: 'RDCT', swift: 'XBCT' };
  const messages = createBankMessages({
    outbox,
    now,
    uetrOf: (reference) => uetrs.get(reference),
    achOriginOf: (reference) => achOrigins.get(reference),
    debitEntryOf: (p) => debitEntry(p, false),
    statementsOn: (date) => statementsOn(date),
    statementIntervalMs: options.statementIntervalMs ?? 1_000,
  });

  /** Moves a payment along the clock; each settlement and return is sent to the outbox as it happens. */
  function advance(p: SimPayment): SimPayment {
    const t = now();
    if (p.status === 'pending' && p.settleAtMs !== null && t >= p.settleAtMs) {
      p.status = 'settled';
      p.settledAtMs = p.settleAtMs;
      messages.settled(p);
    }
    if (p.status === 'settled' && p.returnAtMs !== null && t >= p.returnAtMs) {
      p.status = 'returned';
      p.code = p.returnCode;
      p.returnedAtMs = p.returnAtMs;
      messages.returned(p);
    }
    return p;
  }

  /** How the bank books a payment's settlement on Railyard's account; `asStated`: as its statement (mis)reports it. */
  function debitEntry(p: SimPayment, asStated: boolean): Omit<StatementEntry, 'bookingDate'> {
    const ours = p.chargeBearer === 'OUR';
    const charges = p.chargesMinor > 0 ? { amountMinor: p.chargesMinor, bearer: ({ OUR: 'DEBT', SHA: 'SHAR', BEN: 'CRED' } as const)[p.chargeBearer!], included: ours } : undefined;
    return {
      endToEndId: p.reference,
      uetr: uetrs.get(p.reference),
      amountMinor: (asStated ? p.statementAmountMinor : null) ?? p.amountMinor + (ours ? p.chargesMinor : 0),
      direction: 'DBIT',
      subFamily: SUB_FAMILY[p.rail] ?? 'OTHR',
      accountServicerRef: `SIM-DBIT-${p.reference}`.slice(0, 35),
      ...(charges ? { charges } : {}),
    };
  }

  function pickBehavior(candidate: { accountNumber: string; iban: string | null; amountMinor: number; rail: string }) {
    for (const rule of rules) {
      const m = rule.match;
      if (m.accountNumber !== undefined && m.accountNumber !== candidate.accountNumber) continue;
      if (m.iban !== undefined && m.iban !== candidate.iban) continue;
      if (m.amountMinor !== undefined && m.amountMinor !== candidate.amountMinor) continue;
      if (m.rail !== undefined && m.rail !== candidate.rail) continue;
      return rule;
    }
    const magic = MAGIC_ACCOUNTS[candidate.iban ?? candidate.accountNumber];
    return magic ? { ...magic, id: 'magic', match: {} } : undefined;
  }

  function consume(rule: SimRule | undefined): void {
    if (!rule || rule.id === 'magic' || rule.times === undefined) return;
    rule.times -= 1;
    if (rule.times <= 0) rules.splice(rules.indexOf(rule), 1);
  }

  function view(p: SimPayment) {
    advance(p);
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      reference: p.reference,
      rail: p.rail,
      status: p.status,
      code: p.code,
      amountMinor: p.amountMinor,
      currency: p.currency,
      receivedAt: iso(p.receivedAtMs),
      settledAt: iso(p.settledAtMs),
      returnedAt: iso(p.returnedAtMs),
      // The COR entry follows the settled entry; before settlement there is nothing to correct yet.
      correction: p.settledAtMs !== null ? p.correction : null,
    };
  }

  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  interface Candidate {
    reference: string;
    rail: string;
    accountNumber: string;
    iban: string | null;
    routingNumber: string;
    amountMinor: number;
    currency: string;
    name: string;
    /** Debits are not taken from a payout channel. */
    credit: boolean;
    /** The rail's own code for an account the bank does not know. */
    defaultRejectCode: string;
    chargeBearer?: ChargeBearer;
  }

  function submission(c: Candidate, status: string, duplicate: boolean, raw: string, receivedAt: string): void {
    submissions.push({ id: randomUUID(), rail: c.rail, reference: c.reference, amountMinor: c.amountMinor, currency: c.currency, status, duplicate, receivedAt, raw });
  }

  /**
   * Books one payment instruction, at most once per end-to-end reference. Returns what the bank
   * answers, and whether the answer never comes (`timeout_after_accept`).
   */
  function receive(c: Candidate, raw: string, receivedAt: string, dedupeByReference = true) {
    const existing = payments.get(c.reference);
    if (existing && dedupeByReference) {
      submission(c, advance(existing).status, true, raw, receivedAt);
      return { reference: c.reference, status: existing.status === 'rejected' ? 'rejected' : 'accepted', code: existing.code, duplicate: true, hang: false };
    }
    const rule = pickBehavior(c);
    consume(rule as SimRule | undefined);
    const behavior = rule?.behavior ?? 'accept';
    const t = now();
    const payment: SimPayment = {
      reference: c.reference,
      rail: c.rail,
      amountMinor: c.amountMinor,
      currency: c.currency,
      accountNumber: c.iban ?? c.accountNumber,
      routingNumber: c.routingNumber,
      name: c.name,
      status: 'pending',
      code: null,
      receivedAtMs: t,
      settleAtMs: settlementAtMs(c.rail, t, c.amountMinor, clock),
      returnAtMs: null,
      returnCode: null,
      settledAtMs: null,
      returnedAtMs: null,
      chargeBearer: c.chargeBearer ?? null,
      // Charges never take the whole payment: the beneficiary is always left something.
      chargesMinor: c.chargeBearer ? Math.min(rule?.chargesMinor ?? Math.floor((c.amountMinor * (options.swiftChargeBps ?? 0)) / 10_000), c.amountMinor - 1) : 0,
      statementAmountMinor: rule?.statement?.amountMinor ?? null,
      omitFromStatement: rule?.statement?.omit === true,
      correction: c.rail === 'ach' ? (MAGIC_CORRECTIONS[c.accountNumber] ?? null) : null,
    };
    if (!c.credit) {
      payment.status = 'rejected';
      payment.code = c.rail === 'ach' ? 'R33' : 'AG01';
    } else if (behavior === 'reject') {
      payment.status = 'rejected';
      payment.code = rule?.code ?? c.defaultRejectCode;
    } else if (behavior === 'hold') {
      payment.status = 'held';
      payment.settleAtMs = null;
    } else if (behavior === 'return_after_settlement') {
      payment.returnAtMs = payment.settleAtMs! + (rule?.delayMs ?? options.settlementDelayMs);
      payment.returnCode = rule?.code ?? (c.rail === 'ach' ? 'R01' : 'AC04');
    }
    // An ACH entry in a second, different file is paid again, as a real ODFI would: it books it beside the first.
    let key = c.reference;
    for (let n = 2; payments.has(key); n++) key = `${c.reference}#${n}`;
    payments.set(key, payment);
    submission(c, payment.status, false, raw, receivedAt);
    messages.received(payment);
    // An instant payment settles now; an ACH entry waits for its file's acknowledgment to go out first.
    if (c.rail !== 'ach') advance(payment);
    return { reference: c.reference, status: payment.status === 'rejected' ? 'rejected' : 'accepted', code: payment.code, duplicate: false, hang: behavior === 'timeout_after_accept' };
  }

  /** A bank that is down takes nothing: decided before anything is booked. */
  function refuseIfDown(candidates: Candidate[], raw: string, receivedAt: string, res: Response): boolean {
    const down = candidates.map((c) => pickBehavior(c)).find((r) => r?.behavior === 'unavailable' || r?.behavior === 'rate_limited' || r?.behavior === 'timeout_before_accept');
    if (!down) return false;
    consume(down as SimRule);
    if (down.behavior === 'timeout_before_accept') {
      // The instruction is lost on the way in: nothing is booked and no answer ever comes.
      for (const c of candidates) submission(c, 'dropped', false, raw, receivedAt);
      setTimeout(() => res.socket?.destroy(), hangMs).unref();
      return true;
    }
    if (down.behavior === 'rate_limited') {
      // 429 with the rule's delay as Retry-After (whole seconds, at least one).
      for (const c of candidates) submission(c, 'rate_limited', false, raw, receivedAt);
      const retryAfterS = Math.max(1, Math.ceil((down.delayMs ?? 1_000) / 1_000));
      res.status(429).set('Retry-After', String(retryAfterS)).json({ error: { code: 'rate_limited', message: `too many requests; retry after ${retryAfterS} s` } });
      return true;
    }
    for (const c of candidates) submission(c, 'unavailable', false, raw, receivedAt);
    res.status(503).set('Retry-After', '1').json({ error: { code: 'unavailable', message: 'bank is temporarily unavailable' } });
    return true;
  }

  function hangUp(req: Request): void {
    // The bank took the instruction but its answer never arrives.
    setTimeout(() => req.socket.destroy(), hangMs).unref();
  }

  /**
   * ACH files taken, by the identity a real ODFI de-duplicates files by: immediate origin, file
   * creation date and time, File ID Modifier. Not trace numbers: an entry in a second, different
   * file is paid again.
   */
  const achFiles = new Map<string, { raw: string; answer: { fileId: string; entries: { reference: string; status: string; code: string | null; duplicate: boolean }[] } }>();

  app.post('/ach/files', express.text({ type: '*/*', limit: '10mb' }), (req: Request, res: Response) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const receivedAt = new Date(now()).toISOString();
    let file;
    try {
      file = parseNacha(raw);
    } catch (err) {
      if (!(err instanceof NachaError)) throw err;
      submissions.push({ id: randomUUID(), rail: 'ach', reference: '', amountMinor: 0, currency: 'USD', status: 'file_rejected', duplicate: false, receivedAt, raw });
      res.status(400).json({ error: { code: 'file_rejected', message: err.message } });
      return;
    }
    const candidates: Candidate[] = file.batches.flatMap((b) =>
      b.entries.map(({ record: { fields } }) => ({
        reference: fields.traceNumber,
        rail: 'ach',
        accountNumber: fields.dfiAccountNumber.trim(),
        iban: null,
        routingNumber: fields.receivingDfiIdentification + fields.checkDigit,
        amountMinor: Number(fields.amount),
        currency: 'USD',
        name: fields.individualName.trim(),
        credit: CREDIT_CODES.has(fields.transactionCode),
        defaultRejectCode: 'R03',
      })),
    );
    if (refuseIfDown(candidates, raw, receivedAt, res)) return;
    const h = file.header.fields;
    const fileKey = [h.immediateOrigin, h.fileCreationDate, h.fileCreationTime, h.fileIdModifier].join('|');
    const taken = achFiles.get(fileKey);
    if (taken && taken.raw === raw) {
      // The same file again: answered as the first time, nothing booked twice.
      for (const c of candidates) submission(c, advance(payments.get(c.reference)!).status, true, raw, receivedAt);
      res.status(202).json({ fileId: taken.answer.fileId, entries: taken.answer.entries.map((e) => ({ ...e, duplicate: true })) });
      return;
    }
    if (taken) {
      for (const c of candidates) submission(c, 'file_rejected', false, raw, receivedAt);
      res.status(400).json({ error: { code: 'file_rejected', message: `duplicate file ID: a different file was taken with origin ${h.immediateOrigin.trim()}, created ${h.fileCreationDate} ${h.fileCreationTime}, modifier ${h.fileIdModifier}` } });
      return;
    }
    // `reject_file` (ACH only): the bank refuses the whole file, as it would a malformed one; nothing is booked.
    const refuse = candidates.map((c) => pickBehavior(c)).find((r) => r?.behavior === 'reject_file');
    const fileOf = { immediateOrigin: h.immediateOrigin.trim(), creationDate: h.fileCreationDate, creationTime: h.fileCreationTime, idModifier: h.fileIdModifier };
    const totalCreditMinor = candidates.reduce((sum, c) => sum + c.amountMinor, 0);
    if (refuse) {
      consume(refuse as SimRule);
      for (const c of candidates) submission(c, 'file_rejected', false, raw, receivedAt);
      messages.achFileAnswered({ file: fileOf, status: 'rejected', entryCount: candidates.length, totalCreditMinor, entries: candidates.map((c) => ({ traceNumber: c.reference, status: 'rejected', code: FILE_REJECTED_CODE })) });
      res.status(400).json({ error: { code: 'file_rejected', message: `file refused: entry for account ${candidates.find((c) => pickBehavior(c) === refuse)?.accountNumber ?? '?'} fails the bank's edits` } });
      return;
    }
    for (const b of file.batches) {
      const origin = { odfiRouting: h.immediateOrigin.trim(), companyName: b.header.fields.companyName.trim(), companyId: b.header.fields.companyIdentification.trim() };
      for (const e of b.entries) achOrigins.set(e.record.fields.traceNumber, origin);
    }
    const results = candidates.map((c) => receive(c, raw, receivedAt, false));
    const answer = { fileId: randomUUID(), entries: results.map(({ hang: _hang, ...r }) => r) };
    achFiles.set(fileKey, { raw, answer });
    messages.achFileAnswered({
      file: fileOf,
      status: 'accepted',
      entryCount: candidates.length,
      totalCreditMinor,
      entries: results.map((r) => ({ traceNumber: r.reference, status: r.status === 'rejected' ? 'rejected' : 'accepted', code: r.code })),
    });
    if (results.some((r) => r.hang)) return hangUp(req);
    res.status(202).json(answer);
  });

  interface IsoPayment {
    messageId: string;
    endToEndId: string;
    uetr?: string;
    amountMinor: number;
    currency: string;
    iban: string | null;
    accountNumber: string;
    bic: string;
    name: string;
    chargeBearer?: ChargeBearer;
  }

  /**
   * One ISO 20022 payment per message: read and check it (an IsoMessageError rejects it whole with
   * the field at fault), book it, and answer with the rail's status report.
   */
  function isoPaymentEndpoint(rail: string, read: (raw: string) => IsoPayment, answer: (reference: string, messageId: string) => string) {
    return (req: Request, res: Response) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const receivedAt = new Date(now()).toISOString();
      let payment: IsoPayment;
      try {
        payment = read(raw);
      } catch (err) {
        if (!(err instanceof IsoMessageError)) throw err;
        submissions.push({ id: randomUUID(), rail, reference: '', amountMinor: 0, currency: '', status: 'message_rejected', duplicate: false, receivedAt, raw });
        res.status(400).json({ error: { code: 'message_rejected', message: err.message } });
        return;
      }
      const candidate: Candidate = {
        reference: payment.endToEndId,
        rail,
        accountNumber: payment.accountNumber,
        iban: payment.iban,
        routingNumber: payment.bic,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        name: payment.name,
        credit: true,
        defaultRejectCode: 'AC01',
        chargeBearer: payment.chargeBearer,
      };
      if (payment.uetr) uetrs.set(payment.endToEndId, payment.uetr);
      if (refuseIfDown([candidate], raw, receivedAt, res)) return;
      const result = receive(candidate, raw, receivedAt);
      if (result.hang) return hangUp(req);
      res.status(200).type('application/xml').send(answer(payment.endToEndId, payment.messageId));
    };
  }

  const fromPacs008 = (ct: ReturnType<typeof parsePacs008>): IsoPayment => ({
    messageId: ct.messageId,
    endToEndId: ct.endToEndId,
    uetr: ct.uetr,
    amountMinor: ct.amountMinor,
    currency: ct.currency,
    iban: ct.creditor.iban ?? null,
    accountNumber: ct.creditor.accountNumber ?? '',
    bic: ct.creditor.bic ?? '',
    name: ct.creditor.name,
  });

  /** SWIFT: a pacs.008.001.09 in, a pacs.002.001.11 back (ACSP accepted, RJCT rejected). */
  app.post(
    '/swift/pacs008',
    express.text({ type: '*/*', limit: '1mb' }),
    isoPaymentEndpoint(
      'swift',
      (raw) => {
        const ct = parsePacs008(raw);
        if (!ct.creditor.bic) throw new IsoMessageError('CdtTrfTxInf/CdtrAgt/FinInstnId/BICFI: a SWIFT payment needs the creditor agent BIC');
        return { ...fromPacs008(ct), chargeBearer: ct.chargeBearer };
      },
      (reference, messageId) => statusReport(reference, messageId),
    ),
  );

  function statusReport(reference: string, originalMessageId: string): string {
    const p = advance(payments.get(reference)!);
    const status = p.status === 'settled' ? 'ACCC' : p.status === 'rejected' || p.status === 'returned' ? 'RJCT' : p.status === 'held' ? 'PDNG' : 'ACSP';
    return buildPacs002({
      messageId: `SIM-${randomUUID().slice(0, 30)}`,
      createdAt: new Date(now()),
      originalMessageId,
      endToEndId: reference,
      uetr: uetrs.get(reference) ?? '',
      status,
      reasonCode: p.code ?? undefined,
    });
  }

  /**
   * SEPA Instant: a pacs.008 in, a pacs.002 back at once — ACCC, the beneficiary credited on the
   * spot, or RJCT (AB08 when the beneficiary's bank is offline). pacs.028 asks where a payment is.
   */
  app.post(
    '/sepa-instant/pacs008',
    express.text({ type: '*/*', limit: '1mb' }),
    isoPaymentEndpoint(
      'sepa_instant',
      (raw) => {
        const ct = parsePacs008(raw);
        if (ct.currency !== 'EUR') throw new IsoMessageError(`CdtTrfTxInf/IntrBkSttlmAmt/@Ccy: SEPA Instant carries EUR only, got ${ct.currency}`);
        if (ct.amountMinor > 10_000_000) throw new IsoMessageError('CdtTrfTxInf/IntrBkSttlmAmt: above the EUR 100,000.00 SCT Inst maximum');
        if (!ct.creditor.iban || !isValidIBAN(ct.creditor.iban)) throw new IsoMessageError('CdtTrfTxInf/CdtrAcct/Id/IBAN: a valid IBAN is required');
        return fromPacs008(ct);
      },
      (reference, messageId) => statusReport(reference, messageId),
    ),
  );

  /** pacs.028: "where is my payment?", answered with the current pacs.002. */
  const statusRequestEndpoint = (rail: string) => (req: Request, res: Response) => {
    let endToEndId: string;
    try {
      endToEndId = parsePacs028(typeof req.body === 'string' ? req.body : '').endToEndId;
    } catch (err) {
      if (!(err instanceof IsoMessageError)) throw err;
      res.status(400).json({ error: { code: 'message_rejected', message: err.message } });
      return;
    }
    const p = payments.get(endToEndId);
    if (!p || p.rail !== rail) {
      res.status(404).json({ error: { code: 'not_found', message: `no payment ${endToEndId}` } });
      return;
    }
    res.type('application/xml').send(statusReport(p.reference, p.reference));
  };
  app.post('/sepa-instant/pacs028', express.text({ type: '*/*', limit: '1mb' }), statusRequestEndpoint('sepa_instant'));

  /** RTP: US instant payments, a pacs.008 in (creditor agent by ABA routing number), a pacs.002 back at once. */
  app.post(
    '/rtp/pacs008',
    express.text({ type: '*/*', limit: '1mb' }),
    isoPaymentEndpoint(
      'rtp',
      (raw) => {
        const ct = parsePacs008(raw);
        if (ct.currency !== 'USD') throw new IsoMessageError(`CdtTrfTxInf/IntrBkSttlmAmt/@Ccy: RTP carries USD only, got ${ct.currency}`);
        if (ct.amountMinor > 1_000_000_000) throw new IsoMessageError('CdtTrfTxInf/IntrBkSttlmAmt: above the USD 10,000,000.00 RTP maximum');
        if (!ct.creditor.routingNumber || !abaChecksumValid(ct.creditor.routingNumber)) throw new IsoMessageError('CdtTrfTxInf/CdtrAgt/FinInstnId/ClrSysMmbId/MmbId: a valid ABA routing number is required');
        if (!ct.creditor.accountNumber) throw new IsoMessageError('CdtTrfTxInf/CdtrAcct/Id/Othr/Id: an account number is required');
        return { ...fromPacs008(ct), bic: ct.creditor.routingNumber };
      },
      (reference, messageId) => statusReport(reference, messageId),
    ),
  );
  app.post('/rtp/pacs028', express.text({ type: '*/*', limit: '1mb' }), statusRequestEndpoint('rtp'));

  /** SEPA: a pain.001.001.10 in, a pain.002.001.11 back (ACTC accepted, RJCT rejected); ACSC once settled. */
  app.post(
    '/sepa/pain001',
    express.text({ type: '*/*', limit: '1mb' }),
    isoPaymentEndpoint(
      'sepa',
      (raw) => {
        const ct = parsePain001(raw);
        if (!isValidIBAN(ct.creditor.iban)) throw new IsoMessageError(`CdtTrfTxInf/CdtrAcct/Id/IBAN: ${ct.creditor.iban} is not a valid IBAN`);
        return { messageId: ct.messageId, endToEndId: ct.endToEndId, amountMinor: ct.amountMinor, currency: 'EUR', iban: ct.creditor.iban, accountNumber: '', bic: ct.creditor.bic ?? '', name: ct.creditor.name };
      },
      (reference, messageId) => sepaReport(reference, messageId),
    ),
  );

  function sepaReport(reference: string, originalMessageId: string): string {
    const p = advance(payments.get(reference)!);
    const status = p.status === 'settled' ? 'ACSC' : p.status === 'rejected' || p.status === 'returned' ? 'RJCT' : p.status === 'held' ? 'PDNG' : p.status === 'canceled' ? 'CANC' : 'ACTC';
    return buildPain002({ messageId: `SIM-${randomUUID().slice(0, 30)}`, createdAt: new Date(now()), originalMessageId, endToEndId: reference, status, reasonCode: p.code ?? undefined });
  }

  /** Resolutions already given, by cancellation ID: a repeated camt.056 gets the first answer. */
  const recalls = new Map<string, { reference: string; xml: string }>();

  /**
   * SEPA recall: a camt.056.001.09 in, a camt.029.001.10 back. A payment not yet settled (pending
   * or held) is canceled at once (CNCL) and never settles; a settled or returned one is refused
   * (RJCR, ARDT: the funds already reached the beneficiary's bank), as is one the bank does not
   * know (NOOR). The same cancellation ID is answered with its first resolution, counted as a
   * duplicate. A rule `unavailable` (or `rate_limited`) matching the payment makes the bank
   * refuse the request with 503 (429) and book nothing.
   */
  app.post('/sepa/camt056', express.text({ type: '*/*', limit: '1mb' }), (req, res) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const receivedAt = new Date(now()).toISOString();
    let request: ReturnType<typeof parseCamt056>;
    try {
      request = parseCamt056(raw);
    } catch (err) {
      if (!(err instanceof IsoMessageError)) throw err;
      submissions.push({ id: randomUUID(), rail: 'sepa', reference: '', amountMinor: 0, currency: '', status: 'recall_rejected_message', duplicate: false, receivedAt, raw });
      res.status(400).json({ error: { code: 'message_rejected', message: err.message } });
      return;
    }
    const reference = request.originalEndToEndId;
    const record = (status: string, duplicate: boolean) =>
      submissions.push({ id: randomUUID(), rail: 'sepa', reference, amountMinor: request.amountMinor, currency: request.currency, status, duplicate, receivedAt, raw });
    const earlier = recalls.get(request.cancellationId);
    if (earlier) {
      if (earlier.reference !== reference) {
        res.status(400).json({ error: { code: 'message_rejected', message: `TxInf/CxlId ${request.cancellationId} already names a recall of ${earlier.reference}` } });
        return;
      }
      record('recall_duplicate', true);
      res.type('application/xml').send(earlier.xml);
      return;
    }
    const p = payments.get(reference);
    if (p && p.rail === 'sepa') {
      const down = pickBehavior({ accountNumber: p.accountNumber, iban: p.accountNumber, amountMinor: p.amountMinor, rail: p.rail });
      if (down?.behavior === 'unavailable' || down?.behavior === 'rate_limited') {
        consume(down as SimRule);
        record('recall_unavailable', false);
        res.status(down.behavior === 'unavailable' ? 503 : 429).set('Retry-After', '1').json({ error: { code: 'unavailable', message: 'bank is temporarily unavailable' } });
        return;
      }
    }
    let confirmation: 'CNCL' | 'RJCR';
    let reasonCode: string | undefined;
    let reasonText: string | undefined;
    if (!p || p.rail !== 'sepa') {
      confirmation = 'RJCR';
      reasonCode = 'NOOR';
      reasonText = `no SEPA payment ${reference} was received`;
    } else if (p.amountMinor !== request.amountMinor || p.currency !== request.currency) {
      confirmation = 'RJCR';
      reasonCode = 'NOOR';
      reasonText = `${reference} is for ${p.amountMinor} ${p.currency} (minor units), not ${request.amountMinor} ${request.currency}`;
    } else {
      advance(p);
      if (p.status === 'pending' || p.status === 'held' || p.status === 'canceled') {
        confirmation = 'CNCL';
        p.status = 'canceled';
        p.settleAtMs = null;
        p.returnAtMs = null;
      } else {
        confirmation = 'RJCR';
        reasonCode = 'ARDT';
        reasonText = p.status === 'rejected' ? `${reference} was rejected, nothing to recall` : `${reference} already settled on ${new Date(p.settledAtMs ?? now()).toISOString().slice(0, 10)}`;
      }
    }
    const xml = buildCamt029({
      messageId: `SIM-RSL-${randomUUID().slice(0, 26)}`,
      createdAt: new Date(now()),
      assignerBic: request.assigneeBic,
      assigneeBic: request.assignerBic,
      cancellationId: request.cancellationId,
      originalEndToEndId: reference,
      confirmation,
      ...(reasonCode ? { reasonCode } : {}),
      ...(reasonText ? { reasonText } : {}),
    });
    recalls.set(request.cancellationId, { reference, xml });
    messages.recallAnswered(xml);
    record(confirmation === 'CNCL' ? 'recall_accepted' : 'recall_refused', false);
    res.type('application/xml').send(xml);
  });

  app.get('/sepa/payments/:reference', (req, res) => {
    const p = payments.get(req.params.reference);
    if (!p || p.rail !== 'sepa') {
      res.status(404).json({ error: { code: 'not_found', message: `no payment ${req.params.reference}` } });
      return;
    }
    advance(p);
    if (p.status === 'returned') {
      // A SEPA return after settlement travels as a pacs.004 with the returned amount and reason.
      const returnedOn = new Date(p.returnedAtMs ?? now()).toISOString().slice(0, 10);
      res.type('application/xml').send(
        buildPacs004({
          messageId: `SIM-RTR-${randomUUID().slice(0, 26)}`,
          createdAt: new Date(now()),
          originalMessageId: p.reference,
          originalMessageName: 'pain.001.001.10',
          endToEndId: p.reference,
          returnedAmountMinor: p.amountMinor,
          currency: p.currency,
          settlementDate: returnedOn,
          reasonCode: p.code ?? 'NARR',
        }),
      );
      return;
    }
    res.type('application/xml').send(sepaReport(p.reference, p.reference));
  });

  app.get('/swift/payments/:reference', (req, res) => {
    const p = payments.get(req.params.reference);
    if (!p || p.rail !== 'swift') {
      res.status(404).json({ error: { code: 'not_found', message: `no payment ${req.params.reference}` } });
      return;
    }
    res.type('application/xml').send(statusReport(p.reference, p.reference));
  });

  app.get('/ach/payments/:reference', (req, res) => {
    const p = payments.get(req.params.reference);
    if (!p) {
      res.status(404).json({ error: { code: 'not_found', message: `no payment ${req.params.reference}` } });
      return;
    }
    res.json(view(p));
  });

  /**
   * The day's camt.053: one statement per rail account and currency (`RAILYARD-<RAIL>-<CCY>`).
   * The account is debited for every payment settled that day (under OUR with the SWIFT charges on
   * top, itemised) and credited for every return; balances run from zero at the simulator's start,
   * shifted by any planted balance adjustment. Rules may make it misreport a payment.
   */
  function statementsOn(date: string): AccountStatement[] {
    const day = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().slice(0, 10));
    const books = new Map<string, { rail: string; currency: string; opening: number; entries: StatementEntry[] }>();
    const bookOf = (rail: string, currency: string) => {
      const key = `${rail}|${currency}`;
      let book = books.get(key);
      if (!book) books.set(key, (book = { rail, currency, opening: balanceAdjustments.get(key) ?? 0, entries: [] }));
      return book;
    };
    const book = (rail: string, currency: string, on: string | null, entry: Omit<StatementEntry, 'bookingDate'>) => {
      if (on === null) return;
      const b = bookOf(rail, currency);
      if (on < date) b.opening += entry.direction === 'CRDT' ? entry.amountMinor : -entry.amountMinor;
      else if (on === date) b.entries.push({ ...entry, bookingDate: on });
    };
    for (const p of payments.values()) {
      advance(p);
      bookOf(p.rail, p.currency);
      if (!p.omitFromStatement) book(p.rail, p.currency, day(p.settledAtMs), debitEntry(p, true));
      book(p.rail, p.currency, day(p.returnedAtMs), { endToEndId: p.reference, uetr: uetrs.get(p.reference), amountMinor: p.amountMinor, direction: 'CRDT', subFamily: 'RRTN', accountServicerRef: `SIM-CRDT-${p.reference}`.slice(0, 35) });
    }
    for (const [i, e] of extraEntries.entries()) {
      book(e.rail, e.currency, e.date ?? day(now()), { endToEndId: e.endToEndId, amountMinor: e.amountMinor, direction: e.direction, subFamily: SUB_FAMILY[e.rail] ?? 'OTHR', accountServicerRef: `SIM-XTRA-${i}-${e.endToEndId}`.slice(0, 35) });
    }
    for (const key of balanceAdjustments.keys()) bookOf(...(key.split('|') as [string, string]));
    // An account with no activity still gets its statement.
    if (books.size === 0) bookOf('ach', 'USD');
    return [...books.values()]
      .sort((a, b) => (`${a.rail}|${a.currency}` < `${b.rail}|${b.currency}` ? -1 : 1))
      .map((b) => {
        const account = `${b.rail.toUpperCase()}-${b.currency}`;
        return { id: `STMT-${date}-${account}`, accountId: railAccountId(b.rail, b.currency), currency: b.currency, date, openingMinor: b.opening, entries: b.entries };
      });
  }

  app.get('/sim/statements', (req, res) => {
    const date = typeof req.query.date === 'string' ? req.query.date : '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) {
      res.status(400).json({ error: { code: 'invalid_date', message: 'date must be YYYY-MM-DD' } });
      return;
    }
    res.type('application/xml').send(buildCamt053(`SIM-STMT-${date}`, new Date(now()), statementsOn(date)));
  });

  /** The bank's outbox: what it sent on its own, in order (banksim/outbox.ts). Reading it brings the books up to now. */
  app.get(
    '/sim/outbox',
    outbox.route(() => {
      for (const p of payments.values()) advance(p);
      messages.statementsDue();
    }),
  );

  /** Plants an entry the bank booked that Railyard never sent (dated today unless `date` is given). */
  app.post('/sim/statement-entries', express.json(), (req, res) => {
    const parsed = entrySchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      res.status(400).json({ error: { code: 'invalid_entry', message: `${issue.path.join('.') || 'body'}: ${issue.message}` } });
      return;
    }
    extraEntries.push(parsed.data);
    res.status(201).json(parsed.data);
  });

  /** Shifts a rail account's balance by a signed amount, as if the bank's books held it before the simulator started. */
  app.post('/sim/balance-adjustments', express.json(), (req, res) => {
    const parsed = adjustmentSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      res.status(400).json({ error: { code: 'invalid_adjustment', message: `${issue.path.join('.') || 'body'}: ${issue.message}` } });
      return;
    }
    const key = `${parsed.data.rail}|${parsed.data.currency}`;
    balanceAdjustments.set(key, (balanceAdjustments.get(key) ?? 0) + parsed.data.amountMinor);
    res.status(201).json({ rail: parsed.data.rail, currency: parsed.data.currency, adjustmentMinor: balanceAdjustments.get(key) });
  });

  app.post('/sim/payments/:reference/release', (req, res) => {
    const p = payments.get(req.params.reference);
    if (!p || p.status !== 'held') {
      res.status(409).json({ error: { code: 'not_held', message: `payment ${req.params.reference} is not held` } });
      return;
    }
    p.status = 'pending';
    p.settleAtMs = settlementAtMs(p.rail, now(), p.amountMinor, clock);
    res.json(view(p));
  });

  /**
   * The beneficiary's bank returns a settled payment now, with `code`: lets a test choose the moment
   * (say, on day 59 of a 60-day window on a server that skips time) instead of a delay fixed at submission.
   */
  app.post('/sim/payments/:reference/return', express.json(), (req, res) => {
    const p = payments.get(req.params.reference);
    const code = (req.body as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string' || !/^[A-Z0-9]{2,4}$/.test(code)) {
      res.status(400).json({ error: { code: 'invalid_return', message: 'code: a rail return code such as R01 or AC04 is required' } });
      return;
    }
    if (!p || advance(p).status !== 'settled') {
      res.status(409).json({ error: { code: 'not_settled', message: `payment ${req.params.reference} is not settled` } });
      return;
    }
    p.returnAtMs = now();
    p.returnCode = code;
    res.json(view(p));
  });

  app.post('/sim/rules', express.json(), (req, res) => {
    const parsed = ruleSchema.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      res.status(400).json({ error: { code: 'invalid_rule', message: `${issue.path.join('.') || 'body'}: ${issue.message}` } });
      return;
    }
    const rule: SimRule = { ...parsed.data, id: `rule_${randomUUID()}` };
    rules.push(rule);
    res.status(201).json({ id: rule.id });
  });

  app.get('/sim/rules', (_req, res) => {
    res.json({ data: rules });
  });

  app.delete('/sim/rules', (_req, res) => {
    rules.splice(0, rules.length);
    res.status(204).end();
  });

  app.get('/sim/submissions', (req, res) => {
    const reference = typeof req.query.reference === 'string' ? req.query.reference : undefined;
    const data = submissions.filter((s) => reference === undefined || s.reference === reference);
    const counts: Record<string, number> = {};
    // Recall requests are not payment submissions: they never count toward a reference's payments.
    for (const s of data) if (s.reference && s.status !== 'unavailable' && s.status !== 'rate_limited' && s.status !== 'dropped' && !s.status.startsWith('recall_')) counts[s.reference] = (counts[s.reference] ?? 0) + 1;
    res.json({ data, counts, duplicateCount: data.filter((s) => s.duplicate && !s.status.startsWith('recall_')).length });
  });

  return { app, payments, submissions, rules, outbox };
}
