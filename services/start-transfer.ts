/**
 * Starting a transfer: validate what the schema cannot, check the balance, persist the intent,
 * then start the workflow and wait (update-with-start) until it has placed the hold.
 *
 * The transfer ID is generated and persisted before the workflow starts, together with the
 * idempotency key's recovery point; the workflow ID is derived from it, the start uses the
 * USE_EXISTING conflict policy and the REJECT_DUPLICATE reuse policy, so a repeated start is a
 * no-op and a transfer never gets a second run. A request that fails between the write and the
 * start leaves a transfer in `created`: a retry under the same key resumes it (`resumeTransfer`),
 * and the recovery sweep (`recover-transfers.ts`) starts it if nobody retries.
 */
import type { SqlEntityManager } from '@mikro-orm/knex';
import { WithStartWorkflowOperation, type Client as TemporalClient, type WorkflowStartOptions } from '@temporalio/client';
import { AppError, invalid } from '../core/errors';
import { REQUEST_ID_MEMO_KEY } from '../core/request-id';
import { newId } from '../core/ids';
import {
  FALLBACK_RAIL,
  RAILS,
  RAIL_CAPABILITIES,
  SEARCH_ATTRIBUTES,
  railAccepts,
  routeRail,
  type BeneficiaryKind,
  workflowIdFor,
  type Rail,
  type TransferTiming,
  type TransferWorkflowInput,
} from '../core/transfer';
import { Account, Approval, Client, FxQuote, Transfer, type FxQuoteRow, type TransferRow } from '../db/schema';
import { requestApproval } from './approvals';
import type { RatesSource } from '../fx/rates';
import { priceQuote, usableQuote, type FxPricing } from './fx';
import { clientAccountKey, clientBalance, inTransaction } from '../ledger/ledger';
import type { CreateTransferBody } from '../api/schemas';
import { fundsHeldUpdate, transferWorkflow } from '../workflows/transfer';
import { recordCreated } from '../transfers/status';
import { loadTransferView, type TransferView } from '../transfers/view';

/**
 * How long the API waits for the workflow to start and hold the funds before answering 503 (the
 * transfer is kept; a retry under the same key resumes it). Well below the idempotency lease.
 */
export const START_DEADLINE_MS = 20_000;

/** Where a created transfer is recorded with the request's idempotency key (see api/idempotency.ts). */
export interface RecoveryPoint {
  saveRecoveryPoint(tx: SqlEntityManager, transferId: string): Promise<void>;
}
import { railTextRefusal } from '../rails/text-rules';

export interface StartTransferDeps {
  em: SqlEntityManager;
  temporal: TemporalClient;
  taskQueue: string;
  timing: TransferTiming;
  rates: RatesSource;
  pricing: FxPricing;
  /** START_DEADLINE_MS unless given (tests shorten it). */
  startDeadlineMs?: number;
  /** The API request's ID, kept in the workflow's memo so workflow and activity logs carry it. */
  requestId?: string;
}

/** The rail for the currency the beneficiary receives and the details the beneficiary gave. */
function chooseRail(body: CreateTransferBody, payoutCurrency: string, payoutAmountMinor: number): Rail {
  const b = body.beneficiary;
  const offers: BeneficiaryKind[] = b.routingNumber ? ['us_account'] : [...(b.iban ? ['iban' as const] : []), ...(b.bic ? ['bic' as const] : [])];
  const currencyParam = payoutCurrency === body.currency ? 'currency' : 'targetCurrency';
  if (body.rail) {
    const refusal = railAccepts(body.rail, payoutCurrency, b.country, offers, payoutAmountMinor);
    if (refusal) throw invalid(refusal.includes('amounts above') ? 'amountMinor' : refusal.includes('does not carry') ? currencyParam : refusal.includes('reach') ? 'beneficiary.country' : refusal.includes('enabled') ? 'rail' : 'beneficiary', refusal);
    return body.rail;
  }
  const rail = routeRail(payoutCurrency, b.country, offers, payoutAmountMinor);
  // A rail reaches this beneficiary, only not with this much: the amount is what is wrong.
  const smaller = !rail && routeRail(payoutCurrency, b.country, offers, 1);
  if (smaller) {
    const maxMinor = Math.max(...RAILS.filter((r) => railAccepts(r, payoutCurrency, b.country, offers, 1) === undefined).map((r) => RAIL_CAPABILITIES[r]!.amountMaxMinor));
    throw invalid('amountMinor', `no rail carries more than ${maxMinor} minor units of ${payoutCurrency} to ${b.country} in one payment; this one is ${payoutAmountMinor}`);
  }
  if (!rail) {
    const ibanOnly = !b.routingNumber && !b.bic;
    const hint = ibanOnly ? ' (outside SEPA an IBAN needs the bank\'s bic for a SWIFT wire)' : '';
    throw invalid(ibanOnly ? 'beneficiary.bic' : currencyParam, `no rail carries ${payoutCurrency} to ${b.country} for this beneficiary${hint}`);
  }
  return rail;
}

