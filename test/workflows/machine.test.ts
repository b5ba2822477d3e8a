/**
 * The payout machine (workflows/transfer/machine.ts) outside Temporal: random sequences of step
 * results, bank messages, file answers, approvals, deadlines and operator commands, fed the way the
 * workflow feeds them (bank events only while it waits, commands between steps), checked against
 * the rules money depends on. Then one test per defect of the old workflow, replaying its
 * interleaving through the machine.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canMove, railTiming, type Rail, type TransferWorkflowInput } from '../../core/transfer';
import type { BankMessageKind } from '../../core/bank-message';
import { apply, deadlineOf, startPayout, work } from '../../workflows/transfer/machine';
import { liveAttempt } from '../../workflows/transfer/moves';
import { refusal } from '../../workflows/transfer/commands';
import { FINAL_ATTEMPT_STATES, type CommandEnvelope, type Outcome, type Payout, type PayoutEvent, type Work } from '../../workflows/transfer/model';

const T0 = Date.UTC(2026, 0, 5, 15, 0, 0);
const RAILS: Rail[] = ['ach', 'sepa', 'sepa_instant', 'swift', 'rtp'];

function inputFor(rail: Rail, options: { fx?: boolean; approval?: boolean } = {}): TransferWorkflowInput {
  return {
    transferId: 'tr_01jtest0000000000000000000',
    clientId: 'cl_1',
    amountMinor: 1_000,
    currency: 'USD',
    targetCurrency: options.fx ? 'EUR' : 'USD',
    rail,
    timing: railTiming('demo'),
    approvalRequired: options.approval === true,
  };
}

/** The bank's truth as the test sees it: which attempts it may have, by the events fed so far. */
interface World {
  nowMs: number;
  /** attemptNo → the bank may have it (a submit started and no definitive word since). */
  mayHave: Map<number, boolean>;
  cmdSeq: number;
  msgSeq: number;
}

const ref = (no: number) => `ref-${no}`;

/** A step result for `w`, picked by `n` among what the real activity can answer. */
function stepResult(p: Payout, w: Work, n: number, world: World): PayoutEvent {
  const pick = <T>(xs: T[]): T => xs[n % xs.length];
  const no = (w.input.attemptNo as number | undefined) ?? liveAttempt(p)?.no ?? 1;
  if (n % 11 === 10 && w.step !== 'markStatus') return { type: 'step_failed', step: w.step, message: 'retries exhausted', errorType: pick(['BankUnavailable', 'other']) };
  switch (w.step) {
    case 'holdFunds':
      return { type: 'step_done', step: w.step, result: n % 7 === 6 ? { held: false, status: 'failed', failureCode: 'insufficient_funds' } : { held: true, status: 'funds_held' } };
    case 'submitPayout': {
      const base = { attemptId: `att-${no}`, railReference: ref(no) };
      const r = pick([
        { outcome: 'accepted', ...base },
        p.rail === 'ach' ? { outcome: 'queued', ...base, windowId: `w-${world.nowMs}`, cutoffAtMs: world.nowMs + 2_000, label: 'demo' } : { outcome: 'accepted', ...base },
        { outcome: 'unknown', ...base, reason: 'no answer' },
        { outcome: 'rejected', ...base, code: 'AB05', message: 'unreachable', fallback: true },
        { outcome: 'rejected', ...base, code: 'R03', message: 'no account' },
      ]);
      if (r.outcome === 'rejected') world.mayHave.set(no, false);
      return { type: 'step_done', step: w.step, result: r };
    }
    case 'withdrawAchEntry': {
      const withdrawn = n % 2 === 0;
      if (withdrawn) world.mayHave.set(no, false);
      return { type: 'step_done', step: w.step, result: { withdrawn, windowId: 'w' } };
    }
    case 'achEntryState': {
      const status = pick(['accepted', 'rejected', 'file_refused', 'in_file']);
      if (status === 'rejected' || status === 'file_refused') world.mayHave.set(no, false);
      return { type: 'step_done', step: w.step, result: { status, code: status === 'rejected' ? 'R03' : null, fileId: 'f1', windowId: 'w' } };
    }
    case 'requeueAchEntry': {
      const r = pick([{ outcome: 'queued', windowId: `w-${world.nowMs}`, cutoffAtMs: world.nowMs + 2_000, label: 'demo' }, { outcome: 'accepted' }, { outcome: 'rejected', code: 'R02' }]);
      if (r.outcome === 'rejected') world.mayHave.set(no, false);
      else world.mayHave.set(no, true);
      return { type: 'step_done', step: w.step, result: r };
    }
    case 'checkPayout': {
      const state = pick(['pending', 'settled', 'rejected', 'returned', 'canceled', 'not_found']);
      if (state === 'rejected' || state === 'returned' || state === 'canceled' || state === 'not_found') world.mayHave.set(no, false);
      return { type: 'step_done', step: w.step, result: { state, code: state === 'rejected' ? 'AC04' : null } };
    }
    case 'recallPayout': {
      const canceled = n % 2 === 0;
      if (canceled) world.mayHave.set(no, false);
      return { type: 'step_done', step: w.step, result: canceled ? { outcome: 'canceled' } : { outcome: 'refused', code: 'LEGL', message: 'refused' } };
    }
    case 'reconcileAttempt':
      return { type: 'step_done', step: w.step, result: pick([{ outcome: 'matched', beneficiaryReceivedMinor: 1_000, chargesMinor: 0 }, { outcome: 'pending' }, { outcome: 'break', breakId: 'b', kind: 'amount_mismatch', reason: 'amount differs' }]) };
    case 'assessReturn':
      return { type: 'step_done', step: w.step, result: n % 2 === 0 ? { take: true } : { take: false, reason: 'late' } };
    default:
      return { type: 'step_done', step: w.step };
  }
}

