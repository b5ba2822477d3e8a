/**
 * Payout workflow: one per transfer, ID `transfer-<transferId>`. It holds no logic of its own: the
 * payout is one value (model.ts) moved by the pure machine (machine.ts and the phase modules), and
 * this loop only
 *   1. applies operator commands between steps (audited first: an action the log cannot record is
 *      not taken),
 *   2. runs the one step `work(p)` names — database steps and the submission as local activities
 *      (their keys are business IDs, so a retry or a Reset finds its own work), bank inquiries,
 *      recalls and statement reads as activities — and feeds its result back,
 *   3. otherwise waits, without polling, for a signal (`bankMessage`, `achFileAnswer`,
 *      `approvalDecision`, a command) or the phase's one deadline, and feeds that back.
 *
 * Cost (SPEC §8): the status search attribute is upserted once per workflow task, only when it
 * changed, and only for statuses someone searches for (the waits and the ends: see UPSERTED); a
 * happy path runs its local steps in two workflow tasks; one timer serves consecutive waits while it
 * bounds them within DEADLINE_SLACK_MS.
 *
 * Temporal's controls (SPEC §6): the loop runs non-cancellable, and a cancellation request
 * (`temporal workflow cancel`, the UI's Request Cancellation) becomes a `cancel` command from
 * `temporal`: taken before funds may have left, refused after, and the payout goes on. Reset re-runs
 * the same steps with the same keys (a status write to a status the row has, or has had, is a no-op,
 * never a move backwards). A long wait continues as new, carrying the payout, before the history grows large.
 *
 * Determinism: test/workflows/replay.test.ts replays test/histories/*.json against this code; a
 * change to the commands it issues goes behind `patched()`.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  isCancellation,
  patched,
  log,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { auditDetail, type OperatorActionKind, type OperatorActionRecord, type OperatorResult } from '../../core/operator';
import type { ApprovalCheck } from '../../core/approval';
import type { BankMessage, BankMessageKind } from '../../core/bank-message';
import { SEARCH_ATTRIBUTES, type HoldOutcome, type TransferStatus, type TransferWorkflowInput } from '../../core/transfer';
import { ACH_ENTRY_STEP, AUDIT_RECORD, BANK_INQUIRY, BANK_RECALL, BANK_SUBMIT, LEDGER_COMPENSATION, LEDGER_STEP, STATEMENT_READ } from '../activity-options';
import { achFileAnswerSignal } from '../ach-batch';
import {
  approvalDecisionSignal,
  bankMessageSignal,
  cancelSignal,
  cancelUpdate,
  fundsHeldUpdate,
  retrySignal,
  retryUpdate,
  returnDecisionSignal,
  returnDecisionUpdate,
  statusQuery,
  type AuditSinks,
  type TransferState,
} from './definitions';
import type { CommandEnvelope, Outcome, Payout, PayoutEvent, StepName, Work } from './model';
import { apply, deadlineOf, startPayout, work } from './machine';
import { liveAttempt } from './moves';
import { approvalNeeded, refusal } from './commands';

/** What a continued run carries: the payout as it stood. */
export interface TransferWorkflowArgs extends TransferWorkflowInput {
  resume?: { payout: Payout };
}

/**
 * Statuses written to the TransferStatus search attribute: those an operator searches for (stuck,
 * ambiguous, waiting for a person) and the ends. The in-flight ones (funds_held, fx_locked,
 * submitted, settled) are in the `status` query, the UI's current details and the database; an
 * upsert each would cost four actions a payout.
 */
const UPSERTED: readonly TransferStatus[] = ['needs_attention', 'needs_approval', 'unknown', 'completed', 'failed', 'canceled', 'returned'];

/**
 * One running timer serves the next wait too when it fires at most this long after that wait's
 * deadline (the deadline then fires late by that much; one firing early re-arms for the rest).
 * Three hours is nothing against real settlement and return windows (days), and lets one timer
 * bound the whole happy path under RAIL_TIME=demo.
 */
