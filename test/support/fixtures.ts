import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../../core/ids';
import { railTiming, type TransferTiming, type TransferWorkflowInput } from '../../core/transfer';
import { Account, Approval, FxQuote, Posting, Transfer, TransferEvent, type ApprovalAction, type ApprovalKind, type ApprovalStatus, type FxQuoteRow, type TransferRow } from '../../db/schema';
import { createRatesSource } from '../../fx/rates';
import { priceQuote } from '../../services/fx';
import { clientAccountKey, clientBalance, type Balance } from '../../ledger/ledger';
import { createClient, deposit } from '../../services/clients';

export const BENEFICIARY = { name: 'Ada Lovelace', country: 'US', accountNumber: '000123456789', routingNumber: '110000000' };
export const IBAN_BENEFICIARY = { name: 'Emilie du Chatelet', country: 'DE', iban: 'DE89370400440532013000', bic: 'COBADEFFXXX' };
export const GB_BENEFICIARY = { name: 'Mary Somerville', country: 'GB', iban: 'GB29NWBK60161331926819', bic: 'NWBKGB2LXXX' };
export const JP_BENEFICIARY = { name: 'Seki Takakazu', country: 'JP', accountNumber: '1234567', bic: 'BOTKJPJTXXX' };
export const KW_BENEFICIARY = { name: 'Ibn al-Haytham', country: 'KW', iban: 'KW81CBKU0000000000001234560101', bic: 'CBKUKWKWXXX' };

export async function fundedClient(orm: MikroORM, amountMinor: number, currency = 'USD'): Promise<string> {
  const em = orm.em.fork() as SqlEntityManager;
  const { client } = await createClient(em, 'Test Client');
  if (amountMinor > 0) await deposit(em, { clientId: client.id, currency, amountMinor, reference: `seed-${client.id}` });
  return client.id;
}

/** Inserts a transfer in `created`, as the API does before starting its workflow. */
export async function createdTransfer(
  orm: MikroORM,
  clientId: string,
  amountMinor: number,
  beneficiary: Record<string, string> = BENEFICIARY,
  timing: TransferTiming = railTiming('demo'),
  /** `rtp` for a US payout sent one instruction at a time (ACH goes in window files). */
  rail: 'ach' | 'rtp' = 'ach',
): Promise<TransferWorkflowInput> {
  const em = orm.em.fork();
  const now = new Date();
  const row: TransferRow = {
    id: newId('tr'),
    clientId,
    status: 'created',
    amountMinor,
    currency: 'USD',
    targetCurrency: 'USD',
    targetAmountMinor: amountMinor,
    fxRate: null,
    quoteId: null,
    feeMinor: 0,
    rail,
    beneficiary,
    reference: null,
    metadata: null,
    failureCode: null,
    failureMessage: null,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  em.persist(em.create(Transfer, row));
  em.persist(em.create(TransferEvent, { id: newId('evt'), transferId: row.id, status: 'created', reason: null, at: now }));
  await em.flush();
  return { transferId: row.id, clientId, amountMinor, currency: 'USD', targetCurrency: 'USD', rail, timing };
}

export async function balanceOf(orm: MikroORM, clientId: string, currency = 'USD'): Promise<Balance> {
  const account = await orm.em.fork().findOneOrFail(Account, { accountKey: clientAccountKey(clientId, currency) });
  return clientBalance(account);
}

export async function postingsOf(orm: MikroORM, transferId: string) {
  const rows = await orm.em.fork().find(Posting, { transferId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  return rows.map((p) => ({ kind: p.kind, code: p.code, amountMinor: p.amountMinor }));
}

export async function transferRow(orm: MikroORM, transferId: string): Promise<TransferRow> {
  return orm.em.fork().findOneOrFail(Transfer, { id: transferId });
}

export const PRICING = { quoteTtlMs: 60_000, spreadBps: 30, feeBps: 25 };

/** A cross-currency transfer in `created` with its quote claimed, as the API writes it. */
export async function createdFxTransfer(
  orm: MikroORM,
  clientId: string,
  amountMinor: number,
  currency: string,
  targetCurrency: string,
  beneficiary: Record<string, string> = BENEFICIARY,
): Promise<{ input: TransferWorkflowInput; quote: FxQuoteRow }> {
  const rail = beneficiary.routingNumber ? 'ach' : 'swift';
  const base = await createdTransfer(orm, clientId, amountMinor, beneficiary);
  await orm.em.fork().nativeUpdate(Transfer, { id: base.transferId }, { rail });
  const quote = priceQuote(createRatesSource(), PRICING, { clientId, sourceCurrency: currency, targetCurrency, sourceAmountMinor: amountMinor }, Date.now());
  const em = orm.em.fork();
  await em.insert(FxQuote, { ...quote, transferId: base.transferId });
  await em.nativeUpdate(Transfer, { id: base.transferId }, { currency, targetCurrency, targetAmountMinor: quote.targetAmountMinor, fxRate: quote.rate, quoteId: quote.id, feeMinor: quote.feeMinor });
  return { input: { ...base, currency, targetCurrency, rail }, quote };
}

/** Every posting of a transfer as (kind, debit account key, credit account key, amount). */
export async function legsOf(orm: MikroORM, transferId: string) {
  const em = orm.em.fork();
  const rows = await em.find(Posting, { transferId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  const accounts = new Map((await em.find(Account, { id: { $in: rows.flatMap((p) => [p.debitAccountId, p.creditAccountId]) } })).map((a) => [a.id, a.accountKey]));
  const short = (key: string) => key.replace(/^client:[^:]+:/, 'client:');
  return rows.map((p) => ({ kind: p.kind, code: p.code, debit: short(accounts.get(p.debitAccountId)!), credit: short(accounts.get(p.creditAccountId)!), amountMinor: p.amountMinor, currency: p.currency }));
}

/**
 * An approval as the ops API records one (services/approvals.ts): asked by `requestedBy`, decided
 * by `decidedBy`. For workflow tests that carry out an approval without the API.
 */
export async function recordedApproval(
  orm: MikroORM,
  transferId: string,
  kind: Exclude<ApprovalKind, 'break_resolution'>,
  options: { status?: ApprovalStatus; requestedBy?: string; decidedBy?: string } = {},
): Promise<string> {
  const id = newId('apr');
  const status = options.status ?? 'approved';
  const action: ApprovalAction = kind === 'recall' ? { kind: 'cancel', reason: 'recall' } : kind === 'return_accept' ? { kind: 'returnDecision', decision: 'accept', reason: 'accept' } : { kind: 'payout' };
  const decided = status !== 'pending';
  await orm.em.fork().insert(Approval, {
    id, kind, subjectId: transferId, transferId, requestedBy: options.requestedBy ?? 'alice', requestReason: 'test', status, action,
    decidedBy: decided ? (options.decidedBy ?? 'bob') : null, decisionReason: decided ? 'test' : null, createdAt: new Date(), decidedAt: decided ? new Date() : null, executedAt: null, outcome: null,
  });
  return id;
}