const KINDS: BankMessageKind[] = ['accepted', 'rejected', 'settled', 'statement_matched', 'statement_break', 'returned', 'correction', 'recall_confirmed', 'recall_refused'];

/** Something from outside while the payout waits (or a command between steps), picked by `n`. */
function outsideEvent(p: Payout, n: number, world: World): PayoutEvent | undefined {
  const options: (() => PayoutEvent | undefined)[] = [];
  const a = liveAttempt(p) ?? p.attempts.at(-1);
  const waiting = work(p) === undefined;
  const command = (kind: CommandEnvelope['kind']): PayoutEvent => ({
    type: 'command',
    // Half the commands carry out an approval (four eyes: a recall or a return accepted needs one).
    command: { id: `cmd-${++world.cmdSeq}`, kind, command: { operator: 'ops', reason: 'test', ...(kind === 'returnDecision' ? { decision: n % 2 === 0 ? 'accept' : 'dishonor' } : {}), ...(n % 4 < 2 ? { approvalId: `apr_${world.cmdSeq}` } : {}) }, via: 'update' },
  });
  options.push(() => command('cancel'), () => command('retry'), () => command('returnDecision'));
  if (waiting) {
    if (a?.railReference) {
      options.push(() => {
        const kind = KINDS[Math.floor(n / 3) % KINDS.length];
        const no = a.no;
        if (kind === 'rejected' || kind === 'recall_confirmed') world.mayHave.set(no, false);
        // A return before settlement is the bank's word the money did not reach the beneficiary.
        if (kind === 'returned' && a.state !== 'settled') world.mayHave.set(no, false);
        return { type: 'bank', message: { messageId: `m-${++world.msgSeq % 5}`, rail: p.rail, kind, railReference: a.railReference!, code: kind === 'correction' ? 'C01' : 'R01' } };
      });
    }
    if (p.phase.kind === 'queued') {
      const windowId = p.phase.window.windowId;
      options.push(() => {
        const outcome = (['accepted', 'rejected', 'file_rejected', 'file_unconfirmed'] as const)[Math.floor(n / 3) % 4];
        if (outcome === 'rejected' || outcome === 'file_rejected') world.mayHave.set(a!.no, false);
        return { type: 'ach_answer', answer: { windowId, fileId: 'f1', outcome, code: outcome === 'rejected' ? 'R03' : null, message: outcome } };
      });
    }
    if (p.phase.kind === 'approval') options.push(() => ({ type: 'approval', decision: { approvalId: 'apr_1', decision: n % 3 === 0 ? 'deny' : 'approve', operator: 'bob', reason: 'ok' } }));
    const due = deadlineOf(p);
    if (due !== undefined) {
      options.push(() => {
        world.nowMs = Math.max(world.nowMs, due);
        return { type: 'deadline' };
      });
    }
  }
  return options[n % options.length]();
}