const DEADLINE_SLACK_MS = 3 * 3_600_000;

/**
 * Four eyes inside the workflow (commands.ts `approvalNeeded`): a recall, a late return accepted
 * and a payout approval are acted on only when the approvals table says a second person decided
 * them. Its commands (the check, a refusal where a recall used to start) are new: behind a patch.
 */
const FOUR_EYES_PATCH = 'four-eyes-in-workflow';

/**
 * An ACH entry settled before its file's answer reached the payout (the batch stopped signalling
 * accepted entries, workflows/ach-batch.ts): confirmed with the booking instead of a step of its own.
 */
const CONFIRM_AT_BOOKING_PATCH = 'ach-confirm-at-booking';

/** Continue as new past this many events even if the server has not suggested it yet. */
const HISTORY_EVENTS_MAX = 5_000;
/** How long the API's start (the fundsHeld update) waits for the hold: one transaction, unless the ledger is in trouble. */
const FUNDS_HELD_WAIT = '30 seconds';
/** How long an Update waits for its action to take effect before answering with where things stand. */
const OPERATOR_RESULT_WAIT = '15 minutes';

/**
 * The remote option sets, as local activities. Retries waiting longer than a second go through a
 * workflow timer rather than a sleep in the worker: a failing step costs actions only while it
 * fails, and a server that skips time (tests) skips them too.
 */
const local = (options: ActivityOptions): LocalActivityOptions => ({ startToCloseTimeout: options.startToCloseTimeout, scheduleToCloseTimeout: options.scheduleToCloseTimeout, retry: options.retry, localRetryThreshold: '1 second' });
const ledger = proxyLocalActivities<Activities>(local(LEDGER_STEP));
const ledgerUndo = proxyLocalActivities<Activities>(local(LEDGER_COMPENSATION));
const submit = proxyLocalActivities<Activities>(local(BANK_SUBMIT));
const auditLog = proxyLocalActivities<Activities>(local(AUDIT_RECORD));
const inquiry = proxyActivities<Activities>(BANK_INQUIRY);
const recall = proxyActivities<Activities>(BANK_RECALL);
const statements = proxyActivities<Activities>(STATEMENT_READ);
const achEntries = proxyActivities<Activities>(ACH_ENTRY_STEP);
const sinks = proxySinks<AuditSinks>();

/** Which proxy runs each step: local for the database and the submission, remote for what may wait on the bank. */
function runStep(w: Work): Promise<unknown> {
  const i = w.input as never;
  const step: StepName = w.step;
  switch (step) {
    case 'holdFunds':
      return ledger.holdFunds(i);
    case 'convertFunds':
      return ledger.convertFunds(i);
    case 'markStatus':
      return ledger.resumeStatus(i);
    case 'submitPayout':
      // A local step runs on the worker's clock; an ACH entry's window follows the payout's own.
      return submit.submitPayout({ ...(w.input as { transferId: string; attemptNo: number }), atMs: Date.now() });
    case 'switchRail':
      return ledger.switchRail(i);
    case 'confirmAttempt':
      return ledger.confirmAttempt(i);
    case 'settlePayout':
      return ledger.settlePayout(i);
    case 'completeTransfer':
      return ledger.completeTransfer(i);
    case 'assessReturn':
      return ledger.assessReturn(i);
    case 'recordReturn':
      return ledger.recordReturn(i);
    case 'dishonorReturn':
      return ledger.dishonorReturn(i);
    case 'recordCorrection':
      return ledger.recordCorrection(i);
    case 'unwindFx':
      return ledgerUndo.unwindFx(i);
    case 'voidHold':
      return ledgerUndo.voidHold(i);
    case 'endTransfer':
      return ledgerUndo.endTransfer(i);
    case 'checkPayout':
      return inquiry.checkPayout.executeWithOptions({ ...BANK_INQUIRY, summary: w.summary }, [i]);
    case 'recallPayout':
      return recall.recallPayout.executeWithOptions({ ...BANK_RECALL, summary: w.summary }, [i]);
    case 'reconcileAttempt':
      return statements.reconcileAttempt.executeWithOptions({ ...STATEMENT_READ, summary: w.summary }, [i]);
    case 'withdrawAchEntry':
      return achEntries.withdrawAchEntry.executeWithOptions({ ...ACH_ENTRY_STEP, summary: w.summary }, [i]);
    case 'achEntryState':
      return achEntries.achEntryState.executeWithOptions({ ...ACH_ENTRY_STEP, summary: w.summary }, [i]);
    case 'requeueAchEntry':
      return achEntries.requeueAchEntry.executeWithOptions({ ...ACH_ENTRY_STEP, summary: w.summary }, [i]);
  }
}