export async function startTransfer(deps: StartTransferDeps, clientId: string, body: CreateTransferBody, recovery?: RecoveryPoint): Promise<TransferView> {
  const targetCurrency = body.targetCurrency ?? body.currency;
  const crossCurrency = targetCurrency !== body.currency;
  if (!crossCurrency && body.quoteId !== undefined) throw invalid('quoteId', 'quoteId applies to cross-currency transfers only');

  const now = new Date();
  const transferId = newId('tr', now.getTime());
  // A cross-currency transfer pays at the client's own unexpired quote, or at a live one.
  const quote: FxQuoteRow | null = !crossCurrency
    ? null
    : body.quoteId
      ? await usableQuote(deps.em, clientId, body.quoteId, { sourceCurrency: body.currency, targetCurrency, sourceAmountMinor: body.amountMinor }, now.getTime())
      : priceQuote(deps.rates, deps.pricing, { clientId, sourceCurrency: body.currency, targetCurrency, sourceAmountMinor: body.amountMinor }, now.getTime());
  const rail = chooseRail(body, targetCurrency, quote ? quote.targetAmountMinor : body.amountMinor);
  if (body.chargeBearer !== undefined && rail !== 'swift') throw invalid('chargeBearer', `chargeBearer applies to swift payouts only; this one goes over ${rail}`);
  // The text must fit the rail it goes out on, and the fallback rail it may go out on instead.
  for (const carrier of [rail, FALLBACK_RAIL[rail]]) {
    const refusal = carrier && railTextRefusal(carrier, { name: body.beneficiary.name, reference: body.reference });
    if (refusal) throw invalid(refusal.param, refusal.message);
  }

  // Refuse an unfunded transfer before writing anything. The hold itself is the real guard: a
  // balance spent between this read and the hold still fails there, with the transfer recorded failed.
  const account = await deps.em.fork().findOne(Account, { accountKey: clientAccountKey(clientId, body.currency) });
  const availableMinor = account ? clientBalance(account).availableMinor : 0;
  if (availableMinor < body.amountMinor) {
    throw new AppError('insufficient_funds', `available ${body.currency} balance (${availableMinor}) does not cover amountMinor ${body.amountMinor}`, { param: 'amountMinor' });
  }

  // Four eyes (SPEC §5): at or above the client's threshold for the currency, the payout waits for an approval after its hold.
  const threshold = (await deps.em.fork().findOne(Client, { id: clientId }))?.approvalThresholdMinor?.[body.currency];
  const approvalRequired = threshold !== undefined && body.amountMinor >= threshold;

  const transfer: TransferRow = {
    id: transferId,
    clientId,
    status: 'created',
    amountMinor: body.amountMinor,
    currency: body.currency,
    targetCurrency,
    targetAmountMinor: quote ? quote.targetAmountMinor : body.amountMinor,
    fxRate: quote ? quote.rate : null,
    quoteId: quote ? quote.id : null,
    feeMinor: quote ? quote.feeMinor : 0,
    rail,
    beneficiary: { ...body.beneficiary },
    reference: body.reference ?? null,
    metadata: body.metadata ?? null,
    failureCode: null,
    failureMessage: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
    // SWIFT charges are ours (OUR) unless the client says otherwise: the beneficiary gets the full amount.
    chargeBearer: rail === 'swift' ? (body.chargeBearer ?? 'OUR') : null,
  };
  await inTransaction(deps.em, async (tx) => {
    if (quote && body.quoteId) {
      // Claim the quote: a concurrent transfer with the same quote finds it taken and fails here.
      const claimed = await tx.nativeUpdate(FxQuote, { id: quote.id, transferId: null }, { transferId });
      if (claimed !== 1) throw new AppError('invalid_state', `quote ${quote.id} was already used`, { param: 'quoteId' });
    } else if (quote) {
      await tx.insert(FxQuote, { ...quote, transferId });
    }
    await recordCreated(tx, transfer);
    if (approvalRequired) {
      await requestApproval(tx, {
        kind: 'payout',
        subjectId: transferId,
        transferId,
        // The client asked: any operator may approve.
        requestedBy: `client:${clientId}`,
        reason: `payout of ${body.amountMinor} ${body.currency} minor units, at or above the client's approval threshold of ${threshold}`,
        action: { kind: 'payout' },
        statusBefore: 'created',
        detail: `the payout holds its funds and waits in needs_approval; approve lets it go on, deny cancels it and voids the hold`,
      });
    }
    await recovery?.saveRecoveryPoint(tx, transfer.id);
  });
  return awaitHold(deps, transfer);
}

