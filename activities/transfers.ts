/**
 * Transfer activities: each is one step of the payout workflow and changes the ledger and the
 * transfer's status in one database transaction, so a step is either wholly done or not at all.
 *
 * Idempotency keys are business IDs plus the step (`tr_…:hold`, `tr_…:settle`), never the run ID:
 * a retried activity finds its own earlier work and returns the same result.
 *
 * Errors: `insufficient_funds` and bank rejections are results the workflow branches on; an
 * unreachable bank is thrown as retryable `BankUnavailable`; broken invariants are non-retryable.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import { raw, type MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../core/ids';
import type { HoldOutcome, Rail, TransferStatus } from '../core/transfer';
import { Attempt, FxQuote, Posting, RailCounter, Transfer, type AttemptRow, type TransferRow } from '../db/schema';
import {
  LedgerError,
  SYSTEM_ACCOUNTS,
  clientAccountSpec,
  createPosting,
  ensureAccount,
  inTransaction,
  resolveHold,
  systemAccountSpec,
} from '../ledger/ledger';
import { InvalidTransitionError, moveStatus, noteStatus } from '../transfers/status';
import { BankUnavailableError, type PayoutRail } from '../rails/bank-http';
import { UNREACHABLE_CODES } from '../rails/instant/rail';
import { convertMinor } from '../fx/pricing';
import type { RatesSource } from '../fx/rates';

export interface TransferActivityDeps {
  orm: MikroORM;
  /** One adapter per rail this deployment carries. */
  rails: Partial<Record<Rail, PayoutRail>>;
  /** First 8 digits of our ODFI routing number: the prefix of every ACH trace number. */
  achOdfi: string;
  rates: RatesSource;
}

export type SubmitOutcome =
  | { outcome: 'accepted'; attemptId: string; railReference: string }
  /** Waiting in a batch rail's window (ACH): the file's answer comes to the workflow later. */
  | { outcome: 'queued'; attemptId: string; railReference: string; windowId: string; cutoffAtMs: number; label: string }
  | { outcome: 'unknown'; attemptId: string; railReference: string; reason: string }
  | { outcome: 'rejected'; attemptId: string; railReference: string; code: string; message: string; fallback?: boolean };

/** `canceled`: the bank canceled the payment on our recall (camt.029 CNCL); nothing was paid. */
export type PayoutState = 'pending' | 'settled' | 'rejected' | 'returned' | 'canceled' | 'not_found';

/** The bank's answer about one payment; `attempt` names the attempt when the inquiry had to look its reference up. */
export interface PayoutInquiry {
  state: PayoutState;
  code: string | null;
  correction?: { code: string; correctedData: string };
  attempt?: { attemptId: string; railReference: string };
}

const holdKey = (transferId: string) => `${transferId}:hold`;
/**
 * The recall's cancellation ID (camt.056 CxlId, at most 35 characters): one per recall request
 * (`recallNo`), so a bank's refusal of one recall is never the answer to a later one; the same on
 * every retry of that request. Without a number: the one recall of a transfer recorded before.
 */
export const recallId = (transferId: string, recallNo?: number) => (recallNo === undefined ? `${transferId}:rcl` : `${transferId}:r${recallNo}`);

/** Inside a transaction: one single-phase posting between two system or client accounts by key. */
async function move(
  tx: SqlEntityManager,
  transfer: TransferRow,
  step: string,
  currency: string,
  from: { name: string } | { clientId: string },
  to: { name: string } | { clientId: string },
  amountMinor: number,
  code: string,
): Promise<void> {
  if (amountMinor === 0) return;
  const account = (side: { name: string } | { clientId: string }) =>
    ensureAccount(tx, 'clientId' in side ? clientAccountSpec(side.clientId, currency) : systemAccountSpec(side.name, currency));
  const debit = await account(from);
  const credit = await account(to);
  await createPosting(tx, {
    externalId: `${transfer.id}:${step}`,
    kind: 'single',
    debitAccountId: debit.id,
    creditAccountId: credit.id,
    currency,
    amountMinor,
    code,
    transferId: transfer.id,
  });
}

