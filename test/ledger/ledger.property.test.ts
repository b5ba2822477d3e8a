/**
 * Property-based test of the ledger on MariaDB: random command sequences (deposits, holds, posts,
 * voids, expiries, FX conversions, returns, and bursts of concurrent holds) run against the real
 * database and a model; after every sequence the balances equal the model's and the auditor finds
 * no violation. LEDGER_PROPERTY_RUNS sets the number of sequences (1000 by default).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Account } from '../../db/schema';
import { auditLedger } from '../../ledger/auditor';
import { convertMinor } from '../../fx/pricing';
import {
  LedgerError,
  clientAccountSpec,
  clientBalance,
  createPosting,
  ensureAccount,
  expireHolds,
  inTransaction,
  resolveHold,
  systemAccountSpec,
} from '../../ledger/ledger';
import { mariadbOrm } from '../support/global';

const RUNS = Number(process.env.LEDGER_PROPERTY_RUNS ?? 1000);
const RATE = '0.30745'; // USD → KWD: a 2-digit currency into a 3-digit one

interface Hold {
  id: string;
  amountMinor: number;
  state: 'pending' | 'posted' | 'voided' | 'expired';
  expired: boolean;
}

interface Model {
  usd: { available: number; held: number };
  kwd: { available: number; held: number };
  holds: Hold[];
}

interface Real {
  orm: MikroORM;
  run: number;
  seq: number;
  usd: string;
  kwd: string;
  bankUsd: string;
  inFlightUsd: string;
  liquidityUsd: string;
  liquidityKwd: string;
}

const key = (r: Real, step: string) => `prop:${r.run}:${++r.seq}:${step}`;

async function placeHold(r: Real, amountMinor: number, expired: boolean) {
  return inTransaction(r.orm.em, (tx) =>
    createPosting(tx, {
      externalId: key(r, 'hold'),
      kind: 'pending',
      debitAccountId: r.usd,
      creditAccountId: r.inFlightUsd,
      currency: 'USD',
      amountMinor,
      code: 'hold',
      expiresAt: expired ? new Date(Date.now() - 1000) : undefined,
    }),
  );
}

class Deposit implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amountMinor: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    await inTransaction(r.orm.em, (tx) => createPosting(tx, { externalId: key(r, 'dep'), kind: 'single', debitAccountId: r.bankUsd, creditAccountId: r.usd, currency: 'USD', amountMinor: this.amountMinor, code: 'deposit' }));
    m.usd.available += this.amountMinor;
  }
  toString = () => `Deposit(${this.amountMinor})`;
}

class PlaceHold implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amountMinor: number, readonly expired: boolean) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const fits = m.usd.available >= this.amountMinor;
    try {
      const { posting } = await placeHold(r, this.amountMinor, this.expired);
      assert.ok(fits, `hold of ${this.amountMinor} succeeded with only ${m.usd.available} available`);
      m.usd.available -= this.amountMinor;
      m.usd.held += this.amountMinor;
      m.holds.push({ id: posting.id, amountMinor: this.amountMinor, state: 'pending', expired: this.expired });
    } catch (err) {
      if (!(err instanceof LedgerError && err.code === 'insufficient_funds')) throw err;
      assert.ok(!fits, `hold of ${this.amountMinor} refused with ${m.usd.available} available`);
    }
  }
  toString = () => `Hold(${this.amountMinor}${this.expired ? ', expired' : ''})`;
}

class Resolve implements fc.AsyncCommand<Model, Real> {
  constructor(readonly index: number, readonly kind: 'post_pending' | 'void_pending') {}
  check = (m: Readonly<Model>) => m.holds.length > 0;
  async run(m: Model, r: Real) {
    const hold = m.holds[this.index % m.holds.length];
    const attempt = inTransaction(r.orm.em, (tx) => resolveHold(tx, { externalId: key(r, this.kind), kind: this.kind, pendingId: hold.id, code: this.kind }));
    if (hold.state !== 'pending') {
      await assert.rejects(attempt, (e: unknown) => e instanceof LedgerError && e.code === 'hold_already_resolved');
      return;
    }
    await attempt;
    hold.state = this.kind === 'post_pending' ? 'posted' : 'voided';
    m.usd.held -= hold.amountMinor;
    if (this.kind === 'void_pending') m.usd.available += hold.amountMinor;
  }
  toString = () => `${this.kind}(#${this.index})`;
}

class ExpireDue implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real) {
    await expireHolds(r.orm.em, new Date());
    for (const hold of m.holds) {
      if (hold.state === 'pending' && hold.expired) {
        hold.state = 'expired';
        m.usd.held -= hold.amountMinor;
        m.usd.available += hold.amountMinor;
      }
    }
  }
  toString = () => 'ExpireDue';
}

class Convert implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amountMinor: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const target = convertMinor(this.amountMinor, 'USD', 'KWD', RATE);
    const fits = m.usd.available >= this.amountMinor && target > 0;
    try {
      // Linked legs: both or neither.
      await inTransaction(r.orm.em, async (tx: SqlEntityManager) => {
        await createPosting(tx, { externalId: key(r, 'fx:src'), kind: 'single', debitAccountId: r.usd, creditAccountId: r.liquidityUsd, currency: 'USD', amountMinor: this.amountMinor, code: 'fx_source_leg' });
        await createPosting(tx, { externalId: key(r, 'fx:tgt'), kind: 'single', debitAccountId: r.liquidityKwd, creditAccountId: r.kwd, currency: 'KWD', amountMinor: target, code: 'fx_target_leg' });
      });
      assert.ok(fits);
      m.usd.available -= this.amountMinor;
      m.kwd.available += target;
    } catch (err) {
      if (!(err instanceof LedgerError && err.code === 'insufficient_funds') && !(err instanceof RangeError)) throw err;
      assert.ok(!fits, `conversion of ${this.amountMinor} refused with ${m.usd.available} available`);
    }
  }
  toString = () => `Convert(${this.amountMinor})`;
}

class Return implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amountMinor: number) {}
  check = (m: Readonly<Model>) => m.holds.some((h) => h.state === 'posted');
  async run(m: Model, r: Real) {
    // A payout that left comes back: the bank credits our settlement account and we credit the client.
    await inTransaction(r.orm.em, (tx) => createPosting(tx, { externalId: key(r, 'return'), kind: 'single', debitAccountId: r.inFlightUsd, creditAccountId: r.usd, currency: 'USD', amountMinor: this.amountMinor, code: 'payout_return' }));
    m.usd.available += this.amountMinor;
  }
  toString = () => `Return(${this.amountMinor})`;
}

class ConcurrentHolds implements fc.AsyncCommand<Model, Real> {
  constructor(readonly amounts: number[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const results = await Promise.allSettled(this.amounts.map((a) => placeHold(r, a, false)));
    let total = 0;
    results.forEach((res, i) => {
      if (res.status === 'fulfilled') {
        total += this.amounts[i];
        m.holds.push({ id: res.value.posting.id, amountMinor: this.amounts[i], state: 'pending', expired: false });
      } else if (!(res.reason instanceof LedgerError && res.reason.code === 'insufficient_funds')) {
        throw res.reason;
      }
    });
    assert.ok(total <= m.usd.available, `concurrent holds took ${total} of ${m.usd.available}`);
    // Whatever was refused must not have fitted in what the successful ones left.
    const refused = this.amounts.filter((_, i) => results[i].status === 'rejected');
    for (const a of refused) assert.ok(a > m.usd.available - total, `a hold of ${a} was refused with ${m.usd.available - total} left`);
    m.usd.available -= total;
    m.usd.held += total;
  }
  toString = () => `Concurrent(${this.amounts.join(',')})`;
}

const amount = fc.integer({ min: 1, max: 50_000 });
const commands = [
  amount.map((a) => new Deposit(a)),
  fc.tuple(amount, fc.boolean()).map(([a, e]) => new PlaceHold(a, e)),
  fc.tuple(fc.nat(), fc.constantFrom('post_pending' as const, 'void_pending' as const)).map(([i, k]) => new Resolve(i, k)),
  fc.constant(new ExpireDue()),
  amount.map((a) => new Convert(a)),
  fc.integer({ min: 1, max: 1_000 }).map((a) => new Return(a)),
  fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 2, maxLength: 6 }).map((a) => new ConcurrentHolds(a)),
];

describe(`ledger properties on MariaDB (${RUNS} command sequences)`, () => {
  let orm: MikroORM;
  before(async () => {
    orm = await mariadbOrm();
  });

  it('keeps balances equal to the model and every invariant after every sequence', async function () {
    this.timeout(Math.max(120_000, RUNS * 1_000));
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 8 }), async (cmds) => {
        run++;
        const clientId = `cl_prop_${process.pid}_${run}_${Date.now()}`;
        const accounts = await inTransaction(orm.em, async (tx) => ({
          usd: (await ensureAccount(tx, clientAccountSpec(clientId, 'USD'))).id,
          kwd: (await ensureAccount(tx, clientAccountSpec(clientId, 'KWD'))).id,
          bankUsd: (await ensureAccount(tx, systemAccountSpec('bank_deposits', 'USD'))).id,
          inFlightUsd: (await ensureAccount(tx, systemAccountSpec('payouts_in_flight', 'USD'))).id,
          liquidityUsd: (await ensureAccount(tx, systemAccountSpec('fx_liquidity', 'USD'))).id,
          liquidityKwd: (await ensureAccount(tx, systemAccountSpec('fx_liquidity', 'KWD'))).id,
        }));
        const real: Real = { orm, run, seq: 0, ...accounts };
        const model: Model = { usd: { available: 0, held: 0 }, kwd: { available: 0, held: 0 }, holds: [] };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        // The expiry sweeper runs eventually; "eventually" is now, before the invariants are checked.
        await new ExpireDue().run(model, real);

        const em = orm.em.fork();
        const usd = clientBalance(await em.findOneOrFail(Account, { id: accounts.usd }));
        const kwd = clientBalance(await em.findOneOrFail(Account, { id: accounts.kwd }));
        assert.deepEqual({ available: usd.availableMinor, held: usd.heldMinor }, model.usd);
        assert.deepEqual({ available: kwd.availableMinor, held: kwd.heldMinor }, model.kwd);
        const violations = await auditLedger(orm.em);
        assert.deepEqual(violations, [], `auditor: ${JSON.stringify(violations)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