/** The workflow start for a recorded transfer: the same options from the API and the recovery sweep. */
export function workflowStartOptions(
  transfer: TransferRow,
  taskQueue: string,
  timing: TransferTiming,
  requestId?: string,
  approvalRequired = false,
): WorkflowStartOptions<typeof transferWorkflow> & { workflowIdConflictPolicy: 'USE_EXISTING' } {
  const input: TransferWorkflowInput = {
    transferId: transfer.id,
    clientId: transfer.clientId,
    amountMinor: transfer.amountMinor,
    currency: transfer.currency,
    targetCurrency: transfer.targetCurrency,
    rail: transfer.rail as Rail,
    timing,
    ...(approvalRequired ? { approvalRequired: true } : {}),
  };
  const crossCurrency = transfer.targetCurrency !== transfer.currency;
  return {
    workflowId: workflowIdFor(transfer.id),
    taskQueue,
    args: [input],
    // A running workflow for this transfer is the one we want; a closed one is never started again.
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    ...(requestId ? { memo: { [REQUEST_ID_MEMO_KEY]: requestId } } : {}),
    staticSummary: crossCurrency
      ? `Payout ${transfer.amountMinor} ${transfer.currency} → ${transfer.targetAmountMinor} ${transfer.targetCurrency} (minor units) over ${transfer.rail} for ${transfer.clientId}`
      : `Payout ${transfer.amountMinor} ${transfer.currency} minor units over ${transfer.rail} for ${transfer.clientId}`,
    // IDs, amounts and where to look; never account numbers or names.
    staticDetails: `Transfer ${transfer.id} of client ${transfer.clientId}. API: GET /v1/transfers/${transfer.id}. Operators: query \`status\`; updates or signals \`retry\` and \`cancel\` with {reason, operator}; audit at GET /v1/ops/audit?transferId=${transfer.id}.`,
    typedSearchAttributes: [
      { key: SEARCH_ATTRIBUTES.status, value: 'created' },
      { key: SEARCH_ATTRIBUTES.rail, value: transfer.rail },
      { key: SEARCH_ATTRIBUTES.clientId, value: transfer.clientId },
      { key: SEARCH_ATTRIBUTES.currency, value: transfer.currency },
      { key: SEARCH_ATTRIBUTES.amountMinor, value: transfer.amountMinor },
    ],
  };
}

/**
 * A retry under the key of a request that recorded `transferId` and then stopped: answers from the
 * database once the workflow has got past the hold, else starts (or joins) the workflow and waits.
 */
export async function resumeTransfer(deps: StartTransferDeps, clientId: string, transferId: string): Promise<TransferView> {
  const transfer = await deps.em.fork().findOne(Transfer, { id: transferId, clientId });
  if (!transfer) throw new Error(`the recovery point names transfer ${transferId}, which does not exist for ${clientId}`);
  if (transfer.status === 'created') return awaitHold(deps, transfer);
  return answerFor(deps, transfer);
}

/** Whether the transfer was recorded with a payout approval (its start says so to the workflow; see core/approval.ts). */
export async function payoutApprovalRequired(em: SqlEntityManager, transferId: string): Promise<boolean> {
  return (await em.fork().count(Approval, { subjectId: transferId, kind: 'payout' })) > 0;
}

/** Starts (or joins) the transfer's workflow and waits, bounded, until it has placed the hold. */
async function awaitHold(deps: StartTransferDeps, transfer: TransferRow): Promise<TransferView> {
  let outcome;
  const approvalRequired = await payoutApprovalRequired(deps.em, transfer.id);
  try {
    outcome = await deps.temporal.withDeadline(Date.now() + (deps.startDeadlineMs ?? START_DEADLINE_MS), () =>
      deps.temporal.workflow.executeUpdateWithStart(fundsHeldUpdate, {
        startWorkflowOperation: new WithStartWorkflowOperation(transferWorkflow, workflowStartOptions(transfer, deps.taskQueue, deps.timing, deps.requestId, approvalRequired)),
      }),
    );
  } catch (err) {
    throw new AppError('service_unavailable', `transfer ${transfer.id} was recorded but its workflow could not be started or did not confirm the hold in time; retry with the same Idempotency-Key`, { cause: err });
  }
  if (!outcome.held && outcome.status === 'canceled') {
    throw new AppError('invalid_state', `transfer ${transfer.id} was canceled by an operator before its funds were held`);
  }
  if (!outcome.held) return refusedAtHold(transfer);
  return answerFor(deps, transfer);
}

function refusedAtHold(transfer: TransferRow): never {
  throw new AppError('insufficient_funds', `the balance no longer covers amountMinor ${transfer.amountMinor}; transfer ${transfer.id} is recorded as failed`, { param: 'amountMinor' });
}

/** The answer once the hold is decided: 402 when it failed for want of funds, else the transfer. */
async function answerFor(deps: StartTransferDeps, transfer: TransferRow): Promise<TransferView> {
  const view = await loadTransferView(deps.em, transfer.id, transfer.clientId);
  if (!view) throw new Error(`transfer ${transfer.id} vanished`);
  if (view.status === 'failed' && view.failure?.code === 'insufficient_funds') refusedAtHold(transfer);
  return view;
}
