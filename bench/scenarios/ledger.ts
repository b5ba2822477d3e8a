/**
 * Ledger throughput on MySQL: a payout's postings as the activities book them (the hold: client →
 * payouts_in_flight, pending; at settlement: the hold posted and payouts_in_flight →
 * bank_settlement:rtp), for a while each: one payout at a time, then 64 at a time from 64 different
 * clients, then 64 at a time from one client. All share the system accounts' kept balances; the
 * last also one client row. If 64 clients go no faster than one payout at a time, or than one
 * client, a hot row serialises everyone.
 *
 * A scratch database on the MySQL server (DATABASE_URL's, else the local MariaDB), dropped after.
 */
import mysql from 'mysql2/promise';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../../core/ids';
import { migrate, openOrm } from '../../db/orm';
import { clientAccountSpec, createPosting, ensureAccount, inTransaction, resolveHold, systemAccountSpec, SYSTEM_ACCOUNTS } from '../../ledger/ledger';
import { createClient, deposit } from '../../services/clients';
import { round } from '../stats';

export const LEDGER_CONCURRENCY = 64;

export interface LedgerCase {
  clients: number;
  payouts: number;
  postings: number;
  postingsPerS: number;
  seconds: number;
}

export interface LedgerResult {
  server: string;
  concurrency: number;
  /** One payout at a time: what concurrency is measured against. */
  sequential: LedgerCase;
  manyClients: LedgerCase;
  oneClient: LedgerCase;
  oneClientOverManyClients: number;
  manyClientsOverSequential: number;
}

function serverOf(url: string | undefined): { host: string; port: number; user: string; password?: string } {
  if (!url) return { host: '127.0.0.1', port: 3306, user: 'root' };
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: u.password ? decodeURIComponent(u.password) : undefined };
}

async function payout(em: SqlEntityManager, clientId: string): Promise<number> {
  const transferId = newId('tr');
  const holdId = await inTransaction(em.fork(), async (tx) => {
    const client = await ensureAccount(tx, clientAccountSpec(clientId, 'USD'));
    const inFlight = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.payoutsInFlight, 'USD'));
    const { posting } = await createPosting(tx, { externalId: `${transferId}:hold`, kind: 'pending', debitAccountId: client.id, creditAccountId: inFlight.id, currency: 'USD', amountMinor: 100, code: 'payout_hold', transferId });
    return posting.id;
  });
  await inTransaction(em.fork(), async (tx) => {
    await resolveHold(tx, { externalId: `${transferId}:hold:post`, kind: 'post_pending', pendingId: holdId, code: 'payout_hold_posted' });
    const inFlight = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.payoutsInFlight, 'USD'));
    const settlement = await ensureAccount(tx, systemAccountSpec(SYSTEM_ACCOUNTS.bankSettlement('rtp'), 'USD'));
    await createPosting(tx, { externalId: `${transferId}:settle`, kind: 'single', debitAccountId: inFlight.id, creditAccountId: settlement.id, currency: 'USD', amountMinor: 100, code: 'payout_settled', transferId });
  });
  return 3;
}

async function runCase(em: SqlEntityManager, clientIds: string[], durationMs: number, concurrency = LEDGER_CONCURRENCY): Promise<LedgerCase> {
  let postings = 0;
  let payouts = 0;
  const started = Date.now();
  const stopAt = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, i) => {
      while (Date.now() < stopAt) {
        const booked = await payout(em, clientIds[i % clientIds.length]);
        postings += booked;
        payouts++;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1000;
  return { clients: clientIds.length, payouts, postings, postingsPerS: round(postings / seconds, 1), seconds: round(seconds, 1) };
}

/** `undo` gets the scratch database's drop while it exists, for a run stopped halfway. */
export async function runLedger(durationMs: number, undo: Set<() => Promise<void>>): Promise<LedgerResult> {
  const server = serverOf(process.env.DATABASE_URL);
  const name = `railyard_bench_ledger_${Date.now()}`;
  const admin = await mysql.createConnection(server);
  const drop = async () => {
    undo.delete(drop);
    await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.end();
  };
  undo.add(drop);
  await admin.query(`CREATE DATABASE \`${name}\``);
  try {
    const auth = server.password ? `${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}` : encodeURIComponent(server.user);
    const orm = await openOrm({ databaseUrl: `mysql://${auth}@${server.host}:${server.port}/${name}`, dataDir: '.' });
    try {
      await migrate(orm);
      const em = orm.em.fork() as SqlEntityManager;
      const ids = await Promise.all(
        Array.from({ length: LEDGER_CONCURRENCY }, async (_, i) => {
          const { client } = await createClient(em.fork() as SqlEntityManager, `Ledger bench ${i + 1}`);
          await deposit(em.fork() as SqlEntityManager, { clientId: client.id, currency: 'USD', amountMinor: 1_000_000_000, reference: 'bench' });
          return client.id;
        }),
      );
      // Both cases start from accounts that exist, as a running system's do.
      await Promise.all(ids.map((id) => inTransaction(em.fork(), (tx) => ensureAccount(tx, clientAccountSpec(id, 'USD')))));
      const sequential = await runCase(em, ids.slice(0, 1), durationMs, 1);
      const manyClients = await runCase(em, ids, durationMs);
      const oneClient = await runCase(em, ids.slice(0, 1), durationMs);
      const version = (await em.getConnection().execute('select version() as v'))[0].v as string;
      return {
        server: `MySQL-compatible ${version}`,
        concurrency: LEDGER_CONCURRENCY,
        sequential,
        manyClients,
        oneClient,
        oneClientOverManyClients: round(oneClient.postingsPerS / manyClients.postingsPerS, 2),
        manyClientsOverSequential: round(manyClients.postingsPerS / sequential.postingsPerS, 2),
      };
    } finally {
      await orm.close();
    }
  } finally {
    await drop();
  }
}