/** Applies an event and checks every rule on the way from `before` to the result. */
function check(before: Payout, event: PayoutEvent, world: World): Outcome {
  if (event.type === 'command') {
    // The validator and the application are the same function: a command the validator allows is never refused as a bug.
    refusal(before, event.command.kind, event.command.command, world.nowMs);
  }
  const out = apply(before, event, world.nowMs);
  const after = out.payout;
  // Status only moves along canMove, one move at a time as the database makes them.
  let from = before.status;
  for (const to of after.moves) {
    assert.ok(canMove(from, to), `status ${from} → ${to} on ${event.type}`);
    from = to;
  }
  assert.equal(from, after.status);
  // At most one live attempt.
  assert.ok(after.attempts.filter((a) => !FINAL_ATTEMPT_STATES.includes(a.state)).length <= 1, 'more than one live attempt');
  // A final attempt stays final, with its state.
  before.attempts.forEach((a, i) => {
    if (FINAL_ATTEMPT_STATES.includes(a.state)) assert.equal(after.attempts[i].state, a.state, `attempt ${a.no} left its final state ${a.state}`);
  });
  // Never compensate while the bank may have the payment, by the test's own account of the bank's word.
  const w = work(after);
  if (w && (w.step === 'voidHold' || w.step === 'unwindFx' || (w.step === 'endTransfer' && after.phase.kind === 'compensating'))) {
    for (const [no, may] of world.mayHave) assert.equal(may, false, `compensating (${w.step}) while attempt ${no} may be with the bank`);
  }
  return out;
}

function run(p0: Payout, choices: number[], world: World): Payout {
  let p = p0;
  for (const n of choices) {
    world.nowMs += 1_000;
    const w = work(p);
    let event: PayoutEvent | undefined;
    if (w && n % 4 !== 0) {
      if (w.step === 'submitPayout') {
        p = check(p, { type: 'step_started', step: 'submitPayout' }, world).payout;
        world.mayHave.set(liveAttempt(p)!.no, true);
      }
      event = stepResult(p, w, Math.floor(n / 4), world);
    } else {
      event = outsideEvent(p, Math.floor(n / 4), world);
    }
    if (event) p = check(p, event, world).payout;
    if (p.phase.kind === 'done') break;
  }
  return p;
}

/** After the random part, a cooperative bank and operators: the payout must end, its hold resolved. */
function finish(p0: Payout, world: World): Payout {
  let p = p0;
  for (let i = 0; i < 300 && p.phase.kind !== 'done'; i++) {
    world.nowMs += 1_000;
    const w = work(p);
    let event: PayoutEvent;
    if (w) {
      if (w.step === 'submitPayout') {
        p = check(p, { type: 'step_started', step: 'submitPayout' }, world).payout;
        world.mayHave.set(liveAttempt(p)!.no, true);
      }
      const no = liveAttempt(p)?.no ?? 1;
      const happy: Record<string, unknown> = {
        holdFunds: { held: true, status: 'funds_held' },
        submitPayout: { outcome: 'accepted', attemptId: `att-${no}`, railReference: ref(no) },
        checkPayout: { state: 'settled', code: null },
        reconcileAttempt: { outcome: 'matched', beneficiaryReceivedMinor: 1_000, chargesMinor: 0 },
        achEntryState: { status: 'accepted', code: null, fileId: 'f1' },
        requeueAchEntry: { outcome: 'accepted' },
        withdrawAchEntry: { withdrawn: false },
        recallPayout: { outcome: 'refused', code: 'LEGL', message: 'refused' },
        assessReturn: { take: true },
      };
      event = { type: 'step_done', step: w.step, result: happy[w.step] };
    } else if (p.phase.kind === 'approval') {
      event = { type: 'approval', decision: { approvalId: 'apr_2', decision: 'approve', operator: 'bob', reason: 'ok' } };
    } else if (p.phase.kind === 'parked' || p.phase.kind === 'return_question' || p.phase.kind === 'unknown') {
      const kind = p.phase.kind === 'return_question' ? 'returnDecision' : 'retry';
      event = { type: 'command', command: { id: `fin-${i}`, kind, command: { operator: 'ops', reason: 'finish', decision: 'dishonor' }, via: 'update' } };
    } else {
      const due = deadlineOf(p);
      assert.ok(due !== undefined, `waiting in ${p.phase.kind} with nothing that can end it`);
      world.nowMs = Math.max(world.nowMs, due);
      event = { type: 'deadline' };
    }
    p = check(p, event, world).payout;
  }
  return p;
}

