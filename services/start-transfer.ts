/**
 * Starting a transfer: validate what the schema cannot, check the balance, persist the intent,
 * then start the workflow and wait (update-with-start) until it has placed the hold.
 *
 * The transfer ID is generated and persisted before the workflow starts; the workflow ID is derived
 * from it and the start uses the USE_EXISTING conflict policy, so a repeated start is a no-op.
 */
import type { SqlEntityManager } from '@mikro-orm/knex';
import { WithStartWorkflowOperation, type Client as TemporalClient } from '@temporalio/client';
import { AppError, invalid } from '../core/errors';
import { newId } from '../core/ids';
import {
  SEARCH_ATTRIBUTES,
  railAccepts,
  routeRail,
  type BeneficiaryKind,
  workflowIdFor,
  type Rail,
  type TransferTiming,
  type TransferWorkflowInput,
} from '../core/transfer';
import { Account, FxQuote, Transfer, TransferEvent, type FxQuoteRow, type TransferRow } from '../db/schema';
import type { RatesSource } from '../fx/rates';
import { priceQuote, usableQuote, type FxPricing } from './fx';
import { clientAccountKey, clientBalance, inTransaction } from '../ledger/ledger';
import type { CreateTransferBody } from '../api/schemas';
import { fundsHeldUpdate, transferWorkflow } from '../workflows/transfer';
import { loadTransferView, type TransferView } from './transfers';

export interface StartTransferDeps {
  em: SqlEntityManager;
  temporal: TemporalClient;
  taskQueue: string;
  timing: TransferTiming;
  rates: RatesSource;
  pricing: FxPricing;
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
  if (!rail) {
    const ibanOnly = !b.routingNumber && !b.bic;
    const hint = ibanOnly ? ' (outside SEPA an IBAN needs the bank\'s bic for a SWIFT wire)' : '';
    throw invalid(ibanOnly ? 'beneficiary.bic' : currencyParam, `no rail carries ${payoutCurrency} to ${b.country} for this beneficiary${hint}`);
  }
  return rail;
}

export async function startTransfer(deps: StartTransferDeps, clientId: string, body: CreateTransferBody): Promise<TransferView> {
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

  // Refuse an unfunded transfer before writing anything. The hold itself is the real guard: a
  // balance spent between this read and the hold still fails there, with the transfer recorded failed.
  const account = await deps.em.fork().findOne(Account, { accountKey: clientAccountKey(clientId, body.currency) });
  const availableMinor = account ? clientBalance(account).availableMinor : 0;
  if (availableMinor < body.amountMinor) {
    throw new AppError('insufficient_funds', `available ${body.currency} balance (${availableMinor}) does not cover amountMinor ${body.amountMinor}`, { param: 'amountMinor' });
  }

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
  };
  await inTransaction(deps.em, async (tx) => {
    if (quote && body.quoteId) {
      // Claim the quote: a concurrent transfer with the same quote finds it taken and fails here.
      const claimed = await tx.nativeUpdate(FxQuote, { id: quote.id, transferId: null }, { transferId });
      if (claimed !== 1) throw new AppError('invalid_state', `quote ${quote.id} was already used`, { param: 'quoteId' });
    } else if (quote) {
      await tx.insert(FxQuote, { ...quote, transferId });
    }
    tx.persist(tx.create(Transfer, transfer));
    tx.persist(tx.create(TransferEvent, { id: newId('evt'), transferId: transfer.id, status: 'created', reason: null, at: now }));
  });

  const input: TransferWorkflowInput = {
    transferId: transfer.id,
    clientId,
    amountMinor: transfer.amountMinor,
    currency: transfer.currency,
    targetCurrency,
    rail,
    timing: deps.timing,
  };
  let outcome;
  try {
    outcome = await deps.temporal.workflow.executeUpdateWithStart(fundsHeldUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(transferWorkflow, {
        workflowId: workflowIdFor(transfer.id),
        taskQueue: deps.taskQueue,
        args: [input],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: crossCurrency
          ? `Payout ${transfer.amountMinor} ${transfer.currency} → ${transfer.targetAmountMinor} ${targetCurrency} (minor units) over ${rail} for ${clientId}`
          : `Payout ${transfer.amountMinor} ${transfer.currency} minor units over ${rail} for ${clientId}`,
        // IDs, amounts and where to look; never account numbers or names.
        staticDetails: `Transfer ${transfer.id} of client ${clientId}. API: GET /v1/transfers/${transfer.id}. Operators: query \`status\`; updates or signals \`retry\` and \`cancel\` with {reason, operator}; audit at GET /v1/ops/audit?transferId=${transfer.id}.`,
        typedSearchAttributes: [
          { key: SEARCH_ATTRIBUTES.status, value: 'created' },
          { key: SEARCH_ATTRIBUTES.rail, value: rail },
          { key: SEARCH_ATTRIBUTES.clientId, value: clientId },
          { key: SEARCH_ATTRIBUTES.currency, value: transfer.currency },
          { key: SEARCH_ATTRIBUTES.amountMinor, value: transfer.amountMinor },
        ],
      }),
    });
  } catch (err) {
    throw new AppError('service_unavailable', `transfer ${transfer.id} was recorded but its workflow could not be started; retry with the same Idempotency-Key`, { cause: err });
  }
  if (!outcome.held && outcome.status === 'canceled') {
    throw new AppError('invalid_state', `transfer ${transfer.id} was canceled by an operator before its funds were held`);
  }
  if (!outcome.held) {
    throw new AppError('insufficient_funds', `the balance no longer covers amountMinor ${body.amountMinor}; transfer ${transfer.id} is recorded as failed`, { param: 'amountMinor' });
  }
  const view = await loadTransferView(deps.em, transfer.id, clientId);
  if (!view) throw new Error(`transfer ${transfer.id} vanished`);
  return view;
}
