/**
 * The bank inbox collector against real components: the bank simulator over HTTP, MariaDB, the
 * Temporal dev server. A recorder workflow stands in for each transfer's workflow and keeps every
 * `bankMessage` signal it receives, so each test sees exactly what the inbox sent.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { MikroORM } from '@mikro-orm/core';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createBankSim } from '../../banksim/sim';
import type { BankMessage } from '../../core/bank-message';
import { newId } from '../../core/ids';
import { workflowIdFor, type Rail } from '../../core/transfer';
import { createCorrectionActivities } from '../../activities/corrections';
import { AchCorrection, Attempt, BankInboxCursor, BankInboxFact, BankInboxMessage, ReconciliationBreak, ReconciliationMatch, Transfer } from '../../db/schema';
import { createBankInbox, signalThrough, type SignalTransfer } from '../../services/bank-inbox';
import { devServer, mariadbOrm, onTeardown, testDataConverter } from '../support/global';
import { bankMessageRecorder, receivedQuery } from '../support/bank-message-recorder';
import { newReference, payAch, payIso, paySepa, waitFor } from '../support/sim-payments';

describe('bank inbox collector', function () {
  let orm: MikroORM;
  let client: Client;
  let taskQueue: string;
  let bankUrl: string;
  let port: number;
  let sim: ReturnType<typeof createBankSim>;
  let server: Server | null = null;
  const logs: string[] = [];
  const logger = { info: (o: object, m?: string) => void logs.push(JSON.stringify(o) + (m ?? '')), warn: (o: object, m?: string) => void logs.push(JSON.stringify(o) + (m ?? '')), error: (o: object, m?: string) => void logs.push(JSON.stringify(o) + (m ?? '')) };
  const signal: SignalTransfer = (workflowId, message) => signalThrough(client)(workflowId, message);

  async function listen(): Promise<void> {
    server = await new Promise<Server>((resolve) => {
      const s = sim.app.listen(port, '127.0.0.1', () => resolve(s));
    });
  }
  async function close(): Promise<void> {
    const s = server!;
    server = null;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  before(async () => {
    const dev = await devServer();
    orm = await mariadbOrm();
    // Statements as often as the outbox is read: each round sees the day's statement as it grows.
    sim = createBankSim({ settlementDelayMs: 0, hangMs: 2_000, statementIntervalMs: 0 });
    port = 0;
    await listen();
    port = (server!.address() as { port: number }).port;
    bankUrl = `http://127.0.0.1:${port}`;
    const connection = await Connection.connect({ address: dev.address });
    client = new Client({ connection, namespace: 'default', dataConverter: testDataConverter });
    taskQueue = `inbox-${randomUUID()}`;
    const native = await NativeConnection.connect({ address: dev.address });
    const worker = await Worker.create({ connection: native, taskQueue, dataConverter: testDataConverter, workflowsPath: require.resolve('../support/bank-message-recorder') });
    const running = worker.run();
    onTeardown(async () => {
      worker.shutdown();
      await running;
      await native.close();
      await connection.close();
      if (server) await close();
    });
  });

  afterEach(async () => {
    if (process.env.DEBUG_INBOX) console.log(logs.splice(0).join('\n'));
    await fetch(`${bankUrl}/sim/rules`, { method: 'DELETE' });
  });

  /** A transfer with one attempt under `railReference`, and (unless `workflow: false`) a recorder as its workflow. */
  async function transfer(rail: Rail, railReference: string, options: { amountMinor?: number; status?: string; workflow?: boolean } = {}) {
    const id = newId('tr');
    const now = new Date();
    const currency = rail === 'ach' || rail === 'rtp' ? 'USD' : 'EUR';
    const amountMinor = options.amountMinor ?? 10_000;
    const em = orm.em.fork();
    await em.insert(Transfer, { id, clientId: 'cl_inbox', status: 'submitted', amountMinor, currency, targetCurrency: currency, targetAmountMinor: amountMinor, fxRate: null, quoteId: null, feeMinor: 0, rail, beneficiary: {}, reference: null, metadata: null, failureCode: null, failureMessage: null, createdAt: now, updatedAt: now, version: 1, chargeBearer: null });
    await em.insert(Attempt, { id: newId('att'), transferId: id, attemptNo: 1, rail, railReference, status: options.status ?? 'submitted', failureCode: null, createdAt: now, updatedAt: now });
    const handle = options.workflow === false ? null : await client.workflow.start(bankMessageRecorder, { workflowId: workflowIdFor(id), taskQueue, workflowExecutionTimeout: '10 minutes' });
    return { id, handle };
  }

  const received = (handle: WorkflowHandle | null) => handle!.query(receivedQuery);
  /** Waits until the recorder has `n` messages (then a moment more, for any that should not come), and returns them. */
  async function receivedAfter(handle: WorkflowHandle | null, n: number): Promise<BankMessage[]> {
    await waitFor(`${n} bankMessage signals`, async () => (await received(handle)).length >= n);
    return received(handle);
  }
  const factsOf = (railReference: string) => orm.em.fork().find(BankInboxFact, { railReference }, { orderBy: { id: 'asc' } });
  /** A collector whose lease runs out at once, so that a test failing mid-way leaves the next one free to collect. */
  const inbox = (rail: Rail, extra: Partial<Parameters<typeof createBankInbox>[0]> = {}) => createBankInbox({ orm, rail, bankUrl, signal, logger, leaseMs: 1, ...extra });
  /** The signals a recorder got, statement matches aside (statements come at every round here). */
  const withoutStatements = (ms: BankMessage[]) => ms.filter((m) => m.kind !== 'statement_matched');

  it('routes settled to its transfer as one bankMessage signal, storing each message once even when read twice or by two collectors', async () => {
    const ref = newReference('RTP');
    const t = await transfer('rtp', ref, { amountMinor: 12_345 });
    await payIso(bankUrl, 'rtp', ref, 12_345, '000123456789');
    const a = inbox('rtp', { leaseMs: 30_000 });
    assert.ok((await a.collectOnce()).leased);
    // While its lease runs, no other collector takes the rail.
    assert.equal((await inbox('rtp').collectOnce()).leased, false);
    const [settled] = await receivedAfter(t.handle, 1);
    assert.equal(settled.kind, 'settled');
    assert.equal(settled.rail, 'rtp');
    assert.equal(settled.railReference, ref);
    assert.match(settled.messageId, /^bm_[0-9a-z]+:0$/);
    assert.ok(!JSON.stringify(settled).includes('000123456789'), 'no account number in the payload');
    // The pacs.002 ACCC and the camt.054 both say settled: the transfer hears it once.
    const facts = (await factsOf(ref)).filter((f) => f.kind !== 'statement_matched');
    assert.deepEqual(facts.map((f) => [f.kind, f.status]), [['settled', 'signalled'], ['settled', 'redundant']]);
    assert.equal(facts[1].amountMinor, 12_345, 'the camt.054 carries the amount booked');
    const storedBefore = await orm.em.fork().count(BankInboxMessage, { rail: 'rtp' });

    // Read again from the start, by this collector and by two at once whose leases run out at once.
    await a.stop();
    await orm.em.fork().nativeUpdate(BankInboxCursor, { rail: 'rtp' }, { cursor: null });
    const b = inbox('rtp', { leaseMs: 1 });
    const c = inbox('rtp', { leaseMs: 1 });
    const rounds = await Promise.all([b.collectOnce(), c.collectOnce()]);
    assert.equal(rounds.reduce((n, r) => n + r.stored, 0), 0, 'nothing stored twice');
    assert.equal(await orm.em.fork().count(BankInboxMessage, { rail: 'rtp' }), storedBefore);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual((await received(t.handle)).map((m) => m.kind), ['settled', 'statement_matched'], 'no signal sent twice');
  });

  it('routes rejected with the rail code and returned with the amount and code (SEPA, RTP)', async () => {
    await fetch(`${bankUrl}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { iban: 'DE75512108001245126199' }, behavior: 'reject', code: 'AC04' }) });
    const rejectedRef = newReference('REJ');
    const r = await transfer('sepa', rejectedRef, { status: 'pending' });
    await paySepa(bankUrl, rejectedRef, 10_000, 'DE75512108001245126199');
    const returnedRef = newReference('RTN');
    const t = await transfer('rtp', returnedRef, { amountMinor: 4_444, status: 'settled' });
    await payIso(bankUrl, 'rtp', returnedRef, 4_444);
    await fetch(`${bankUrl}/sim/payments/${returnedRef}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'AC06' }) });
    await inbox('sepa').collectOnce();
    await inbox('rtp').collectOnce();
    const [rejected] = await receivedAfter(r.handle, 1);
    assert.deepEqual([rejected.kind, rejected.code, rejected.rail], ['rejected', 'AC04', 'sepa']);
    // The attempt was already settled with us: the settlement is not sent again, the return is.
    const messages = withoutStatements(await receivedAfter(t.handle, 2));
    assert.deepEqual(messages.map((m) => [m.kind, m.code, m.amountMinor, m.currency]), [['returned', 'AC06', 4_444, 'USD']]);
    assert.deepEqual((await factsOf(returnedRef)).filter((f) => f.kind !== 'statement_matched').map((f) => [f.kind, f.status]), [['settled', 'redundant'], ['settled', 'redundant'], ['returned', 'signalled']]);
  });

  it('a message naming no known transfer becomes an unrouted_message break, its raw message kept', async () => {
    const ref = newReference('UNK');
    await payIso(bankUrl, 'rtp', ref, 777, '000555000555');
    await inbox('rtp').collectOnce();
    const breaks = await orm.em.fork().find(ReconciliationBreak, { kind: 'unrouted_message', railReference: ref });
    assert.equal(breaks.length, 2, 'one per fact: the ACCC and the camt.054');
    for (const b of breaks) {
      assert.equal(b.status, 'open');
      assert.equal(b.rail, 'rtp');
      assert.match(b.detail, /no transfer has/);
      assert.ok(!b.detail.includes('000555000555'), 'no account number in the break');
    }
    assert.deepEqual((await factsOf(ref)).map((f) => f.status), ['unrouted', 'unrouted']);
    const stored = await orm.em.fork().find(BankInboxMessage, { rail: 'rtp', raw: { $like: `%${ref}%` } });
    assert.ok(stored.length >= 2 && stored.every((m) => m.raw.includes(ref)));
  });

  it('the simulator down, then up: the round fails and backs off, and the next one loses nothing', async () => {
    const ref = newReference('DWN');
    const t = await transfer('swift', ref, { amountMinor: 5_000 });
    await payIso(bankUrl, 'swift', ref, 5_000);
    await close();
    try {
      const i = inbox('swift');
      await assert.rejects(i.collectOnce(), /bank unreachable/);
      // Running, it logs the failure (no secrets: the rail and the error) and keeps going.
      i.start(50);
      await waitFor('a logged failure', async () => logs.some((l) => l.includes('"rail":"swift"') && l.includes('backing off')));
      await i.stop();
    } finally {
      await listen();
    }
    await inbox('swift').collectOnce();
    // The attempt is submitted with us: the acceptance is known already, the settlement is news.
    const messages = await receivedAfter(t.handle, 2);
    assert.deepEqual(messages.map((m) => m.kind), ['settled', 'statement_matched']);
  });

  it('a crash between signal and mark sends the same messageId again', async () => {
    const ref = newReference('CRS');
    const t = await transfer('rtp', ref, { amountMinor: 6_000 });
    await payIso(bankUrl, 'rtp', ref, 6_000);
    let crashes = 1;
    const crashing: SignalTransfer = async (workflowId, message) => {
      await signal(workflowId, message);
      if (crashes-- > 0) throw new Error('worker killed after the signal, before the mark');
    };
    await inbox('rtp', { signal: crashing }).collectOnce();
    assert.equal((await factsOf(ref))[0].status, 'pending');
    await inbox('rtp').collectOnce();
    const messages = withoutStatements(await receivedAfter(t.handle, 3));
    assert.deepEqual(messages.map((m) => m.kind), ['settled', 'settled']);
    assert.equal(messages[0].messageId, messages[1].messageId);
    assert.equal((await factsOf(ref))[0].status, 'signalled');
  });

  it('a reading that died after recording a statement match, before its fact: the next reading still tells the transfer, once', async () => {
    const ref = newReference('SMC');
    const t = await transfer('rtp', ref, { amountMinor: 7_000 });
    await payIso(bankUrl, 'rtp', ref, 7_000);
    // What the dead reading left: the match committed (its own transaction), no statement_matched fact.
    const attempt = await orm.em.fork().findOneOrFail(Attempt, { railReference: ref });
    const day = new Date().toISOString().slice(0, 10);
    await orm.em.fork().insert(ReconciliationMatch, { attemptId: attempt.id, transferId: t.id, railReference: ref, statementId: `STMT-${day}-RTP-USD`, statementDate: day, accountServicerRef: `SIM-DBIT-${ref}`, amountMinor: 7_000, chargesMinor: 0, beneficiaryReceivedMinor: 7_000, matchedAt: new Date() });
    await inbox('rtp').collectOnce();
    const messages = await receivedAfter(t.handle, 2);
    assert.deepEqual(messages.map((m) => [m.kind, m.amountMinor ?? null]), [['settled', null], ['statement_matched', 7_000]]);
    await inbox('rtp').collectOnce();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await received(t.handle)).filter((m) => m.kind === 'statement_matched').length, 1, 'told once however often the statement is read');
  });

  it('a transfer whose workflow no longer runs: recorded with a break, not retried', async () => {
    const ref = newReference('GON');
    const t = await transfer('rtp', ref, { workflow: false });
    await payIso(bankUrl, 'rtp', ref, 10_000);
    await inbox('rtp').collectOnce();
    const [fact] = await factsOf(ref);
    assert.equal(fact.status, 'workflow_gone');
    const [b] = await orm.em.fork().find(ReconciliationBreak, { kind: 'unrouted_message', transferId: t.id });
    assert.match(b.detail, /workflow no longer runs/);
    await inbox('rtp').collectOnce();
    assert.equal((await factsOf(ref))[0].status, 'workflow_gone');
  });

  it('ACH: accepted from the file acknowledgment, then settled, a correction and a return, each routed by trace number', async () => {
    const { traces } = await payAch(bankUrl, [{ accountNumber: '000666666668', amountMinor: 8_000 }]);
    const t = await transfer('ach', traces[0], { amountMinor: 8_000, status: 'pending' });
    await inbox('ach').collectOnce();
    await waitFor('the settlement and the correction', async () => withoutStatements(await received(t.handle)).length >= 3);
    await fetch(`${bankUrl}/sim/payments/${traces[0]}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'R01' }) });
    await inbox('ach').collectOnce();
    const messages = withoutStatements(await receivedAfter(t.handle, 5));
    assert.deepEqual(messages.map((m) => [m.kind, m.code ?? null]), [['accepted', null], ['settled', null], ['correction', 'C01'], ['returned', 'R01']]);
    assert.equal(messages[3].amountMinor, 8_000);
    assert.ok(!JSON.stringify(messages).includes('000666666669'), 'the corrected account number stays in the raw file');
  });

  it('ACH: a correction signalled without its data is recorded by its fact ID from the stored COR file', async () => {
    const { traces } = await payAch(bankUrl, [{ accountNumber: '000666666668', amountMinor: 8_100 }]);
    const t = await transfer('ach', traces[0], { amountMinor: 8_100, status: 'pending' });
    await inbox('ach').collectOnce();
    const messages = await receivedAfter(t.handle, 3);
    const correction = messages.find((m) => m.kind === 'correction')!;
    const { recordCorrection } = createCorrectionActivities({ orm });
    assert.deepEqual(await recordCorrection({ transferId: t.id, traceNumber: traces[0], code: 'C01', factId: correction.messageId }), { recorded: true });
    const rows = await orm.em.fork().find(AchCorrection, { transferId: t.id });
    assert.deepEqual(rows.map((r) => [r.code, r.correctedData]), [['C01', '000666666669']]);
    // A fact ID that is not that correction (another code) is refused, naming the fact.
    await assert.rejects(recordCorrection({ transferId: t.id, traceNumber: traces[0], code: 'C02', factId: correction.messageId }), new RegExp(`bank fact ${correction.messageId} is not the correction C02`));
  });

  describe('statements in bulk', () => {
    it('signals each matched transfer once with the booked amount; a mismatch and an unmatched line become breaks', async () => {
      const matchedRef = newReference('SMA');
      const m = await transfer('sepa_instant', matchedRef, { amountMinor: 2_500 });
      const wrongRef = newReference('SMW');
      const w = await transfer('sepa_instant', wrongRef, { amountMinor: 3_500 });
      // The bank's statement misreports the second payment; and books a line Railyard never sent.
      await fetch(`${bankUrl}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { amountMinor: 3_500 }, behavior: 'accept', statement: { amountMinor: 3_400 } }) });
      const strangerRef = newReference('SMX');
      await fetch(`${bankUrl}/sim/statement-entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rail: 'sepa_instant', currency: 'EUR', amountMinor: 999, direction: 'DBIT', endToEndId: strangerRef }) });
      await payIso(bankUrl, 'sepa_instant', matchedRef, 2_500);
      await payIso(bankUrl, 'sepa_instant', wrongRef, 3_500);
      await inbox('sepa_instant').collectOnce();

      const matched = await receivedAfter(m.handle, 2);
      assert.deepEqual(matched.map((x) => [x.kind, x.amountMinor ?? null]), [['settled', null], ['statement_matched', 2_500]]);
      assert.ok(await orm.em.fork().findOne(ReconciliationMatch, { transferId: m.id }), 'the match is recorded');
      // A mismatch is not a match: its transfer hears of the break, and looks at the statement itself.
      assert.deepEqual((await receivedAfter(w.handle, 2)).map((x) => [x.kind, x.code ?? null, x.amountMinor ?? null]), [['settled', null, null], ['statement_break', 'amount_mismatch', 3_400]]);
      const mismatch = await orm.em.fork().findOneOrFail(ReconciliationBreak, { kind: 'amount_mismatch', railReference: wrongRef });
      assert.deepEqual([mismatch.expectedMinor, mismatch.actualMinor, mismatch.transferId], [3_500, 3_400, w.id]);
      assert.ok(await orm.em.fork().findOne(ReconciliationBreak, { kind: 'unknown_reference', railReference: strangerRef }));

      // The day's statement comes again, grown by a line: the matched transfer is not signalled again.
      await fetch(`${bankUrl}/sim/statement-entries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rail: 'sepa_instant', currency: 'EUR', amountMinor: 1, direction: 'DBIT', endToEndId: newReference('SMY') }) });
      await inbox('sepa_instant').collectOnce();
      const statements = await orm.em.fork().count(BankInboxMessage, { rail: 'sepa_instant', type: 'camt.053', raw: { $like: `%${matchedRef}%` } });
      assert.ok(statements >= 2, `the statement was read again (${statements})`);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await received(m.handle)).filter((x) => x.kind === 'statement_matched').length, 1);
    });
  });
});
