/**
 * The ledger's guarantees, on MariaDB and on the embedded SQLite alike.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { Account, Posting } from '../../db/schema';
import {
  LedgerError,
  clientAccountSpec,
  clientBalance,
  createPosting,
  ensureAccount,
  inTransaction,
  resolveHold,
  systemAccountSpec,
} from '../../ledger/ledger';
import { mariadbOrm } from '../support/global';
import { sqliteOrm } from '../support/sqlite';

const databases: [string, () => Promise<{ orm: MikroORM; close(): Promise<void> }>][] = [
  ['MariaDB', async () => ({ orm: await mariadbOrm(), close: async () => undefined })],
  ['SQLite', sqliteOrm],
];

for (const [name, open] of databases) {
  describe(`ledger on ${name}`, () => {
    let db: { orm: MikroORM; close(): Promise<void> };
    let clientId = 0;
    before(async () => {
      db = await open();
    });
    after(async () => {
      await db.close();
    });

    async function setup(depositMinor: number) {
      const id = `cl_ledger_${name}_${++clientId}_${Date.now()}`;
      return inTransaction(db.orm.em, async (tx) => {
        const client = await ensureAccount(tx, clientAccountSpec(id, 'USD'));
        const bank = await ensureAccount(tx, systemAccountSpec('bank_deposits', 'USD'));
        const inFlight = await ensureAccount(tx, systemAccountSpec('payouts_in_flight', 'USD'));
        await createPosting(tx, { externalId: `${id}:deposit`, kind: 'single', debitAccountId: bank.id, creditAccountId: client.id, currency: 'USD', amountMinor: depositMinor, code: 'deposit' });
        return { id, client, bank, inFlight };
      });
    }

    const balance = async (accountId: string) => clientBalance(await db.orm.em.fork().findOneOrFail(Account, { id: accountId }));

    it('never overdraws under concurrent holds: exactly the holds that fit succeed', async () => {
      const { id, client, inFlight } = await setup(1_000);
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) =>
          inTransaction(db.orm.em, (tx) =>
            createPosting(tx, { externalId: `${id}:hold:${i}`, kind: 'pending', debitAccountId: client.id, creditAccountId: inFlight.id, currency: 'USD', amountMinor: 300, code: 'hold' }),
          ),
        ),
      );
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const refused = results.filter((r) => r.status === 'rejected' && (r.reason as LedgerError).code === 'insufficient_funds').length;
      assert.equal(ok, 3);
      assert.equal(refused, 9);
      assert.deepEqual(await balance(client.id), { currency: 'USD', availableMinor: 100, heldMinor: 900 });
    });

    it('treats a repeated external ID as the same posting, and a changed one as a conflict', async () => {
      const { id, client, inFlight } = await setup(1_000);
      const request = { externalId: `${id}:hold`, kind: 'pending' as const, debitAccountId: client.id, creditAccountId: inFlight.id, currency: 'USD', amountMinor: 400, code: 'hold' };
      const first = await inTransaction(db.orm.em, (tx) => createPosting(tx, request));
      const again = await inTransaction(db.orm.em, (tx) => createPosting(tx, request));
      assert.equal(first.created, true);
      assert.equal(again.created, false);
      assert.equal(again.posting.id, first.posting.id);
      await assert.rejects(
        inTransaction(db.orm.em, (tx) => createPosting(tx, { ...request, amountMinor: 401 })),
        (err: unknown) => err instanceof LedgerError && err.code === 'ledger_conflict',
      );
      assert.deepEqual(await balance(client.id), { currency: 'USD', availableMinor: 600, heldMinor: 400 });
    });

    it('resolves a hold exactly once: posted or voided, never both', async () => {
      const { id, client, inFlight } = await setup(1_000);
      const hold = await inTransaction(db.orm.em, (tx) =>
        createPosting(tx, { externalId: `${id}:hold`, kind: 'pending', debitAccountId: client.id, creditAccountId: inFlight.id, currency: 'USD', amountMinor: 250, code: 'hold' }),
      );
      const outcomes = await Promise.allSettled([
        inTransaction(db.orm.em, (tx) => resolveHold(tx, { externalId: `${id}:post`, kind: 'post_pending', pendingId: hold.posting.id, code: 'post' })),
        inTransaction(db.orm.em, (tx) => resolveHold(tx, { externalId: `${id}:void`, kind: 'void_pending', pendingId: hold.posting.id, code: 'void' })),
      ]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      const resolutions = await db.orm.em.fork().find(Posting, { pendingId: hold.posting.id });
      assert.equal(resolutions.length, 1);
      const expected = resolutions[0].kind === 'post_pending' ? { availableMinor: 750, heldMinor: 0 } : { availableMinor: 1_000, heldMinor: 0 };
      assert.deepEqual(await balance(client.id), { currency: 'USD', ...expected });
    });

    it('refuses a posting across currencies and non-positive amounts, writing nothing', async () => {
      const { id, client } = await setup(1_000);
      const eur = await inTransaction(db.orm.em, (tx) => ensureAccount(tx, systemAccountSpec('payouts_in_flight', 'EUR')));
      await assert.rejects(
        inTransaction(db.orm.em, (tx) => createPosting(tx, { externalId: `${id}:x`, kind: 'single', debitAccountId: client.id, creditAccountId: eur.id, currency: 'USD', amountMinor: 1, code: 'x' })),
        (err: unknown) => err instanceof LedgerError && err.code === 'currency_mismatch',
      );
      await assert.rejects(
        inTransaction(db.orm.em, (tx) => createPosting(tx, { externalId: `${id}:y`, kind: 'single', debitAccountId: client.id, creditAccountId: eur.id, currency: 'USD', amountMinor: 0, code: 'x' })),
        /must be positive/,
      );
      assert.equal(await db.orm.em.fork().count(Posting, { externalId: { $in: [`${id}:x`, `${id}:y`] } }), 0);
      assert.deepEqual(await balance(client.id), { currency: 'USD', availableMinor: 1_000, heldMinor: 0 });
    });
  });
}
