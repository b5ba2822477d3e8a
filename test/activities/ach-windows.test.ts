/**
 * Queuing ACH entries into windows, on MariaDB and on the embedded SQLite: an entry goes into the
 * open window, the same trace twice is one entry, and an entry queued after its window closed goes
 * into the next window rather than being left behind. Concurrent queuing counts every entry once.
 * A withdrawal (a cancel while queued) and the window's closing take the same row: an entry is in
 * the file or canceled, never both. A refused file's entry is re-queued under its trace number.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { queueEntry, requeueEntry, withdrawEntry, type AchWindowDeps } from '../../activities/ach-windows';
import { newId } from '../../core/ids';
import { AchEntry, AchWindow, Attempt, TransferEvent } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { ACH_ORIGINATOR } from '../../workers/deps';
import { createdTransfer, fundedClient } from '../support/fixtures';
import { mariadbOrm } from '../support/global';
import { sqliteOrm } from '../support/sqlite';

const WINDOW_MS = 10_000;

for (const dialect of ['MariaDB', 'SQLite'] as const) {
  describe(`ACH window queuing (${dialect})`, () => {
    let orm: MikroORM;
    let close: () => Promise<void> = async () => undefined;
    let deps: AchWindowDeps;
    /** Trace numbers under an ODFI prefix no payout uses, so they never meet the payouts' own. */
    let trace = 0;

    before(async () => {
      if (dialect === 'MariaDB') orm = await mariadbOrm();
      else ({ orm, close } = await sqliteOrm());
      deps = { orm, baseUrl: 'http://127.0.0.1:9', originator: ACH_ORIGINATOR, railTime: 'demo', demoWindowMs: WINDOW_MS };
    });

    after(() => close());

    /** A transfer with an ACH attempt whose trace number is returned. */
    async function attempt(): Promise<string> {
      const clientId = await fundedClient(orm, 0);
      const input = await createdTransfer(orm, clientId, 1_000);
      const traceNumber = `99999999${String(++trace).padStart(7, '0')}`;
      const now = new Date();
      await orm.em.fork().insert(Attempt, { id: newId('att'), transferId: input.transferId, attemptNo: 1, rail: 'ach', railReference: traceNumber, status: 'pending', failureCode: null, createdAt: now, updatedAt: now });
      return traceNumber;
    }

    const queue = (traceNumber: string, atMs: number) => inTransaction(orm.em.fork(), (tx) => queueEntry(tx, deps, traceNumber, atMs));

    it('queues into the open window, once per trace number', async () => {
      const t = await attempt();
      const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 0 : 100) * WINDOW_MS;
      const w = await queue(t, at);
      assert.equal(w.cutoffAtMs, Math.floor(at / WINDOW_MS) * WINDOW_MS + WINDOW_MS);
      assert.deepEqual(await queue(t, at + 5 * WINDOW_MS), w, 'queued again later: the same window');
      assert.equal(await orm.em.fork().count(AchEntry, { traceNumber: t }), 1);
      assert.equal((await orm.em.fork().findOneOrFail(AchWindow, { id: w.windowId })).entryCount, 1);
    });

    it('moves an entry to the next window when its window has closed', async () => {
      const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 10 : 110) * WINDOW_MS;
      const first = await queue(await attempt(), at);
      await orm.em.fork().nativeUpdate(AchWindow, { id: first.windowId }, { status: 'closed' });
      const second = await queue(await attempt(), at + 1);
      assert.equal(second.cutoffAtMs, first.cutoffAtMs + WINDOW_MS);
      assert.equal((await orm.em.fork().findOneOrFail(AchWindow, { id: first.windowId })).entryCount, 1);
    });

    const withdraw = (traceNumber: string) => inTransaction(orm.em.fork(), (tx) => withdrawEntry(tx, traceNumber));
    /** What the batch's closing does first: the window row, conditionally, from open to closed. */
    const closeWindow = (windowId: string) => orm.em.fork().nativeUpdate(AchWindow, { id: windowId, status: 'open' }, { status: 'closed' });

    it('withdraws a queued entry while its window is open, once; the event names the window', async () => {
      const t = await attempt();
      const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 30 : 130) * WINDOW_MS;
      const w = await queue(t, at);
      const entry = await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: t });
      const reasons = (await orm.em.fork().find(TransferEvent, { transferId: entry.transferId })).map((e) => e.reason);
      assert.ok(reasons.includes(`queued for the ${new Date(w.cutoffAtMs).toISOString().slice(11, 23)} UTC (demo) window (${w.windowId}), trace ${t}`), String(reasons));
      assert.deepEqual(await withdraw(t), { withdrawn: true, windowId: w.windowId, status: 'canceled' });
      assert.deepEqual(await withdraw(t), { withdrawn: true, windowId: w.windowId, status: 'canceled' }, 'again: the same answer');
      assert.equal((await orm.em.fork().findOneOrFail(AchWindow, { id: w.windowId })).entryCount, 0);
      assert.equal((await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: t })).status, 'canceled');
    });

    it('refuses to withdraw once the window closed: the entry stays for the file', async () => {
      const t = await attempt();
      const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 40 : 140) * WINDOW_MS;
      const w = await queue(t, at);
      assert.equal(await closeWindow(w.windowId), 1);
      assert.deepEqual(await withdraw(t), { withdrawn: false, windowId: w.windowId, status: 'in_file' });
      assert.equal((await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: t })).status, 'queued', 'still there for the closing to put in the file');
      assert.equal((await orm.em.fork().findOneOrFail(AchWindow, { id: w.windowId })).entryCount, 1);
    });

    it('a withdrawal racing the closing: either withdrawn and the window closed without it, or in the window and not withdrawn', async () => {
      for (let i = 0; i < 6; i++) {
        const t = await attempt();
        const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 50 + i : 150 + i) * WINDOW_MS;
        const w = await queue(t, at);
        const [withdrawn, closed] = await Promise.all([withdraw(t), closeWindow(w.windowId)]);
        assert.equal(closed, 1, 'the window closes either way');
        const window = await orm.em.fork().findOneOrFail(AchWindow, { id: w.windowId });
        const entry = await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: t });
        if (withdrawn.withdrawn) assert.deepEqual([entry.status, window.entryCount], ['canceled', 0]);
        else assert.deepEqual([entry.status, window.entryCount], ['queued', 1]);
      }
    });

    it('re-queues a refused file\'s entry into a later window under the same trace number; a paid one never', async () => {
      const t = await attempt();
      const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 60 : 160) * WINDOW_MS;
      const w = await queue(t, at);
      await closeWindow(w.windowId);
      await orm.em.fork().nativeUpdate(AchEntry, { traceNumber: t }, { status: 'file_refused' });
      const again = await inTransaction(orm.em.fork(), (tx) => requeueEntry(tx, deps, t, at));
      assert.ok(again.cutoffAtMs > w.cutoffAtMs, 'a later window');
      const entry = await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: t });
      assert.deepEqual([entry.windowId, entry.status, entry.traceNumber], [again.windowId, 'queued', t]);
      await orm.em.fork().nativeUpdate(AchEntry, { traceNumber: t }, { status: 'accepted' });
      await assert.rejects(
        inTransaction(orm.em.fork(), (tx) => requeueEntry(tx, deps, t, at)),
        (err: Error & { type?: string }) => err.type === 'invalid_transition' && /is accepted; it cannot be queued again/.test(err.message),
      );
    });

    it('counts every entry of concurrent queuing once', async () => {
      const at = 1_000_000_000_000 + (dialect === 'SQLite' ? 20 : 120) * WINDOW_MS;
      const traces = [];
      for (let i = 0; i < 8; i++) traces.push(await attempt());
      const windows = await Promise.all(traces.map((t) => queue(t, at)));
      assert.equal(new Set(windows.map((w) => w.windowId)).size, 1);
      assert.equal((await orm.em.fork().findOneOrFail(AchWindow, { id: windows[0].windowId })).entryCount, 8);
      assert.equal(await orm.em.fork().count(AchEntry, { windowId: windows[0].windowId }), 8);
    });
  });
}
