/**
 * Queuing ACH entries into windows, on MariaDB and on the embedded SQLite: an entry goes into the
 * open window, the same trace twice is one entry, and an entry queued after its window closed goes
 * into the next window rather than being left behind. Concurrent queuing counts every entry once.
 * A withdrawal (a cancel while queued) and the window's closing take the same row: an entry is in
 * the file or canceled, never both. A refused file's entry is re-queued under its trace number.
 * Sending a window to the simulator: an entry no file can carry is refused on its own, a window
 * too big for one file's control fields goes out in several, and a file whose answer was lost is
 * sent again byte for byte, never moved, so the bank pays it once.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAchWindowActivities, queueEntry, requeueEntry, withdrawEntry, type AchWindowDeps, type AchWindowResult } from '../../activities/ach-windows';
import { newId } from '../../core/ids';
import { AchEntry, AchFile, AchWindow, Attempt, TransferEvent } from '../../db/schema';
import { parseNacha } from '../../rails/ach/nacha';
import { inTransaction } from '../../ledger/ledger';
import { ACH_ORIGINATOR } from '../../workers/deps';
import { BENEFICIARY, createdTransfer, fundedClient } from '../support/fixtures';
import { mariadbOrm, startSim } from '../support/global';
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
    async function attempt(amountMinor = 1_000, beneficiary: Record<string, string> = BENEFICIARY, owner?: string): Promise<string> {
      const clientId = owner ?? (await fundedClient(orm, 0));
      const input = await createdTransfer(orm, clientId, amountMinor, beneficiary);
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

    describe('sending a window', () => {
      const activitiesFor = (d: AchWindowDeps) => createAchWindowActivities(d);
      /** Activities run as the worker would run them; their expected failures (a bank that hangs up) logged nowhere. */
      const quiet = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) });
      const send = (d: AchWindowDeps, windowId: string): Promise<AchWindowResult> => quiet().run(activitiesFor(d).sendAchWindow, { windowId });
      const paidOf = (sim: Awaited<ReturnType<typeof startSim>>, trace: string) => sim.sim.submissions.filter((s) => s.reference === trace && !s.duplicate && ['pending', 'settled', 'held'].includes(s.status));
      const payee = (accountNumber: string) => ({ ...BENEFICIARY, accountNumber });
      const at = (slot: number) => 1_000_000_000_000 + (dialect === 'SQLite' ? 300 + slot : 400 + slot) * WINDOW_MS;

      it('refuses on its own an entry no NACHA file can carry; the rest of its window goes out, once, and is paid', async () => {
        const bank = await startSim(0);
        const d = { ...deps, baseUrl: bank.url };
        const small = await attempt(1_000, payee('700002001'));
        // Written before amounts were capped at the API: more than the 10-digit amount field holds.
        const huge = await attempt(10_000_000_000, payee('700002002'));
        const other = await attempt(2_000, payee('700002003'));
        let w;
        for (const t of [small, huge, other]) w = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, d, t, at(1)));
        const sent = await send(d, w!.windowId);
        const byTrace = new Map(sent.results.map((r) => [r.traceNumber, r]));
        assert.deepEqual([byTrace.get(small)?.outcome, byTrace.get(other)?.outcome], ['accepted', 'accepted']);
        assert.equal(byTrace.get(huge)?.outcome, 'rejected');
        assert.equal(byTrace.get(huge)?.code, 'ach_entry_unwritable');
        assert.match(byTrace.get(huge)?.message ?? '', /not sent: .*does not fit the 10-digit NACHA amount field/);
        assert.equal((await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: huge })).status, 'refused');
        assert.equal(paidOf(bank, huge).length, 0, 'the bank never saw it');
        assert.deepEqual([paidOf(bank, small).length, paidOf(bank, other).length], [1, 1]);
        assert.equal(new Set(bank.sim.submissions.map((s) => s.raw)).size, 1, 'one file');
        assert.equal((await orm.em.fork().findOneOrFail(AchWindow, { id: w!.windowId })).status, 'sent');
        assert.deepEqual(await send(d, w!.windowId), sent, 'sent again: the recorded results');
      });

      it('sends a window too big for one file in several: 101 entries of USD 99,999,999.99 fill 12-digit totals twice', async () => {
        const bank = await startSim(0);
        const d = { ...deps, baseUrl: bank.url };
        const traces = [];
        const owner = await fundedClient(orm, 0);
        for (let i = 0; i < 101; i++) traces.push(await attempt(9_999_999_999, payee(`7000030${String(i).padStart(2, '0')}`), owner));
        let w;
        for (const t of traces) w = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, d, t, at(2)));
        const sent = await send(d, w!.windowId);
        assert.equal(sent.accepted, 101);
        const files = await orm.em.fork().find(AchFile, { windowId: w!.windowId }, { orderBy: { seq: 'asc' } });
        assert.deepEqual(files.map((f) => [f.entryCount, f.status]), [[100, 'accepted'], [1, 'accepted']]);
        assert.notDeepEqual([files[0].creationTime, files[0].idModifier], [files[1].creationTime, files[1].idModifier], 'two file identities');
        for (const f of files) assert.ok(Number(parseNacha(f.content).control.fields.totalCreditEntryDollarAmountInFile) <= 999_999_999_999);
        assert.deepEqual(new Set(sent.results.map((r) => r.fileId)), new Set(files.map((f) => f.id)));
        for (const t of traces) assert.equal(paidOf(bank, t).length, 1);
      });

      it('after a lost answer sends the same file again, byte for byte; the bank answers it as the first and pays once', async () => {
        const bank = await startSim(0);
        const d = { ...deps, baseUrl: bank.url, requestTimeoutMs: 5_000 };
        const t = await attempt(1_000, payee('700004001'));
        await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber: '700004001' }, behavior: 'timeout_after_accept', times: 1 }) });
        const w = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, d, t, at(3)));
        await assert.rejects(send(d, w.windowId), 'the answer never came');
        const sent = await send(d, w.windowId);
        assert.equal(sent.results[0].outcome, 'accepted');
        const subs = bank.sim.submissions.filter((s) => s.reference === t);
        assert.deepEqual(subs.map((s) => s.duplicate), [false, true]);
        assert.equal(new Set(subs.map((s) => s.raw)).size, 1, 'the same bytes');
        assert.equal(paidOf(bank, t).length, 1);
      });

      it('an unconfirmed file: a retry sends the same file again and never moves the entry; a late copy of the original pays nothing more', async () => {
        const bank = await startSim(0);
        const d = { ...deps, baseUrl: bank.url, requestTimeoutMs: 5_000 };
        const t = await attempt(1_000, payee('700005001'));
        // Lost on the way in: the bank has no record of the file when asked, and it may still land.
        await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { accountNumber: '700005001' }, behavior: 'timeout_before_accept', times: 1 }) });
        const w = await inTransaction(orm.em.fork(), (tx) => queueEntry(tx, d, t, at(4)));
        await assert.rejects(send(d, w.windowId));
        const [original] = bank.sim.submissions.filter((s) => s.reference === t);
        assert.equal(original.status, 'dropped');
        // The batch gave up on the file; the payout's operator retries.
        const again = await quiet().run(activitiesFor(d).requeueAchEntry, { traceNumber: t });
        assert.deepEqual(again, { outcome: 'accepted' });
        const entry = await orm.em.fork().findOneOrFail(AchEntry, { traceNumber: t });
        assert.deepEqual([entry.windowId, entry.status], [w.windowId, 'accepted'], 'never moved to another window');
        // The first copy arrives after all.
        const late = await fetch(`${bank.url}/ach/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: original.raw });
        assert.equal(late.status, 202);
        assert.equal(new Set(bank.sim.submissions.filter((s) => s.reference === t).map((s) => s.raw)).size, 1, 'every copy the same file');
        assert.equal(paidOf(bank, t).length, 1, 'paid once');
      });
    });
  });
}
