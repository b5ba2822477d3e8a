import type { SqlEntityManager } from '@mikro-orm/knex';
import { AppError } from '../core/errors';
import { newId } from '../core/ids';
import { Account, ApiKey, Client, Deposit, OperatorAction, type ApiKeyRow, type ClientRow, type DepositRow } from '../db/schema';
import { hashApiKey, newApiKey } from '../api/keys';
import { SYSTEM_ACCOUNTS, clientAccountSpec, clientBalance, createPosting, ensureAccount, inTransaction, systemAccountSpec, type Balance } from '../ledger/ledger';

function newKeyRow(clientId: string, apiKey: string, now: Date): ApiKeyRow {
  return { id: newId('key', now.getTime()), clientId, keyHash: hashApiKey(apiKey), last4: apiKey.slice(-4), createdAt: now, revokedAt: null };
}

/** Creates a client with its first API key; the client and the key are written in one transaction. */
export async function createClient(em: SqlEntityManager, name: string): Promise<{ client: ClientRow; apiKey: string; key: ApiKeyRow }> {
  const apiKey = newApiKey('client');
  const now = new Date();
  const client: ClientRow = { id: newId('cl', now.getTime()), name, createdAt: now };
  const key = newKeyRow(client.id, apiKey, now);
  await em.fork().transactional(async (tx) => {
    await tx.insert(Client, client);
    await tx.insert(ApiKey, key);
  });
  return { client, apiKey, key };
}

/** The client and key an API key belongs to, if the key exists and has not been revoked. */
export async function findClientByKey(em: SqlEntityManager, apiKey: string): Promise<{ clientId: string; keyId: string } | null> {
  const key = await em.fork().findOne(ApiKey, { keyHash: hashApiKey(apiKey), revokedAt: null });
  return key ? { clientId: key.clientId, keyId: key.id } : null;
}

export function apiKeyView(k: ApiKeyRow) {
  return {
    id: k.id,
    object: 'api_key',
    clientId: k.clientId,
    last4: k.last4,
    createdAt: k.createdAt.toISOString(),
    revokedAt: k.revokedAt ? k.revokedAt.toISOString() : null,
  };
}

/** Issues an additional key for a client, so that it can rotate: the new key works at once, the old ones until revoked. */
export async function issueApiKey(em: SqlEntityManager, clientId: string): Promise<{ apiKey: string; key: ApiKeyRow }> {
  const fork = em.fork();
  if (!(await fork.findOne(Client, { id: clientId }))) throw new AppError('not_found', `no client ${clientId}`, { param: 'id' });
  const active = await fork.count(ApiKey, { clientId, revokedAt: null });
  if (active >= API_KEYS_PER_CLIENT_MAX) {
    throw new AppError('invalid_state', `client ${clientId} already holds ${active} active keys (the limit); revoke one first`);
  }
  const apiKey = newApiKey('client');
  const key = newKeyRow(clientId, apiKey, new Date());
  await fork.insert(ApiKey, key);
  return { apiKey, key };
}

/** Throws 404 (param `id`) unless the client exists. */
export async function clientOrNotFound(em: SqlEntityManager, clientId: string): Promise<ClientRow> {
  const client = await em.fork().findOne(Client, { id: clientId });
  if (!client) throw new AppError('not_found', `no client ${clientId}`, { param: 'id' });
  return client;
}

/** How many unrevoked keys a client may hold at once: enough to rotate, few enough to audit. */
export const API_KEYS_PER_CLIENT_MAX = 10;

/**
 * Revokes a key: from this moment requests with it get 401. Revoking a revoked key answers with
 * the key as it is (revocation is idempotent); a key of another client is not found.
 */
export async function revokeApiKey(em: SqlEntityManager, clientId: string, keyId: string, now = new Date()): Promise<ApiKeyRow> {
  const fork = em.fork();
  const key = await fork.findOne(ApiKey, { id: keyId, clientId });
  if (!key) throw new AppError('not_found', `client ${clientId} has no key ${keyId}`, { param: 'keyId' });
  if (!key.revokedAt) {
    await fork.nativeUpdate(ApiKey, { id: keyId, revokedAt: null }, { revokedAt: now });
    return (await fork.fork().findOneOrFail(ApiKey, { id: keyId }));
  }
  return key;
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

/** The thresholds a change names: an amount sets its currency's, null removes it, a currency not named keeps its own. */
export type ThresholdChanges = Partial<Record<string, number | null>>;

const describeThresholds = (t: Record<string, number> | null) => (t && Object.keys(t).length ? Object.entries(t).sort(([a], [b]) => a.localeCompare(b)).map(([c, m]) => `${c} ${m}`).join(', ') : 'none');

/**
 * Changes a client's approval thresholds and records who changed them, from what to what, in the
 * audit log, in one transaction. The write is conditional on the column still holding what was
 * read, so two admins changing different currencies at once both keep their change. 404 (param
 * `id`) for an unknown client; a change that changes nothing writes nothing.
 */
export async function changeApprovalThresholds(em: SqlEntityManager, clientId: string, changes: ThresholdChanges, by: { operator: string; reason: string }): Promise<ClientRow> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const client = await clientOrNotFound(em, clientId);
    const before = client.approvalThresholdMinor ?? null;
    const thresholds: Record<string, number> = { ...(before ?? {}) };
    for (const [currency, amount] of Object.entries(changes)) {
      if (amount === null) delete thresholds[currency];
      else if (amount !== undefined) thresholds[currency] = amount;
    }
    const after = Object.keys(thresholds).length ? thresholds : null;
    if (JSON.stringify(after) === JSON.stringify(before)) return client;
    const written = await inTransaction(em, async (tx) => {
      const qb = tx.createQueryBuilder(Client).update({ approvalThresholdMinor: after }).where({ id: clientId });
      if (before === null) qb.andWhere('approval_threshold_minor is null');
      else qb.andWhere('approval_threshold_minor = ?', [JSON.stringify(before)]);
      if (((await qb.execute('run')) as { affectedRows: number }).affectedRows !== 1) return false;
      const at = new Date();
      await tx.insert(OperatorAction, {
        id: newId('act', at.getTime()),
        transferId: null,
        clientId,
        action: 'client_settings_changed',
        operator: by.operator,
        reason: by.reason.slice(0, 500),
        channel: 'api',
        via: 'request',
        outcome: 'accepted',
        detail: `approval thresholds of ${clientId}: ${describeThresholds(before)} -> ${describeThresholds(after)}`.slice(0, 500),
        statusBefore: null,
        at,
        approvalId: null,
      });
      return true;
    });
    if (written) return { ...client, approvalThresholdMinor: after };
  }
  throw new AppError('service_unavailable', `client ${clientId}'s settings kept changing under this request; send it again`);
}
