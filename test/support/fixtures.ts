import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../../core/ids';
import { railTiming, type TransferTiming, type TransferWorkflowInput } from '../../core/transfer';
import { Account, Posting, Transfer, TransferEvent, type TransferRow } from '../../db/schema';
import { clientAccountKey, clientBalance, type Balance } from '../../ledger/ledger';
import { createClient, deposit } from '../../services/clients';

export const BENEFICIARY = { name: 'Ada Lovelace', country: 'US', accountNumber: '000123456789', routingNumber: '110000000' };

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
    rail: 'ach',
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
  return { transferId: row.id, clientId, amountMinor, currency: 'USD', targetCurrency: 'USD', rail: 'ach', timing };
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