/** Inside a transaction: posts the transfer's hold unless it is already posted. */
async function postHold(tx: SqlEntityManager, transferId: string): Promise<void> {
  const hold = await tx.findOneOrFail(Posting, { externalId: holdKey(transferId) });
  const resolution = await tx.findOne(Posting, { pendingId: hold.id });
  if (resolution?.kind === 'post_pending') return;
  await resolveHold(tx, { externalId: `${holdKey(transferId)}:post`, kind: 'post_pending', pendingId: hold.id, code: 'payout_hold_posted' });
}

const IN_FLIGHT = { name: SYSTEM_ACCOUNTS.payoutsInFlight };
const LIQUIDITY = { name: SYSTEM_ACCOUNTS.fxLiquidity };

function nonRetryable(err: unknown): never {
  if (err instanceof LedgerError || err instanceof InvalidTransitionError) {
    throw ApplicationFailure.nonRetryable(err.message, err instanceof LedgerError ? err.code : 'invalid_transition');
  }
  throw err;
}

/** A trace number's sequence: the 7 digits after the ODFI's 8. */
const TRACE_SEQUENCES = 10_000_000;
/**
 * How long a trace number stays with its entry: returns (60 days for an unauthorized debit's),
 * notifications of change and statement lines find their payout by trace number, so none is drawn
 * again within this many days of its last use.
 */
export const TRACE_LIVE_DAYS = 120;


/** Live trace numbers a draw steps over before it gives up (each is one indexed lookup). */
const TRACE_PROBES_MAX = 100;

/**
 * Inside a transaction: the next ACH trace number, the ODFI's 8-digit routing prefix and a 7-digit
 * sequence (exported for tests). NACHA has trace numbers unique per ODFI and file date, not for
 * all time: the sequence counts on and comes round after 10,000,000 entries, and the entries it
 * meets then are long past every answer the bank could send, so coming round is no collision. A
 * trace number still live is stepped over, never drawn twice; meeting TRACE_PROBES_MAX of them in
 * a row means the ODFI's sequence is spent within TRACE_LIVE_DAYS, refused as final
 * (`ach_trace_exhausted`) rather than paid under a shared trace.
 */
export async function nextTraceNumber(tx: SqlEntityManager, odfi8: string, nowMs = Date.now()): Promise<string> {
  if (!/^\d{8}$/.test(odfi8)) throw new RangeError(`an ODFI prefix is 8 digits, got ${odfi8}`);
  const name = `ach_trace:${odfi8}`;
  const liveSince = new Date(nowMs - TRACE_LIVE_DAYS * 86_400_000);
  for (let probe = 0; probe < TRACE_PROBES_MAX; probe++) {
    const updated = await tx.createQueryBuilder(RailCounter).update({ value: raw('value + 1') }).where({ name }).execute('run');
    if ((updated as { affectedRows: number }).affectedRows === 0) {
      // The first draw under this name carries on from the one counter kept before there was one per ODFI.
      const legacy = await tx.findOne(RailCounter, { name: 'ach_trace' });
      await tx.insert(RailCounter, { name, value: (legacy?.value ?? 0) + 1 });
    }
    const counter = await tx.findOneOrFail(RailCounter, { name }, { refresh: true });
    const traceNumber = odfi8 + String(counter.value % TRACE_SEQUENCES).padStart(7, '0');
    if ((await tx.count(Attempt, { rail: 'ach', railReference: traceNumber, createdAt: { $gt: liveSince } })) === 0) return traceNumber;
  }
  throw ApplicationFailure.nonRetryable(`ACH trace numbers under ODFI ${odfi8} are spent: the next ${TRACE_PROBES_MAX} are all still in use (more than ${TRACE_SEQUENCES} entries within ${TRACE_LIVE_DAYS} days)`, 'ach_trace_exhausted');
}

