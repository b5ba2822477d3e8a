/**
 * The API's view of a transfer — its row, events and attempts, the beneficiary masked — which
 * the API returns and every webhook event carries.
 */
import type { SqlEntityManager } from '@mikro-orm/knex';
import { maskAccount } from '../core/masking';
import { workflowIdFor } from '../core/transfer';
import { Attempt, Transfer, TransferEvent, type AttemptRow, type TransferEventRow, type TransferRow } from '../db/schema';

export function maskBeneficiary(b: Record<string, string>): Record<string, string> {
  const out = { ...b };
  for (const field of ['accountNumber', 'iban']) if (out[field]) out[field] = maskAccount(out[field]);
  return out;
}

export function transferView(t: TransferRow, events: TransferEventRow[], attempts: AttemptRow[]) {
  return {
    id: t.id,
    object: 'transfer',
    status: t.status,
    amountMinor: t.amountMinor,
    currency: t.currency,
    targetCurrency: t.targetCurrency,
    targetAmountMinor: t.targetAmountMinor,
    fx: t.fxRate && t.quoteId ? { rate: t.fxRate, quoteId: t.quoteId } : null,
    feeMinor: t.feeMinor,
    rail: t.rail,
    chargeBearer: t.chargeBearer ?? null,
    beneficiary: maskBeneficiary(t.beneficiary),
    reference: t.reference,
    metadata: t.metadata ?? {},
    failure: t.failureCode ? { code: t.failureCode, message: t.failureMessage ?? '' } : null,
    attempts: attempts
      .sort((a, b) => a.attemptNo - b.attemptNo)
      .map((a) => ({ id: a.id, rail: a.rail, railReference: a.railReference, status: a.status, beneficiaryReceivedMinor: a.beneficiaryReceivedMinor ?? null, chargesMinor: a.chargesMinor ?? null })),
    events: events
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id < b.id ? -1 : 1))
      .map((e) => ({ status: e.status, at: e.at.toISOString(), ...(e.reason ? { reason: e.reason } : {}) })),
    workflowId: workflowIdFor(t.id),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export type TransferView = ReturnType<typeof transferView>;

/** Views of several transfers with their events and attempts: three queries, whatever the count. */
export async function transferViews(em: SqlEntityManager, transfers: TransferRow[]): Promise<TransferView[]> {
  if (transfers.length === 0) return [];
  const ids = transfers.map((t) => t.id);
  const fork = em.fork();
  const [events, attempts] = await Promise.all([fork.find(TransferEvent, { transferId: { $in: ids } }), fork.find(Attempt, { transferId: { $in: ids } })]);
  return transfers.map((t) =>
    transferView(
      t,
      events.filter((e) => e.transferId === t.id),
      attempts.filter((a) => a.transferId === t.id),
    ),
  );
}

export async function loadTransferView(em: SqlEntityManager, transferId: string, clientId?: string): Promise<TransferView | null> {
  const transfer = await em.fork().findOne(Transfer, clientId ? { id: transferId, clientId } : { id: transferId });
  if (!transfer) return null;
  const [view] = await transferViews(em, [transfer]);
  return view;
}
