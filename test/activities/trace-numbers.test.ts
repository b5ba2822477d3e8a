/**
 * ACH trace numbers, on MariaDB and the embedded SQLite: the ODFI's 8-digit prefix and a 7-digit
 * sequence, unique per ODFI and file date as NACHA has them. The 10,000,001st comes round to the
 * first one's number without a collision (the counter is seeded, not ten million rows written),
 * its entry queues and is found as the newest under that trace; a number still live is stepped
 * over, never handed out twice.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { queueEntry, withdrawEntry, type AchWindowDeps } from '../../activities/ach-windows';
import { nextTraceNumber, TRACE_LIVE_DAYS } from '../../activities/transfers';
import { newId } from '../../core/ids';
import { AchEntry, Attempt, RailCounter } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { ACH_ORIGINATOR } from '../../workers/deps';
import { createdTransfer, fundedClient } from '../support/fixtures';
import { scratchMariadbOrm } from '../support/scratch-db';
import { sqliteOrm } from '../support/sqlite';

const ODFI = '12345678';
const DAY_MS = 86_400_000;

for (const dialect of ['MariaDB', 'SQLite'] as const) {
  describe(`ACH trace numbers (${dialect})`, () => {
    let orm: MikroORM;
    let close: () => Promise<void> = async () => undefined;
    let deps: AchWindowDeps;

    before(async () => {
      // A database of its own: the counters are seeded far ahead of any other suite's.
      if (dialect === 'MariaDB') orm = await scratchMariadbOrm();
      else ({ orm, close } = await sqliteOrm());
      deps = { orm, baseUrl: 'http://127.0.0.1:9', originator: ACH_ORIGINATOR, railTime: 'demo', demoWindowMs: 10_000 };
    });

    after(() => close());

    const draw = (nowMs = Date.now()) => inTransaction(orm.em.fork(), (tx) => nextTraceNumber(tx, ODFI, nowMs));

    /** What submitPayout does for an ACH transfer: the attempt written with the trace drawn in the same transaction. */
    async function attemptWithNextTrace(createdAt = new Date()): Promise<{ transferId: string; traceNumber: string }> {
      const clientId = await fundedClient(orm, 0);
      const { transferId } = await createdTransfer(orm, clientId, 1_000);
      const traceNumber = await inTransaction(orm.em.fork(), async (tx) => {
        const trace = await nextTraceNumber(tx, ODFI, createdAt.getTime());
        await tx.insert(Attempt, { id: newId('att'), transferId, attemptNo: 1, rail: 'ach', railReference: trace, status: 'pending', failureCode: null, createdAt, updatedAt: createdAt });
        return trace;
      });
      return { transferId, traceNumber };
    }

    it('draws the ODFI prefix and a 7-digit sequence, carrying on from the counter kept before there was one per ODFI', async () => {
      await orm.em.fork().insert(RailCounter, { name: 'ach_trace', value: 41 });
      assert.equal(await draw(), `${ODFI}0000042`);
      assert.equal(await draw(), `${ODFI}0000043`);
    });

    it('the 10,000,001st attempt comes round to the first one\'s trace number without a collision; its entry queues and is the one found', async () => {
      // The first ever trace number, from long ago: paid, its entry long done.
      const longAgo = new Date(Date.now() - (TRACE_LIVE_DAYS + 30) * DAY_MS);
      await orm.em.fork().nativeUpdate(RailCounter, { name: `ach_trace:${ODFI}` }, { value: 0 });
      const first = await attemptWithNextTrace(longAgo);
      assert.equal(first.traceNumber, `${ODFI}0000001`);
      const firstWindow = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, deps, first.traceNumber, longAgo.getTime()));
      await orm.em.fork().nativeUpdate(AchEntry, { traceNumber: first.traceNumber }, { status: 'accepted', createdAt: longAgo });
      // Ten million attempts later.
      await orm.em.fork().nativeUpdate(RailCounter, { name: `ach_trace:${ODFI}` }, { value: 10_000_000 });
      const later = await attemptWithNextTrace();
      assert.equal(later.traceNumber, first.traceNumber, 'the sequence came round');
      const at = Date.now();
      const window = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, deps, later.traceNumber, at));
      assert.notEqual(window.windowId, firstWindow.windowId);
      const entries = await orm.em.fork().find(AchEntry, { traceNumber: later.traceNumber }, { orderBy: { createdAt: 'asc' } });
      assert.deepEqual(entries.map((e) => [e.transferId, e.status]), [[first.transferId, 'accepted'], [later.transferId, 'queued']]);
      // Found by its trace number, the newest entry is the live one.
      assert.deepEqual(await inTransaction(orm.em.fork(), (tx) => withdrawEntry(tx, later.traceNumber)), { withdrawn: true, windowId: window.windowId, status: 'canceled' });
      // And the next payout after it goes on as usual.
      assert.equal((await attemptWithNextTrace()).traceNumber, `${ODFI}0000002`);
    });

    it('steps over a trace number still live; a sequence spent within the live days is refused as final', async () => {
      const recent = new Date(Date.now() - DAY_MS);
      await orm.em.fork().nativeUpdate(RailCounter, { name: `ach_trace:${ODFI}` }, { value: 5_000_000 });
      const live = await attemptWithNextTrace(recent);
      assert.equal(live.traceNumber, `${ODFI}5000001`);
      await orm.em.fork().nativeUpdate(RailCounter, { name: `ach_trace:${ODFI}` }, { value: 15_000_000 });
      assert.equal(await draw(), `${ODFI}5000002`, 'the live one stepped over');
      // A hundred live ones in a row: the ODFI drew ten million within the live days.
      const em = orm.em.fork();
      for (let seq = 6_000_001; seq <= 6_000_100; seq++) {
        await em.insert(Attempt, { id: newId('att'), transferId: live.transferId, attemptNo: seq, rail: 'ach', railReference: `${ODFI}${seq}`, status: 'pending', failureCode: null, createdAt: recent, updatedAt: recent });
      }
      await orm.em.fork().nativeUpdate(RailCounter, { name: `ach_trace:${ODFI}` }, { value: 16_000_000 });
      await assert.rejects(draw(), (err: Error & { type?: string }) => err.type === 'ach_trace_exhausted' && /spent: the next 100 are all still in use/.test(err.message));
    });
  });
}