export function createTransferActivities(deps: TransferActivityDeps) {
  const { orm, rates } = deps;
  const em = () => orm.em.fork();
  const railFor = (rail: string): PayoutRail => {
    const adapter = deps.rails[rail as Rail];
    if (!adapter) throw ApplicationFailure.nonRetryable(`rail ${rail} is not configured on this worker`, 'rail_not_configured');
    return adapter;
  };
  const unavailable = (err: BankUnavailableError) =>
    ApplicationFailure.create({ message: err.message, type: 'BankUnavailable', nextRetryDelay: err.retryAfterMs, cause: err });

  /** Inside a transaction: reverses a conversion at today's mid rate and credits the client back. */
  async function unwindConversion(tx: SqlEntityManager, transfer: TransferRow): Promise<void> {
    const source = transfer.currency;
    const target = transfer.targetCurrency;
    if (source !== target) {
      const quote = await tx.findOneOrFail(FxQuote, { id: transfer.quoteId! });
      const spread = quote.midTargetAmountMinor - quote.targetAmountMinor;
      await move(tx, transfer, 'fx:unwind:spread', target, { name: SYSTEM_ACCOUNTS.fxSpreadRevenue }, LIQUIDITY, spread, 'fx_unwind_spread');
      await move(tx, transfer, 'fx:unwind:target', target, IN_FLIGHT, LIQUIDITY, quote.targetAmountMinor, 'fx_unwind_target_leg');
      const midNow = rates.midRate(target, source, Date.now());
      const back = convertMinor(quote.midTargetAmountMinor, target, source, midNow);
      await move(tx, transfer, 'fx:unwind:source', source, LIQUIDITY, IN_FLIGHT, back, 'fx_unwind_source_leg');
      const shortfall = quote.convertedMinor - back;
      if (shortfall > 0) {
        await move(tx, transfer, 'fx:unwind:loss', source, { name: SYSTEM_ACCOUNTS.fxGainLoss }, IN_FLIGHT, shortfall, 'fx_unwind_loss');
      } else if (shortfall < 0) {
        await move(tx, transfer, 'fx:unwind:gain', source, IN_FLIGHT, { name: SYSTEM_ACCOUNTS.fxGainLoss }, -shortfall, 'fx_unwind_gain');
      }
      await move(tx, transfer, 'fx:unwind:fee', source, { name: SYSTEM_ACCOUNTS.feeRevenue }, IN_FLIGHT, quote.feeMinor, 'fx_fee_refund');
    }
    await move(tx, transfer, 'refund', source, IN_FLIGHT, { clientId: transfer.clientId }, transfer.amountMinor, 'payout_refund');
  }

  return {
    /** Places the two-phase hold. Key: `tr_…:hold`. Final: insufficient funds (a result, not an error). */
    async holdFunds(input: { transferId: string }): Promise<HoldOutcome> {
      try {
        return await inTransaction(em(), async (tx) => {
          const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
          if (transfer.status !== 'created') {
            return { held: transfer.status !== 'failed' && transfer.status !== 'canceled', status: transfer.status as TransferStatus, failureCode: transfer.failureCode ?? undefined };
          }
          const client = await ensureAccount(tx, clientAccountSpec(transfer.clientId, transfer.currency));
          const inFlight = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.payoutsInFlight, transfer.currency));
          await createPosting(tx, {
            externalId: holdKey(transfer.id),
            kind: 'pending',
            debitAccountId: client.id,
            creditAccountId: inFlight.id,
            currency: transfer.currency,
            amountMinor: transfer.amountMinor,
            code: 'payout_hold',
            transferId: transfer.id,
          });
          await moveStatus(tx, transfer.id, 'funds_held', 'funds held for the payout');
          return { held: true, status: 'funds_held' as const };
        });
      } catch (err) {
        if (err instanceof LedgerError && err.code === 'insufficient_funds') {
          await inTransaction(em(), (tx) =>
            moveStatus(tx, input.transferId, 'failed', 'insufficient funds', {
              failureCode: 'insufficient_funds',
              failureMessage: 'The balance does not cover this transfer.',
            }),
          );
          return { held: false, status: 'failed', failureCode: 'insufficient_funds' };
        }
        return nonRetryable(err);
      }
    },

    /**
     * Converts the held funds at the transfer's quote, as linked legs in one transaction:
     * the hold is posted; from payouts in flight (source currency) the fee goes to fee revenue and
     * the rest to FX liquidity; out of FX liquidity (target currency) the payout amount goes to
     * payouts in flight and the spread to spread revenue. Keys: `tr_…:fx:*`. Retried safely.
     */
    async convertFunds(input: { transferId: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        if (!transfer.quoteId) throw new Error(`transfer ${transfer.id} has no FX quote`);
        const quote = await tx.findOneOrFail(FxQuote, { id: transfer.quoteId });
        if (quote.transferId !== transfer.id || quote.sourceAmountMinor !== transfer.amountMinor || quote.targetAmountMinor !== transfer.targetAmountMinor) {
          throw new Error(`quote ${quote.id} does not belong to transfer ${transfer.id}`);
        }
        await postHold(tx, transfer.id);
        const source = transfer.currency;
        const target = transfer.targetCurrency;
        await move(tx, transfer, 'fx:fee', source, IN_FLIGHT, { name: SYSTEM_ACCOUNTS.feeRevenue }, quote.feeMinor, 'fx_fee');
        await move(tx, transfer, 'fx:source', source, IN_FLIGHT, LIQUIDITY, quote.convertedMinor, 'fx_source_leg');
        await move(tx, transfer, 'fx:target', target, LIQUIDITY, IN_FLIGHT, quote.targetAmountMinor, 'fx_target_leg');
        await move(tx, transfer, 'fx:spread', target, LIQUIDITY, { name: SYSTEM_ACCOUNTS.fxSpreadRevenue }, quote.midTargetAmountMinor - quote.targetAmountMinor, 'fx_spread');
        await moveStatus(tx, transfer.id, 'fx_locked', `converted at ${quote.rate} (quote ${quote.id})`);
      }).catch(nonRetryable);
    },

    /**
     * Sends the payout to the bank. Key: the attempt row (transfer, attemptNo), written with its rail
     * reference before the call; a retry resends the same reference and the bank dedupes it.
     * Final: the bank's rejection (returned). Retryable: bank unavailable (thrown). On a batch rail
     * (ACH) the answer is `queued`: the entry waits in its window and the file's answer reaches the
     * workflow from the window's batch workflow (workflows/ach-batch.ts).
     */
    async submitPayout(input: { transferId: string; attemptNo: number; atMs?: number }): Promise<SubmitOutcome> {
      const { transfer, attempt } = await inTransaction(em(), async (tx) => {
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        let attempt = await tx.findOne(Attempt, { transferId: transfer.id, attemptNo: input.attemptNo });
        if (!attempt) {
          const now = new Date();
          const attemptId = newId('att');
          const row: AttemptRow = {
            id: attemptId,
            transferId: transfer.id,
            attemptNo: input.attemptNo,
            rail: transfer.rail,
            // The end-to-end reference, fixed before the bank hears of it: ACH trace number, else the attempt ID.
            railReference: transfer.rail === 'ach' ? await nextTraceNumber(tx, deps.achOdfi) : attemptId,
            status: 'pending',
            failureCode: null,
            createdAt: now,
            updatedAt: now,
          };
          await tx.insert(Attempt, row);
          attempt = row;
        }
        return { transfer, attempt };
      }).catch(nonRetryable);

      if (attempt.status === 'submitted' || attempt.status === 'settled') {
        return { outcome: 'accepted', attemptId: attempt.id, railReference: attempt.railReference };
      }
      if (attempt.status === 'rejected') {
        const code = attempt.failureCode ?? 'rejected';
        return { outcome: 'rejected', attemptId: attempt.id, railReference: attempt.railReference, code, message: `rejected by the bank with ${code}`, fallback: UNREACHABLE_CODES.has(code) };
      }

      let answer;
      try {
        answer = await railFor(transfer.rail).submit({
          reference: attempt.railReference,
          transferId: transfer.id,
          amountMinor: transfer.targetAmountMinor,
          currency: transfer.targetCurrency,
          beneficiary: transfer.beneficiary,
          remittance: transfer.reference,
          createdAt: new Date(),
          atMs: input.atMs,
          ...(transfer.chargeBearer ? { chargeBearer: transfer.chargeBearer as 'OUR' | 'SHA' | 'BEN' } : {}),
        });
      } catch (err) {
        if (err instanceof BankUnavailableError && err.maybeReceived) {
          // The bank may have the payment: never resend blindly. The workflow inquires under this reference.
          const reason = `no answer from the bank for ${attempt.railReference}: ${err.message}`;
          await inTransaction(em(), async (tx) => {
            const row = await tx.findOneOrFail(Attempt, { id: attempt.id });
            row.status = 'unknown';
            row.updatedAt = new Date();
            await tx.flush();
            await moveStatus(tx, transfer.id, 'unknown', reason);
          }).catch(nonRetryable);
          return { outcome: 'unknown', attemptId: attempt.id, railReference: attempt.railReference, reason };
        }
        if (err instanceof BankUnavailableError) throw unavailable(err);
        if (err instanceof RangeError) {
          // The API validates beneficiaries; an instruction we cannot build is for an operator, not a retry.
          throw ApplicationFailure.nonRetryable(`cannot build the payment instruction: ${err.message}`, 'invalid_payment_instruction');
        }
        throw err;
      }
      if (answer.kind === 'queued') {
        // The attempt stays pending and the transfer keeps its status until the file is accepted.
        return { outcome: 'queued', attemptId: attempt.id, railReference: attempt.railReference, windowId: answer.windowId, cutoffAtMs: answer.cutoffAtMs, label: answer.label };
      }
      const rejected = answer.kind === 'rejected';
      const code = answer.kind === 'rejected' ? answer.code : '';
      const message = answer.kind === 'rejected' ? answer.message : '';

      await inTransaction(em(), async (tx) => {
        const row = await tx.findOneOrFail(Attempt, { id: attempt.id });
        row.status = rejected ? 'rejected' : 'submitted';
        // (An attempt resent after an unknown outcome keeps its reference: the bank dedupes it.)
        row.failureCode = rejected ? code : null;
        row.updatedAt = new Date();
        await tx.flush();
        if (!rejected) await moveStatus(tx, transfer.id, 'submitted', `accepted by the bank, trace ${attempt.railReference}`);
      }).catch(nonRetryable);

      return rejected
        ? { outcome: 'rejected', attemptId: attempt.id, railReference: attempt.railReference, code, message, fallback: answer.kind === 'rejected' && answer.fallback === true }
        : { outcome: 'accepted', attemptId: attempt.id, railReference: attempt.railReference };
    },

    /** Asks the bank where a submitted payment stands. Read-only; retryable when the bank is down. */
    async checkPayout(input: { railReference: string | null; rail: string; transferId?: string; attemptNo?: number }): Promise<PayoutInquiry> {
      let railReference = input.railReference;
      let found: PayoutInquiry['attempt'];
      if (railReference === null) {
        // The submit step ended without answering (its retries ran out): its reference is the attempt row's.
        if (!input.transferId || !input.attemptNo) throw ApplicationFailure.nonRetryable('checkPayout needs a railReference, or the transferId and attemptNo of the attempt', 'bad_input');
        const row = await em().findOne(Attempt, { transferId: input.transferId, attemptNo: input.attemptNo });
        // The row is written before the bank hears of the payment: no row, no submission.
        if (!row) return { state: 'not_found', code: null };
        railReference = row.railReference;
        found = { attemptId: row.id, railReference: row.railReference };
      }
      try {
        const answer = await railFor(input.rail).inquire(railReference);
        const state: PayoutState = answer.status === 'held' ? 'pending' : answer.status;
        Context.current().log.debug('payout inquiry', { railReference, state });
        return { state, code: answer.code, ...(answer.correction ? { correction: answer.correction } : {}), ...(found ? { attempt: found } : {}) };
      } catch (err) {
        if (err instanceof BankUnavailableError) throw unavailable(err);
        throw err;
      }
    },

    /**
     * Asks the bank to cancel a submitted payment that has not settled (camt.056 on SEPA). Key: the
     * cancellation ID `tr_…:rcl` (the step `tr_…:recall`, cut to the 35 characters the message
     * allows), the same on every retry: the bank answers a repeated request with its first
     * resolution. Results, never errors: `canceled` (the bank will not pay) and `refused` (it may
     * still pay; the transfer carries on). Retryable: bank unavailable. Final: a rail without
     * recall (`rail_cannot_recall`).
     */
    async recallPayout(input: { transferId: string; attemptId: string; reason: string; recallNo?: number }): Promise<{ outcome: 'canceled' } | { outcome: 'refused'; code: string; message: string }> {
      const { transfer, attempt } = await inTransaction(em(), async (tx) => ({
        transfer: await tx.findOneOrFail(Transfer, { id: input.transferId }),
        attempt: await tx.findOneOrFail(Attempt, { id: input.attemptId }),
      })).catch(nonRetryable);
      const rail = railFor(attempt.rail);
      if (!rail.recall) throw ApplicationFailure.nonRetryable(`rail ${attempt.rail} cannot recall a payment`, 'rail_cannot_recall');
      try {
        const answer = await rail.recall({
          recallId: recallId(transfer.id, input.recallNo),
          reference: attempt.railReference,
          amountMinor: transfer.targetAmountMinor,
          currency: transfer.targetCurrency,
          reason: 'CUST',
          note: input.reason,
        });
        Context.current().log.info('payout recall answered', { transferId: transfer.id, railReference: attempt.railReference, outcome: answer.kind });
        return answer.kind === 'canceled' ? { outcome: 'canceled' } : { outcome: 'refused', code: answer.code, message: answer.message };
      } catch (err) {
        if (err instanceof BankUnavailableError) throw unavailable(err);
        throw err;
      }
    },

    /** Posts the hold (if no conversion did) and moves the payout to the rail's settlement account. Keys: `tr_…:hold:post`, `tr_…:settle`. */
    async settlePayout(input: { transferId: string; attemptId: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        await postHold(tx, transfer.id);
        await move(tx, transfer, 'settle', transfer.targetCurrency, IN_FLIGHT, { name: SYSTEM_ACCOUNTS.bankSettlement(transfer.rail) }, transfer.targetAmountMinor, 'payout_settled');
        const attempt = await tx.findOneOrFail(Attempt, { id: input.attemptId });
        attempt.status = 'settled';
        attempt.updatedAt = new Date();
        await tx.flush();
        // An ACH entry the bank settled before its file's answer was recorded (the send records it submitted).
        if (transfer.status === 'funds_held' || transfer.status === 'fx_locked') await moveStatus(tx, transfer.id, 'submitted', `the bank settled trace ${attempt.railReference}`);
        await moveStatus(tx, transfer.id, 'settled', `settled by the bank, trace ${attempt.railReference}`);
      }).catch(nonRetryable);
    },

    async completeTransfer(input: { transferId: string }): Promise<void> {
      await inTransaction(em(), (tx) => moveStatus(tx, input.transferId, 'completed', 'payout complete')).catch(nonRetryable);
    },

    /**
     * Compensation for the conversion: reverses it at the current mid rate and credits the client
     * back — the target amount and the spread go back to FX liquidity, the source amount comes back,
     * the difference is booked to FX gain/loss, the fee is refunded (`tr_…:fx:unwind:*`,
     * `tr_…:refund`), in one transaction. Nothing to do when no conversion was booked or it was
     * already unwound. Final: the payout has settled (`hold_already_resolved`).
     */
    async unwindFx(input: { transferId: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        if (await tx.findOne(Posting, { externalId: `${transfer.id}:settle` })) {
          throw new LedgerError('hold_already_resolved', `transfer ${transfer.id} has settled; its conversion cannot be unwound`);
        }
        const converted = await tx.findOne(Posting, { externalId: `${transfer.id}:fx:source` });
        if (!converted || (await tx.findOne(Posting, { externalId: `${transfer.id}:refund` }))) return;
        await unwindConversion(tx, transfer);
      }).catch(nonRetryable);
    },

    /**
     * Compensation for the hold: voids it (`tr_…:hold:void`). Nothing to do when no hold was placed,
     * it is already voided, or it was posted by a conversion that has since been unwound and
     * refunded. Final: the hold was posted and the money not given back (`hold_already_resolved`).
     */
    async voidHold(input: { transferId: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const hold = await tx.findOne(Posting, { externalId: holdKey(input.transferId) });
        if (!hold) return;
        const resolution = await tx.findOne(Posting, { pendingId: hold.id });
        if (!resolution) {
          await resolveHold(tx, { externalId: `${holdKey(input.transferId)}:void`, kind: 'void_pending', pendingId: hold.id, code: 'payout_hold_voided' });
          return;
        }
        if (resolution.kind === 'post_pending' && !(await tx.findOne(Posting, { externalId: `${input.transferId}:refund` }))) {
          throw new LedgerError('hold_already_resolved', `the hold of ${input.transferId} was posted and the money was not given back; it cannot be voided`);
        }
      }).catch(nonRetryable);
    },

    /**
     * Ends a transfer failed or canceled once its compensations are done, and marks the attempt
     * the bank refused. Refuses while the client's money is still held or out (a compensation
     * missing), so a transfer never reads `failed` with its money unaccounted for.
     */
    async endTransfer(input: { transferId: string; status: 'failed' | 'canceled'; code: string; message: string; attemptId?: string; attemptStatus?: 'rejected' | 'recalled' | 'canceled' }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const hold = await tx.findOne(Posting, { externalId: holdKey(input.transferId) });
        const resolution = hold ? await tx.findOne(Posting, { pendingId: hold.id }) : null;
        const refunded = await tx.findOne(Posting, { externalId: `${input.transferId}:refund` });
        if (hold && (!resolution || (resolution.kind === 'post_pending' && !refunded))) {
          throw new LedgerError('hold_already_resolved', `transfer ${input.transferId} still holds the client's money; its compensations have not run`);
        }
        if (input.attemptId) {
          const attempt = await tx.findOneOrFail(Attempt, { id: input.attemptId });
          // A payment the bank canceled on our recall is `recalled`; one it refused, `rejected`.
          const ended = input.attemptStatus ?? (input.status === 'canceled' ? 'recalled' : 'rejected');
          if (attempt.status !== ended) {
            attempt.status = ended;
            attempt.failureCode = input.code;
            attempt.updatedAt = new Date();
          }
        }
        await moveStatus(tx, input.transferId, input.status, input.message, { failureCode: input.code, failureMessage: input.message });
      }).catch(nonRetryable);
    },

    /**
     * A payout the bank returned after settlement: the money is back in our settlement account and
     * goes back to the client, in the currency it was paid out in, by a new posting. Key: `tr_…:return`.
     */
    async recordReturn(input: { transferId: string; code: string; reason?: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        await move(tx, transfer, 'return', transfer.targetCurrency, { name: SYSTEM_ACCOUNTS.bankSettlement(transfer.rail) }, { clientId: transfer.clientId }, transfer.targetAmountMinor, 'payout_return');
        await moveStatus(tx, transfer.id, 'returned', input.reason ?? `returned by the bank with ${input.code}`, { failureCode: input.code, failureMessage: `returned by the bank with ${input.code}` });
      }).catch(nonRetryable);
    },

    /** After a rail refused as unreachable: the next attempt goes over `rail`. */
    async switchRail(input: { transferId: string; rail: Rail; reason: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const transfer = await tx.findOneOrFail(Transfer, { id: input.transferId });
        if (transfer.rail === input.rail) return;
        transfer.rail = input.rail;
        await noteStatus(tx, transfer, input.reason);
      }).catch(nonRetryable);
    },

    /** An attempt whose outcome was unknown, found at the bank on inquiry. */
    async confirmAttempt(input: { attemptId: string }): Promise<void> {
      await inTransaction(em(), async (tx) => {
        const attempt = await tx.findOneOrFail(Attempt, { id: input.attemptId });
        if (attempt.status === 'unknown' || attempt.status === 'pending') {
          attempt.status = 'submitted';
          attempt.updatedAt = new Date();
        }
      }).catch(nonRetryable);
    },

    async markNeedsAttention(input: { transferId: string; reason: string }): Promise<void> {
      await inTransaction(em(), (tx) => moveStatus(tx, input.transferId, 'needs_attention', input.reason)).catch(nonRetryable);
    },

    async resumeStatus(input: { transferId: string; status: TransferStatus; reason: string }): Promise<void> {
      await inTransaction(em(), (tx) => moveStatus(tx, input.transferId, input.status, input.reason)).catch(nonRetryable);
    },
  };
}

export type TransferActivities = ReturnType<typeof createTransferActivities>;