const REMOTE_STEPS: readonly StepName[] = ['checkPayout', 'recallPayout', 'reconcileAttempt', 'withdrawAchEntry', 'achEntryState', 'requeueAchEntry'];

/**
 * A step's failure, or undefined for anything else (a bug, which fails the workflow task). A remote
 * activity fails as an ActivityFailure wrapping its cause; a local activity whose retries ran out
 * through workflow timers fails with its cause itself.
 */
function stepFailure(err: unknown): { message: string; errorType?: string } | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err instanceof ApplicationFailure ? err : undefined;
  if (!cause && !(err instanceof ActivityFailure)) return undefined;
  const text = cause?.message ?? (err as ActivityFailure).message;
  // Short enough for a status reason: a failed SQL statement is quoted first and the database's error comes last.
  const message = text.length > 200 ? `${text.slice(0, 60)} … ${text.slice(-130)}` : text;
  return { message, errorType: cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined };
}

export async function transferWorkflow(input: TransferWorkflowArgs): Promise<TransferState> {
  // Called once a run, here: runs recorded before four eyes moved into the workflow replay without it.
  let p: Payout = { ...(input.resume?.payout ?? startPayout(input)), fourEyes: patched(FOUR_EYES_PATCH), confirmsAtBooking: patched(CONFIRM_AT_BOOKING_PATCH) };
  /** Bank messages, file answers and approvals: applied while the payout waits, in arrival order. */
  const inbox: PayoutEvent[] = [];
  /** Operator commands: applied between steps, in arrival order. */
  const commands: CommandEnvelope[] = [];
  const kinds = new Map<string, OperatorActionKind>();
  const answers = new Map<string, OperatorResult>();
  let holdOutcome: HoldOutcome | undefined = p.hold === 'pending' || p.hold === 'posted' || p.hold === 'voided' ? { held: true, status: 'funds_held' } : undefined;
  let upserted: TransferStatus = input.resume ? p.status : 'created';
  let upsertedRail = input.rail;
  let timer: { atMs: number; fired: boolean } | undefined;

  setHandler(statusQuery, () => view(p));
  setHandler(bankMessageSignal, (m) => {
    if (!isBankMessage(m)) {
      log.error('bankMessage ignored: not a bank message', { transferId: p.transferId });
      return;
    }
    inbox.push({ type: 'bank', message: m });
  });
  setHandler(achFileAnswerSignal, (a) => void inbox.push({ type: 'ach_answer', answer: a }));
  setHandler(approvalDecisionSignal, (d) => void inbox.push({ type: 'approval', decision: d }));
  setHandler(fundsHeldUpdate, () =>
    CancellationScope.nonCancellable(async () => {
      if (!(await condition(() => holdOutcome !== undefined, FUNDS_HELD_WAIT))) {
        throw ApplicationFailure.nonRetryable(`the hold for ${p.transferId} is not placed yet (the transfer is ${p.status}); ask again later`, 'hold_pending');
      }
      return holdOutcome!;
    }),
  );

  const updates = { retry: retryUpdate, cancel: cancelUpdate, returnDecision: returnDecisionUpdate };
  const signals = { retry: retrySignal, cancel: cancelSignal, returnDecision: returnDecisionSignal };
  for (const kind of ['retry', 'cancel', 'returnDecision'] as const) {
    setHandler(
      updates[kind] as typeof retryUpdate,
      (command) =>
        CancellationScope.nonCancellable(async () => {
          const id = currentUpdateInfo()!.id;
          kinds.set(id, kind);
          commands.push({ id, kind, command, via: 'update' });
          if (!(await condition(() => answers.has(id), OPERATOR_RESULT_WAIT))) {
            return { action: kind, accepted: true, status: p.status, message: `accepted; still being applied, the transfer is ${p.status}` };
          }
          return answers.get(id)!;
        }),
      {
        validator: (command) => {
          const problem = refusal(p, kind, command, Date.now());
          if (!problem) return;
          sinks.audit.refused(record({ id: currentUpdateInfo()!.id, kind, command, via: 'update' }, 'refused', problem));
          throw ApplicationFailure.create({ type: 'invalid_state', message: problem, nonRetryable: true });
        },
      },
    );
    // A signal has no ID of its own; the workflow's deterministic UUID names it in the audit log.
    setHandler(signals[kind] as typeof retrySignal, (command) => {
      const id = `signal-${uuid4()}`;
      kinds.set(id, kind);
      commands.push({ id, kind, command, via: 'signal' });
    });
  }
  // Temporal's cancellation request is a cancel: the loop below never lets it cancel a step.
  CancellationScope.current().cancelRequested.catch((err) => {
    if (!isCancellation(err)) throw err;
    const id = `cancellation-${uuid4()}`;
    kinds.set(id, 'cancel');
    commands.push({ id, kind: 'cancel', command: { operator: 'temporal', reason: 'cancellation requested through Temporal' }, via: 'cancellation' });
  });

  function record(c: Pick<CommandEnvelope, 'id' | 'kind' | 'command' | 'via'>, outcome: 'accepted' | 'refused', detail: string): OperatorActionRecord {
    return {
      id: c.id,
      transferId: p.transferId,
      action: c.kind,
      operator: String(c.command?.operator ?? ''),
      reason: String(c.command?.reason ?? ''),
      channel: c.command?.channel === 'api' ? 'api' : 'temporal',
      via: c.via === 'update' ? 'update' : 'signal',
      outcome,
      // Four eyes: a command that carries out an approval names it (it only ever comes from the API).
      detail: auditDetail(c.kind, c.command, c.command?.approvalId ? `${detail} (carries out approval ${String(c.command.approvalId).slice(0, 40)})` : detail),
      statusBefore: p.status,
      at: new Date().toISOString(),
      ...(c.command?.approvalId ? { approvalId: String(c.command.approvalId).slice(0, 40) } : {}),
    };
  }

  function commit(out: Outcome): void {
    p = out.payout;
    for (const a of out.answers) answers.set(a.id, { action: kinds.get(a.id) ?? 'cancel', accepted: a.accepted, status: p.status, message: a.message });
    describe();
  }

  function describe(): void {
    const s = view(p);
    const lines = [`**${s.status}**${s.reason ? ` — ${s.reason}` : ''}`, `rail ${p.rail}${s.railReference ? `, reference ${s.railReference}` : ''}; phase ${s.phase}`];
    const w = s.waitingFor;
    if (w?.accept && w.dishonor) lines.push(`waiting for an operator's returnDecision: accept ${w.accept}; dishonor ${w.dishonor}; retry and cancel are refused`);
    else if (w) lines.push(`waiting for an operator: retry ${w.retry}; cancel ${w.cancel}`);
    if (s.failureCode) lines.push(`failure code ${s.failureCode}`);
    setCurrentDetails(lines.join('\n\n'));
  }

  /** Once per workflow task, and only when it changed: the search attributes someone looks for. */
  function upsertStatus(): void {
    const changes = [];
    if (p.status !== upserted && UPSERTED.includes(p.status)) changes.push({ key: SEARCH_ATTRIBUTES.status, value: p.status });
    if (p.rail !== upsertedRail) changes.push({ key: SEARCH_ATTRIBUTES.rail, value: p.rail });
    if (changes.length === 0) return;
    upsertSearchAttributes(changes);
    if (UPSERTED.includes(p.status)) upserted = p.status;
    upsertedRail = p.rail;
  }

  /** Every applied command waiting for its outcome is answered with where the payout now stands. */
  function answerAwaiting(): void {
    for (const id of p.awaiting) answers.set(id, { action: kinds.get(id) ?? 'cancel', accepted: true, status: p.status, message: p.reason ? `${p.status}: ${p.reason}` : p.status });
    if (p.awaiting.length > 0) p = { ...p, awaiting: [] };
  }

  /** Asks the approvals table; a database that does not answer within AUDIT_RECORD's budget is a refusal too. */
  async function approvalProblem(check: ApprovalCheck): Promise<string | null> {
    try {
      return await auditLog.approvalProblem(check);
    } catch (err) {
      const failure = stepFailure(err);
      if (!failure) throw err;
      return `the approval could not be checked: ${failure.message}`;
    }
  }

  async function applyCommand(c: CommandEnvelope): Promise<void> {
    const needed = approvalNeeded(p, c.kind, c.command);
    if (needed && c.command.approvalId && refusal(p, c.kind, c.command, Date.now()) === undefined) {
      const problem = await approvalProblem({ approvalId: String(c.command.approvalId), transferId: p.transferId, kind: needed, status: 'approved' });
      if (problem) return refuse(c, `four eyes: ${problem}`);
    }
    const out = apply(p, { type: 'command', command: c }, Date.now());
    if (out.audit) {
      try {
        await auditLog.recordOperatorAction(record(c, out.audit.outcome, out.audit.detail));
      } catch (err) {
        const failure = stepFailure(err);
        if (!failure) throw err;
        // Nothing is done that the audit log cannot show.
        answers.set(c.id, { action: c.kind, accepted: false, status: p.status, message: `the audit log could not record this ${c.kind}, so nothing was done: ${failure.message}` });
        return;
      }
    }
    commit(out);
  }

  /** A command refused by the workflow itself (not the machine): audited, answered, nothing done. */
  async function refuse(c: CommandEnvelope, problem: string): Promise<void> {
    answers.set(c.id, { action: c.kind, accepted: false, status: p.status, message: `refused: ${problem}` });
    try {
      await auditLog.recordOperatorAction(record(c, 'refused', problem));
    } catch (err) {
      if (!stepFailure(err)) throw err;
    }
  }

  async function step(w: Work): Promise<void> {
    commit(apply(p, { type: 'step_started', step: w.step }, Date.now()));
    if (REMOTE_STEPS.includes(w.step)) upsertStatus();
    let event: PayoutEvent;
    try {
      event = { type: 'step_done', step: w.step, result: await runStep(w) };
    } catch (err) {
      const failure = stepFailure(err);
      if (!failure) throw err;
      event = { type: 'step_failed', step: w.step, ...failure };
    }
    if (w.step === 'holdFunds' && event.type === 'step_done') holdOutcome = event.result as HoldOutcome;
    commit(apply(p, event, Date.now()));
  }

  function armTimer(dueMs: number): void {
    const t = { atMs: dueMs, fired: false };
    timer = t;
    void sleep(Math.max(1, dueMs - Date.now())).then(() => {
      t.fired = true;
    });
  }

  describe();
  await CancellationScope.nonCancellable(async () => {
    for (;;) {
      const c = commands.shift();
      if (c) {
        await applyCommand(c);
        continue;
      }
      const w = work(p);
      if (w) {
        await step(w);
        continue;
      }
      if (p.phase.kind === 'done') break;
      const event = inbox.shift();
      if (event) {
        if (event.type === 'approval' && p.fourEyes && p.phase.kind === 'approval' && p.approvalId === null) {
          const d = event.decision;
          const problem = await approvalProblem({ approvalId: String(d?.approvalId ?? ''), transferId: p.transferId, kind: 'payout', status: d?.decision === 'approve' ? 'approved' : 'denied' });
          if (problem) {
            // The payout goes on waiting for a decision the approvals table stands behind.
            log.warn('approval decision ignored', { transferId: p.transferId, problem });
            continue;
          }
        }
        commit(apply(p, event, Date.now()));
        continue;
      }
      // The payout waits: answer what was asked, show the status, and sleep until something happens.
      answerAwaiting();
      upsertStatus();
      const info = workflowInfo();
      if ((info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_MAX) && allHandlersFinished()) {
        await continueAsNew<typeof transferWorkflow>({ ...input, rail: p.rail, resume: { payout: p } });
      }
      const dueMs = deadlineOf(p);
      if (dueMs !== undefined && (!timer || timer.fired || timer.atMs > dueMs + DEADLINE_SLACK_MS)) armTimer(dueMs);
      const waiting = timer;
      await condition(() => commands.length > 0 || inbox.length > 0 || waiting?.fired === true);
      if (waiting?.fired && timer === waiting) {
        timer = undefined;
        if (dueMs !== undefined && Date.now() >= dueMs) commit(apply(p, { type: 'deadline' }, Date.now()));
      }
    }

    holdOutcome ??= { held: false, status: p.status, failureCode: p.failureCode ?? undefined };
    answerAwaiting();
    // Commands that arrived as the payout ended are answered with its end.
    for (const c of commands.splice(0)) answers.set(c.id, { action: c.kind, accepted: false, status: p.status, message: `refused: the transfer ended ${p.status}` });
    upsertStatus();
    // Updates still answering are finished before the workflow closes.
    await condition(allHandlersFinished);
  });
  // A cancellation request was a command like any other: the workflow completes with the transfer's end.
  return view(p);
}