describe('payout machine: properties', () => {
  for (const rail of RAILS) {
    it(`${rail}: random events and commands never break the money rules, and the payout always ends with its hold resolved`, () => {
      fc.assert(
        fc.property(fc.array(fc.nat({ max: 10_000 }), { maxLength: 80 }), fc.boolean(), fc.boolean(), (choices, fx, approval) => {
          const world: World = { nowMs: T0, mayHave: new Map(), cmdSeq: 0, msgSeq: 0 };
          const p = finish(run(startPayout(inputFor(rail, { fx, approval })), choices, world), world);
          assert.equal(p.phase.kind, 'done');
          // Every hold ends posted or voided; `none`: it was never placed (insufficient funds, or canceled first).
          assert.ok(p.hold === 'posted' || p.hold === 'voided' || (p.hold === 'none' && (p.failureCode === 'insufficient_funds' || p.status === 'canceled')), `hold ${p.hold} at ${p.status}`);
          if (p.status === 'completed' || p.status === 'returned') assert.equal(p.hold, 'posted');
          if (p.status === 'failed' || p.status === 'canceled') assert.ok(!p.fxBooked, 'a failed or canceled payout has its conversion unwound');
          // The state is plain data: a continue-as-new carries all of it.
          assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
        }),
        { numRuns: Number(process.env.MACHINE_RUNS ?? 1_000) },
      );
    });
  }
});

// --- The defects of the old workflow, each replayed through the machine ---

function feed(p: Payout, events: PayoutEvent[], nowMs = T0): { p: Payout; outs: Outcome[] } {
  const outs: Outcome[] = [];
  for (const e of events) {
    const out = apply(p, e, nowMs);
    outs.push(out);
    p = out.payout;
  }
  return { p, outs };
}

const done = (step: Work['step'], result?: unknown): PayoutEvent => ({ type: 'step_done', step, result });
const cmd = (id: string, kind: CommandEnvelope['kind'], extra: Record<string, string> = {}): PayoutEvent => ({ type: 'command', command: { id, kind, command: { operator: 'alice', reason: 'client asked', ...extra }, via: 'update' } });
const bank = (kind: BankMessageKind, railReference: string, id = kind): PayoutEvent => ({ type: 'bank', message: { messageId: id, rail: 'sepa', kind, railReference, code: kind === 'returned' ? 'R01' : 'RJCT' } });

