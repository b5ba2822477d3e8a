import type { SqlEntityManager } from '@mikro-orm/knex';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import { Account, Client, Deposit, type ClientRow, type DepositRow } from '../db/schema';
import { hashApiKey, newApiKey } from '../api/keys';
import { SYSTEM_ACCOUNTS, clientAccountSpec, clientBalance, createPosting, ensureAccount, inTransaction, systemAccountSpec, type Balance } from '../ledger/ledger';

export async function createClient(em: SqlEntityManager, name: string): Promise<{ client: ClientRow; apiKey: string }> {
  const apiKey = newApiKey('client');
  const client: ClientRow = { id: newId('cl'), name, apiKeyHash: hashApiKey(apiKey), createdAt: new Date() };
  await em.fork().insert(Client, client);
  return { client, apiKey };
}

export async function findClientByKey(em: SqlEntityManager, apiKey: string): Promise<ClientRow | null> {
  return em.fork().findOne(Client, { apiKeyHash: hashApiKey(apiKey) });
}

export function depositView(d: DepositRow) {
  return {
    id: d.id,
    object: 'deposit',
    clientId: d.clientId,
    currency: d.currency,
    amountMinor: d.amountMinor,
    reference: d.reference,
    createdAt: d.createdAt.toISOString(),
  };
}

/**
 * Credits a client's balance with an inbound deposit: our bank account (debit) now holds money
 * we owe the client (credit). The reference is unique per client; repeating it with the same
 * amount returns the first deposit, with a different amount it is refused.
 */
export async function deposit(
  em: SqlEntityManager,
  input: { clientId: string; currency: string; amountMinor: number; reference: string },
): Promise<DepositRow> {
  return inTransaction(em, async (tx) => {
    const client = await tx.findOne(Client, { id: input.clientId });
    if (!client) throw new AppError('not_found', `no client ${input.clientId}`, { param: 'id' });
    const existing = await tx.findOne(Deposit, { clientId: input.clientId, reference: input.reference });
    if (existing) {
      if (existing.amountMinor === input.amountMinor && existing.currency === input.currency) return existing;
      throw new AppError('invalid_state', `deposit reference ${input.reference} was already used for a different amount`, { param: 'reference' });
    }
    const clientAccount = await ensureAccount(tx, clientAccountSpec(input.clientId, input.currency));
    const bank = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.bankDeposits, input.currency));
    const depositId = newId('dep');
    const { posting } = await createPosting(tx, {
      externalId: `${depositId}:deposit`,
      kind: 'single',
      debitAccountId: bank.id,
      creditAccountId: clientAccount.id,
      currency: input.currency,
      amountMinor: input.amountMinor,
      code: 'deposit',
    });
    const row: DepositRow = { id: depositId, ...input, postingId: posting.id, createdAt: new Date() };
    await tx.insert(Deposit, row);
    return row;
  });
}

export async function balancesOf(em: SqlEntityManager, clientId: string): Promise<Balance[]> {
  const accounts = await em.fork().find(Account, { clientId, kind: 'client' }, { orderBy: { currency: 'asc' } });
  return accounts.map(clientBalance);
}