const BANK_MESSAGE_KINDS: readonly BankMessageKind[] = ['accepted', 'rejected', 'settled', 'statement_matched', 'statement_break', 'returned', 'correction', 'recall_confirmed', 'recall_refused'];

function isBankMessage(m: unknown): m is BankMessage {
  const x = m as Partial<BankMessage> | null;
  return !!x && typeof x.messageId === 'string' && typeof x.railReference === 'string' && BANK_MESSAGE_KINDS.includes(x.kind as BankMessageKind);
}

/** What the `status` query shows. */
export function view(p: Payout): TransferState {
  const ph = p.phase;
  let waitingFor: TransferState['waitingFor'] = null;
  if (ph.kind === 'parked') {
    const c = ph.parked.cancel;
    waitingFor = {
      step: ph.parked.step,
      retry: `runs ${ph.parked.step} again`,
      cancel: c === 'compensate' ? 'undoes what was done and ends the transfer canceled' : c === 'inquire' ? 'asks the bank first; undoes what was done only if the bank has no record of the payment' : `refused: ${c.refused}`,
    };
  } else if (ph.kind === 'return_question') {
    waitingFor = {
      step: 'return decision',
      retry: `refused: there is no step to run again; the return ${ph.code} needs a returnDecision`,
      cancel: 'refused: the payment was paid out; the return needs a returnDecision',
      accept: `takes the return ${ph.code}: credits the client back with new postings and ends the transfer returned`,
      dishonor: `refuses the return ${ph.code}: the payout stays completed, the client is not credited, and the dishonor is recorded (an untimely return is answered to the RDFI with R68)`,
    };
  }
  const a = liveAttempt(p) ?? p.attempts.at(-1);
  return { transferId: p.transferId, status: p.status, reason: p.reason, railReference: a?.railReference ?? null, failureCode: p.failureCode, waitingFor, phase: ph.kind };
}