describe('payout machine: the defects of the old workflow', () => {
  it('a cancel accepted just before the ACH cut-off, applied after the file was accepted, is refused and the payout completes (never a recall on a rail that cannot recall)', () => {
    const input = inputFor('ach');
    let { p } = feed(startPayout(input), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'queued', attemptId: 'att-1', railReference: 't-1', windowId: 'w1', cutoffAtMs: T0 + 2_000, label: 'demo' })]);
    // Validated before the cut-off: allowed.
    assert.equal(refusal(p, 'cancel', { operator: 'alice', reason: 'x' }, T0 + 1_000), undefined);
    // The batch's answer is applied first (the audit write was still running), then the cancel.
    const r = feed(p, [{ type: 'ach_answer', answer: { windowId: 'w1', fileId: 'f1', outcome: 'accepted', code: null, message: 'accepted' } }, done('markStatus'), done('confirmAttempt'), cmd('c1', 'cancel')], T0 + 2_500);
    p = r.p;
    assert.equal(r.outs[3].answers[0]?.accepted, false);
    assert.match(r.outs[3].answers[0].message, /ach cannot recall/);
    assert.equal(p.phase.kind, 'following');
    assert.equal(p.recalls, 0);
    p = feed(p, [bank('settled', 't-1'), bank('statement_matched', 't-1'), done('settlePayout'), done('completeTransfer')], T0 + 5_000).p;
    assert.equal(p.status, 'completed');
    assert.equal(p.hold, 'posted');
  });

  it('the same cancel applied first withdraws the entry; a window that closed first answers the cancel refused and the entry waits for its file', () => {
    let { p } = feed(startPayout(inputFor('ach')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'queued', attemptId: 'att-1', railReference: 't-1', windowId: 'w1', cutoffAtMs: T0 + 2_000, label: 'demo' })]);
    const r = feed(p, [cmd('c1', 'cancel'), done('withdrawAchEntry', { withdrawn: false, windowId: 'w1' })], T0 + 1_000);
    p = r.p;
    assert.equal(r.outs[1].answers[0].accepted, false);
    assert.equal(p.phase.kind, 'queued');
    assert.equal(work(p), undefined, 'nothing is compensated');
  });

  it('cancel after a submit that failed on its last try with a 5xx asks the bank first: an earlier try landed, so nothing is voided', () => {
    let { p } = feed(startPayout(inputFor('rtp')), [
      done('holdFunds', { held: true, status: 'funds_held' }),
      { type: 'step_started', step: 'submitPayout' },
      { type: 'step_failed', step: 'submitPayout', message: 'bank answered 503', errorType: 'BankUnavailable' },
      done('markStatus'),
    ]);
    assert.equal(p.phase.kind, 'parked');
    p = feed(p, [cmd('c1', 'cancel')]).p;
    assert.equal(work(p)?.step, 'checkPayout', 'the bank is asked before anything is undone');
    const r = feed(p, [done('checkPayout', { state: 'settled', code: null })]);
    assert.equal(r.outs[0].answers[0].accepted, false);
    assert.notEqual(work(r.p)?.step, 'voidHold');
    assert.equal(r.p.hold, 'pending');
    // Had the bank had no record of it, the cancel would have compensated.
    const none = feed(p, [done('checkPayout', { state: 'not_found', code: null })]).p;
    assert.equal(work(none)?.step, 'voidHold');
  });

  it('a cancel whose inquiry could not reach the bank is answered refused, and a later retry inquires without acting on that cancel', () => {
    let { p } = feed(startPayout(inputFor('rtp')), [
      done('holdFunds', { held: true, status: 'funds_held' }),
      { type: 'step_started', step: 'submitPayout' },
      { type: 'step_failed', step: 'submitPayout', message: 'bank answered 503', errorType: 'BankUnavailable' },
      done('markStatus'),
    ]);
    const asked = feed(p, [cmd('c1', 'cancel'), { type: 'step_failed', step: 'checkPayout', message: 'retries exhausted', errorType: 'BankUnavailable' }]);
    assert.equal(asked.outs[1].answers[0].accepted, false);
    p = feed(asked.p, [done('markStatus')]).p;
    assert.equal(p.phase.kind, 'parked');
    p = feed(p, [cmd('r1', 'retry')]).p;
    assert.equal(work(p)?.step, 'checkPayout');
    p = feed(p, [done('checkPayout', { state: 'not_found', code: null })]).p;
    assert.notEqual(work(p)?.step, 'voidHold', 'the refused cancel does not come back as a compensation');
    assert.equal(p.hold, 'pending');
  });

  it('retries of a long-pending settlement leave a state of bounded size, carried whole across continue-as-new', () => {
    let { p } = feed(startPayout(inputFor('sepa')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'accepted', attemptId: 'att-1', railReference: 'e2e-1' })]);
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      p = feed(p, [{ type: 'deadline' }, done('checkPayout', { state: 'pending', code: null }), done('markStatus'), cmd(`r${i}`, 'retry'), done('markStatus')], T0 + i * 600_000).p;
      p = { ...p, awaiting: [] };
      sizes.push(JSON.stringify(p).length);
    }
    assert.equal(p.phase.kind, 'following');
    assert.ok(sizes[49] <= sizes[1] + 50, `state grew from ${sizes[1]} to ${sizes[49]} characters`);
  });

  it('an ACH return is judged from when the bank settled, not from when the statement matched', () => {
    const settledAt = T0 + 10_000;
    let { p } = feed(startPayout(inputFor('ach')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'queued', attemptId: 'att-1', railReference: 't-1', windowId: 'w1', cutoffAtMs: T0 + 2_000, label: 'demo' })]);
    p = feed(p, [{ type: 'ach_answer', answer: { windowId: 'w1', fileId: 'f1', outcome: 'accepted', code: null, message: 'ok' } }, done('markStatus'), done('confirmAttempt')], T0 + 3_000).p;
    p = feed(p, [bank('settled', 't-1')], settledAt).p;
    p = feed(p, [bank('statement_matched', 't-1'), done('settlePayout'), done('completeTransfer')], settledAt + 3 * 86_400_000).p;
    p = feed(p, [bank('returned', 't-1')], settledAt + 4 * 86_400_000).p;
    const w = work(p)!;
    assert.equal(w.step, 'assessReturn');
    assert.equal(w.input.settledAtMs, settledAt);
  });

  it('a transfer going from unknown to the bank’s rejection is never written as submitted first', () => {
    let { p } = feed(startPayout(inputFor('sepa_instant')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'unknown', attemptId: 'att-1', railReference: 'e2e-1', reason: 'timeout' })]);
    assert.equal(p.status, 'unknown');
    for (const how of ['message', 'inquiry'] as const) {
      const events: PayoutEvent[] = how === 'message' ? [bank('rejected', 'e2e-1')] : [{ type: 'deadline' }, done('checkPayout', { state: 'rejected', code: 'AC04' })];
      const r = feed(p, events);
      const writes = r.outs.map((o) => o.payout.pendingWrite?.status).filter(Boolean);
      assert.deepEqual(writes, [], `${how}: no status written before the compensation`);
      assert.equal(work(r.p)?.step, 'voidHold');
      const ended = feed(r.p, [done('voidHold'), done('endTransfer')]).p;
      assert.equal(ended.status, 'failed');
    }
    void p;
  });

  it('each recall gets its own cancellation ID, so a refused recall is not the answer to the next cancel', () => {
    let { p } = feed(startPayout(inputFor('sepa')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'accepted', attemptId: 'att-1', railReference: 'e2e-1' })]);
    p = feed(p, [cmd('c1', 'cancel', { approvalId: 'apr_1' })]).p;
    assert.equal(work(p)?.input.recallNo, 1);
    p = feed(p, [done('recallPayout', { outcome: 'refused', code: 'LEGL', message: 'refused' }), cmd('c2', 'cancel', { approvalId: 'apr_2' })]).p;
    assert.equal(work(p)?.input.recallNo, 2);
    p = feed(p, [done('recallPayout', { outcome: 'canceled' })]).p;
    assert.equal(work(p)?.step, 'voidHold');
    const ended = feed(p, [done('voidHold')]).p;
    assert.equal(work(ended)?.input.attemptStatus, 'recalled');
  });

  it('four eyes: a recall or a late return accepted without an approval is refused naming the route; with one it is taken; a dishonor needs none', () => {
    const submitted = feed(startPayout(inputFor('sepa')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'accepted', attemptId: 'att-1', railReference: 'e2e-1' })]).p;
    const alone = feed(submitted, [cmd('c1', 'cancel')]);
    assert.equal(alone.outs[0].answers[0].accepted, false);
    assert.match(alone.outs[0].answers[0].message, /a recall of tr_\S+ needs an approval by a second person \(four eyes\): an operator asks for it with POST \/v1\/ops\/transfers\/tr_\S+\/cancel/);
    assert.equal(alone.p.phase.kind, 'following');
    assert.equal(alone.p.recalls, 0);
    assert.equal(feed(submitted, [cmd('c1', 'cancel', { approvalId: 'apr_1' })]).p.phase.kind, 'recalling');
    // Runs recorded before the rule (fourEyes false) recall as they did.
    assert.equal(feed({ ...submitted, fourEyes: false }, [cmd('c1', 'cancel')]).p.phase.kind, 'recalling');

    const question = { ...submitted, phase: { kind: 'return_question' as const, code: 'R01', reason: 'late' } };
    assert.match(refusal(question, 'returnDecision', { decision: 'accept', reason: 'proved closed', operator: 'bob' }, T0) ?? '', /accepting the late return of tr_\S+ credits the client back and needs an approval/);
    assert.equal(refusal(question, 'returnDecision', { decision: 'accept', reason: 'proved closed', operator: 'bob', approvalId: 'apr_9' }, T0), undefined);
    assert.equal(refusal(question, 'returnDecision', { decision: 'dishonor', reason: 'untimely', operator: 'bob' }, T0), undefined);
  });

  it('an ACH entry the bank settles before the payout heard its file: no step until the statement, then one booking confirms, settles and completes', () => {
    const queued = feed(startPayout(inputFor('ach')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'queued', attemptId: 'att-1', railReference: 't-1', windowId: 'w1', cutoffAtMs: T0 + 2_000, label: 'demo' })]).p;
    const settled = feed(queued, [bank('settled', 't-1')], T0 + 60_000).p;
    assert.equal(work(settled), undefined, 'no step of its own');
    assert.equal(settled.phase.kind, 'following');
    assert.equal(settled.status, 'submitted', 'as the window\'s send recorded it');
    assert.equal(settled.settledAtMs, T0 + 60_000);
    let p = feed(settled, [bank('statement_matched', 't-1')], T0 + 120_000).p;
    const steps: string[] = [];
    for (let w = work(p); w; w = work(p)) {
      steps.push(w.step);
      p = feed(p, [{ type: 'step_started', step: w.step }, done(w.step)], T0 + 120_000).p;
    }
    assert.deepEqual(steps, ['confirmAttempt', 'settlePayout', 'completeTransfer']);
    assert.equal(p.status, 'completed');
    // A run recorded before (confirmsAtBooking false) confirms on its own first, as it did.
    assert.equal(work(feed({ ...queued, confirmsAtBooking: false }, [bank('settled', 't-1')]).p)?.step, 'markStatus');
  });

  it('a canceled ACH payout ends its withdrawn attempt as canceled, not pending', () => {
    let { p } = feed(startPayout(inputFor('ach')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'queued', attemptId: 'att-1', railReference: 't-1', windowId: 'w1', cutoffAtMs: T0 + 2_000, label: 'demo' })]);
    p = feed(p, [cmd('c1', 'cancel'), done('withdrawAchEntry', { withdrawn: true, windowId: 'w1' }), done('voidHold')], T0 + 1_000).p;
    assert.deepEqual(work(p)?.input, { transferId: p.transferId, status: 'canceled', code: 'canceled', message: 'canceled by alice: client asked', attemptId: 'att-1', attemptStatus: 'canceled' });
  });

  it("Temporal's cancellation request on a submitted RTP payout is refused like the cancel command, and the payout goes on", () => {
    let { p } = feed(startPayout(inputFor('rtp')), [done('holdFunds', { held: true, status: 'funds_held' }), { type: 'step_started', step: 'submitPayout' }, done('submitPayout', { outcome: 'accepted', attemptId: 'att-1', railReference: 'e2e-1' })]);
    const r = apply(p, { type: 'command', command: { id: 'cancellation-1', kind: 'cancel', command: { operator: 'temporal', reason: 'cancellation requested through Temporal' }, via: 'cancellation' } }, T0);
    assert.equal(r.answers[0].accepted, false);
    assert.equal(r.audit?.outcome, 'refused');
    p = feed(r.payout, [bank('settled', 'e2e-1'), bank('statement_matched', 'e2e-1'), done('settlePayout'), done('completeTransfer')]).p;
    assert.equal(p.status, 'completed');
  });
});
