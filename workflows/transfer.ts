/**
 * Payout workflow: one per transfer, ID `transfer-<transferId>`.
 *
 * Steps (activity → status), each compensation registered before its risky step:
 *   1. holdFunds         created → funds_held            insufficient funds → failed
 *                        registers: voidHold
 *   1b. convertFunds     funds_held → fx_locked          cross-currency only, at the quoted rate
 *                        registers: unwindFx
 *   2. submitPayout      → submitted                     bank rejection → compensations → failed
 *      On ACH the entry is queued into the open cut-off window instead (the status stays
 *      funds_held/fx_locked, an event names the window) and the workflow waits, without polling,
 *      for the window's batch workflow (ach-batch.ts) to signal the file's answer:
 *        accepted → submitted; the entry rejected (R03, …) → compensations → failed;
 *        the file refused whole, or unconfirmed past the batch's retry budget → needs_attention
 *        naming the window and file; retry re-queues the entry into a later window under the SAME
 *        trace number, asking the bank by trace number first when the file's fate is unknown.
 *      While the window is open a cancel withdraws the entry (in the transaction that guards the
 *      window's closing) and compensates; once it closed, cancel is refused as after submission.
 *      If no answer comes within the batch's budget the workflow reads the entry row itself.
 *                        From here the bank may have the payment: nothing is compensated unless the
 *                        bank says it did not pay (a rejection, or a recall it confirmed).
 *   2b. recallPayout     a cancel while submitted, on a rail that can recall (RAIL_CAN_RECALL: sepa):
 *                        the bank's CNCL → compensations → canceled; its RJCR → the cancel is
 *                        answered refused with the bank's reason and the payout carries on; no
 *                        answer → needs_attention naming the unanswered recall (retry resends it
 *                        under the same cancellation ID). Never compensated without the CNCL.
 *   3. checkPayout loop  every timing.pollIntervalMs up to timing.settlementTimeoutMs
 *                        rejected/returned before settlement → compensations → failed
 *      A submission whose answer never came is `unknown`: the loop inquires under the same
 *      reference, backing off from pollIntervalMs to 16 × pollIntervalMs; found → submitted; not
 *      found three times → resent under the same reference (the bank dedupes), at most twice, then
 *      needs_attention, where an operator's retry starts another round of inquiries and resends
 *      under the same reference. Never a new reference.
 *   4. settlePayout      submitted → settled             the hold is posted
 *   4b. reconcileAttempt loop  every timing.reconcilePollIntervalMs, at most timing.reconcileWindowMs:
 *                        settled becomes completed only once the bank's statement shows the payment
 *                        with our amount; a break (amount differs, never on the statement) →
 *                        needs_attention naming the break; an operator's retry looks again
 *   5. completeTransfer  settled → completed
 *   6. watchForReturns   through the return window (timing.returnWindowMs), see return-watch.ts: a
 *                        timely return moves the transfer to returned and credits the client back
 *                        with new postings; a late one waits in needs_attention, as long as it
 *                        takes, for an operator's returnDecision (accept: returned; dishonor: stays
 *                        completed), while retry and cancel are refused
 *
 * Compensations run last-registered first (unwind the conversion, then void the hold), then
 * endTransfer ends the transfer failed or canceled, all in a non-cancellable scope. A compensation
 * that cannot complete within its retries moves the transfer to needs_attention, naming it; an
 * operator's retry runs the remaining compensations again (each is idempotent).
 *
 * When a step's retries run out (the bank stays down, say) the transfer moves to needs_attention
 * and waits for an operator, for as long as it takes: bounded waits in a loop, each ending with a
 * look at the history size (continue-as-new is suggested long before a parked transfer could need
 * it; see OPERATOR_WAIT_SLICE).
 *
 * Operators act through the Updates `retry`, `cancel` and `returnDecision` (validated against the
 * current state, answered with the result) or signals of the same names. Every action, accepted or
 * refused, is written once to the audit log (core/operator.ts).
 *
 * Determinism: the histories under test/histories/ are replayed against this code by
 * test/workflows/replay.test.ts. From now on a change to the commands this workflow issues goes
 * behind `patched('<change-name>')`, and `npm run histories:record` adds histories of the new path.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  currentUpdateInfo,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  patched,
  proxyActivities,
  proxySinks,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
  allHandlersFinished,
  type Sinks,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities';
import { auditDetail, commandProblem, decisionProblem, RAIL_CAN_RECALL, type OperatorActionKind, type OperatorActionRecord, type OperatorCommand, type OperatorResult, type ReturnDecisionCommand } from '../core/operator';
import { FALLBACK_RAIL, SEARCH_ATTRIBUTES, TERMINAL_STATUSES, type HoldOutcome, type TransferStatus, type TransferWorkflowInput } from '../core/transfer';
import { ACH_ENTRY_STEP, ACH_FILE_ANSWER_GRACE_MS, AUDIT_RECORD, BANK_INQUIRY, BANK_RECALL, BANK_SUBMIT, LEDGER_COMPENSATION, LEDGER_STEP, STATEMENT_READ } from './activity-options';
import { achFileAnswerSignal, type AchFileAnswer } from './ach-batch';
import { returnDecisionSignal, returnDecisionUpdate, watchForReturns, type ReturnInQuestion } from './return-watch';
import { APPROVAL_DECISION_SIGNAL, APPROVAL_DECISIONS, type ApprovalDecision } from '../core/approval';

const ledger = proxyActivities<Activities>(LEDGER_STEP);
const compensation = proxyActivities<Activities>(LEDGER_COMPENSATION);
const bankSubmit = proxyActivities<Activities>(BANK_SUBMIT);
const bankInquiry = proxyActivities<Activities>(BANK_INQUIRY);
const statements = proxyActivities<Activities>(STATEMENT_READ);
const audit = proxyActivities<Activities>(AUDIT_RECORD);
const achEntries = proxyActivities<Activities>(ACH_ENTRY_STEP);
const bankRecall = proxyActivities<Activities>(BANK_RECALL);

type Submission = Awaited<ReturnType<Activities['submitPayout']>>;
type QueuedSubmission = Extract<Submission, { outcome: 'queued' }>;

/**
 * An Update refused by its validator leaves no trace in the workflow's history, so the workflow
 * cannot record it with an activity; the worker writes it from this sink instead, under the
 * update's ID (workers/audit-sink.ts). Validators never run on replay, so it is written once.
 */
export interface AuditSinks extends Sinks {
  audit: { refused(record: OperatorActionRecord): void };
}
const sinks = proxySinks<AuditSinks>();

export type { OperatorCommand, OperatorResult };

export interface TransferState {
  transferId: string;
  status: TransferStatus;
  reason: string | null;
  railReference: string | null;
  failureCode: string | null;
  /**
   * While in needs_attention: the step that stopped, and what retry and cancel would do; on a late
   * return (step `return decision`), what each returnDecision would do too.
   */
  waitingFor: { step: string; retry: string; cancel: string; accept?: string; dishonor?: string } | null;
}

export const statusQuery = defineQuery<TransferState>('status');
export const fundsHeldUpdate = defineUpdate<HoldOutcome>('fundsHeld');
export const retryUpdate = defineUpdate<OperatorResult, [OperatorCommand]>('retry');
export const cancelUpdate = defineUpdate<OperatorResult, [OperatorCommand]>('cancel');
export const retrySignal = defineSignal<[OperatorCommand]>('retry');
export const cancelSignal = defineSignal<[OperatorCommand]>('cancel');

/** After a submission without an answer: inquiries that find nothing before resending under the same reference, and how often. */
const NOT_FOUND_BEFORE_RESEND = 3;
const MAX_RESENDS = 2;
/** While the outcome is unknown, inquiries back off from the poll interval up to this multiple of it. */
const INQUIRY_BACKOFF_MAX = 16;

/**
 * A parked transfer waits for an operator in slices of this length. Each slice adds five events to
 * the history (timer started and fired, a workflow task), so a transfer parked for ten years adds
 * under 3,000; the workflow still continues as new where the server suggests it (see park()).
 */
const OPERATOR_WAIT_SLICE = '7 days';
/** How long the API's start (the fundsHeld update) waits for the hold: one transaction, unless the ledger is in trouble. */
const FUNDS_HELD_WAIT = '30 seconds';
/** How long an Update waits for its action to take effect before answering with where things stand. */
const OPERATOR_RESULT_WAIT = '15 minutes';
/** How long the flow waits for an operator action being written to the audit log (AUDIT_RECORD's own bound). */
const AUDIT_WAIT = '3 minutes';
/**
 * Before this patch a late return waited for an unaudited returnDecision signal, at most 90 days;
 * a history recorded then replays on that branch (see decideReturn and the signal handler).
 */
const RETURN_DECISION_PATCH = 'return-decision-audited';
/** The old single wait for a return decision, kept for histories that started it. */
const LEGACY_RETURN_DECISION_WAIT = '90 days';
/** Four eyes on a payout at or above its client's threshold (the payout-approval block in flow()). */
const PAYOUT_APPROVAL_PATCH = 'payout-approval';

/**
 * An activity failure short enough for a status reason: the cause's message, its middle cut when
 * long (a failed SQL statement is quoted first and the database's error comes last).
 */
function failureText(err: ActivityFailure): string {
  const text = err.cause?.message ?? err.message;
  return text.length > 200 ? `${text.slice(0, 60)} … ${text.slice(-130)}` : text;
}

class OperatorCancel extends Error {
  constructor(readonly command: OperatorCommand) {
    super(`canceled by ${command.operator}: ${command.reason}`);
  }
}

interface Parked {
  step: string;
  /** Status a retry resumes from (the database row too); null when the step resumes without one. */
  resumeStatus: TransferStatus | null;
  retryMeans: string;
  /** Why cancel is refused here, or undefined when it is allowed. */
  cancelRefusal: string | undefined;
}

interface Accepted {
  id: string;
  kind: OperatorActionKind;
  command: OperatorCommand;
}

export async function transferWorkflow(input: TransferWorkflowInput): Promise<TransferState> {
  const transferId = input.transferId;
  const state: TransferState = { transferId, status: 'created', reason: null, railReference: null, failureCode: null, waitingFor: null };
  let holdOutcome: HoldOutcome | undefined;
  let rail = input.rail;
  /** Compensations, each registered before the step it undoes; run last-first. */
  const compensations: { name: string; run: () => Promise<void> }[] = [];
  let parked: Parked | undefined;
  /** A late or unusual return waiting for an operator's returnDecision. */
  let returnInQuestion: ReturnInQuestion | undefined;
  /** Set just before the first submission: from then on the bank may have the payment. */
  let submitStarted = false;
  /**
   * True only while the inquiry loop waits on a payment the bank confirmed and has not settled:
   * the one place a cancel can become a recall. A recall under way clears it (one at a time).
   */
  let recallOpen = false;
  /** A recall sent and not yet answered (or parked unanswered): a second cancel is refused. */
  let recallInFlight = false;
  /** An operator action being written to the audit log: it blocks others until it is accepted. */
  let claim: OperatorActionKind | undefined;
  /** An accepted operator action the flow has not applied yet. */
  let pending: Accepted | undefined;
  /** Applied actions waiting for their answer, and the answers. */
  let awaiting: Accepted[] = [];
  const answers = new Map<string, OperatorResult>();
  /** While the ACH entry waits in a window: where, until its file's answer arrives. */
  let queuedIn: QueuedSubmission | undefined;
  /** The ACH file answers signalled by the batch workflows, by window. */
  const fileAnswers = new Map<string, AchFileAnswer>();

  setHandler(statusQuery, () => state);
  // Kept by window even if it came before the submission's result: the entry's window names it.
  setHandler(achFileAnswerSignal, (a) => void fileAnswers.set(a.windowId, a));
  setHandler(fundsHeldUpdate, async () => {
    if (!(await condition(() => holdOutcome !== undefined, FUNDS_HELD_WAIT))) {
      throw ApplicationFailure.nonRetryable(`the hold for ${transferId} is not placed yet (the transfer is ${state.status}); ask again later`, 'hold_pending');
    }
    return holdOutcome!;
  });

  function describe(): void {
    const lines = [`**${state.status}**${state.reason ? ` — ${state.reason}` : ''}`, `rail ${rail}${state.railReference ? `, reference ${state.railReference}` : ''}`];
    const w = state.waitingFor;
    if (w?.accept && w.dishonor) lines.push(`waiting for an operator's returnDecision: accept ${w.accept}; dishonor ${w.dishonor}; retry and cancel are refused`);
    else if (w) lines.push(`waiting for an operator: retry ${w.retry}; cancel ${w.cancel}`);
    if (state.failureCode) lines.push(`failure code ${state.failureCode}`);
    setCurrentDetails(lines.join('\n\n'));
  }

  /** Answers every applied action's Update with where the transfer now stands. */
  function answer(message: string): void {
    for (const action of awaiting) answers.set(action.id, { action: action.kind, accepted: true, status: state.status, message });
    awaiting = [];
  }

  /**
   * Every status change goes to the search attributes and the UI's current details, and answers the
   * operator actions that led to it (unless `quiet`: a retry's resumption is not yet its result).
   */
  function setStatus(status: TransferStatus, reason: string | null, quiet = false): void {
    state.status = status;
    state.reason = reason;
    upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.status, value: status }]);
    describe();
    if (!quiet) answer(reason ? `${status}: ${reason}` : status);
  }

  /** Why `kind` is refused in the current state, or undefined when it is allowed. Synchronous: the Update validators use it. */
  function refusal(kind: OperatorActionKind, command: unknown): string | undefined {
    const problem = kind === 'returnDecision' ? decisionProblem(command) : commandProblem(command);
    if (problem) return problem;
    if (claim || pending) return `another operator action (${claim ?? pending!.kind}) is being applied to ${transferId}; try again once it is done`;
    if (returnInQuestion) {
      if (kind === 'returnDecision') return undefined;
      return `transfer ${transferId} was paid out and the bank returned it (${returnInQuestion.code}) outside what is taken silently: it waits for a returnDecision (accept or dishonor), not a ${kind}`;
    }
    if (kind === 'returnDecision') return `transfer ${transferId} is ${state.status} and waits on no return decision; returnDecision answers a late or unusual return the transfer is waiting on`;
    if (TERMINAL_STATUSES.includes(state.status)) return `transfer ${transferId} is ${state.status}; there is nothing to ${kind}`;
    if (kind === 'retry') {
      if (parked || state.status === 'unknown') return undefined;
      return `retry applies to a transfer in needs_attention or unknown; ${transferId} is ${state.status} and progressing on its own`;
    }
    if (parked) return parked.cancelRefusal;
    if (!submitStarted) return undefined;
    if (queuedIn && !fileAnswers.has(queuedIn.windowId)) {
      // The workflow's clock decides synchronously; the withdrawal's transaction has the last word.
      if (Date.now() < queuedIn.cutoffAtMs) return undefined;
      return `the ${queuedIn.label} window (${queuedIn.windowId}) has closed and its file carries the payment under trace ${queuedIn.railReference}; ${rail} cannot recall it, so ${transferId} can no longer be canceled`;
    }
    const sent = `the payment was sent to the bank over ${rail}${state.railReference ? ` under ${state.railReference}` : ''}`;
    if (!RAIL_CAN_RECALL[rail]) return `${sent} and ${rail} cannot recall it, so ${transferId} can no longer be canceled`;
    if (recallInFlight) return `${sent}; a recall of it is already waiting for the bank's answer`;
    if (recallOpen) return undefined;
    return `${sent}; a recall can only be asked while the bank holds the payment as submitted and unsettled, and ${transferId} is ${state.status}`;
  }

  function record(id: string, kind: OperatorActionKind, command: OperatorCommand, via: 'update' | 'signal', outcome: 'accepted' | 'refused', detail: string): OperatorActionRecord {
    return {
      id,
      transferId,
      action: kind,
      operator: String(command?.operator ?? ''),
      reason: String(command?.reason ?? ''),
      channel: command?.channel === 'api' ? 'api' : 'temporal',
      via,
      outcome,
      // Four eyes: a command that carries out an approval names it (it only ever comes from the API).
      detail: auditDetail(kind, command, command?.approvalId ? `${detail} (carries out approval ${String(command.approvalId).slice(0, 40)})` : detail),
      statusBefore: state.status,
      at: new Date().toISOString(),
      ...(command?.approvalId ? { approvalId: String(command.approvalId).slice(0, 40) } : {}),
    };
  }

  /** Writes an accepted action to the audit log, then hands it to the flow. Nothing happens if the log cannot be written. */
  async function accept(id: string, kind: OperatorActionKind, command: OperatorCommand, via: 'update' | 'signal'): Promise<void> {
    claim = kind;
    try {
      await audit.recordOperatorAction(record(id, kind, command, via, 'accepted', `accepted while ${state.status}`));
    } catch (err) {
      if (err instanceof ActivityFailure) {
        throw ApplicationFailure.nonRetryable(`the audit log could not record this ${kind}, so nothing was done: ${failureText(err)}`, 'audit_unavailable');
      }
      throw err;
    } finally {
      claim = undefined;
    }
    pending = { id, kind, command };
  }

  const updates = { retry: retryUpdate, cancel: cancelUpdate, returnDecision: returnDecisionUpdate };
  const signals = { retry: retrySignal, cancel: cancelSignal, returnDecision: returnDecisionSignal };
  for (const kind of ['retry', 'cancel', 'returnDecision'] as const) {
    setHandler(
      updates[kind] as typeof retryUpdate,
      async (command) => {
        const id = currentUpdateInfo()!.id;
        await accept(id, kind, command, 'update');
        if (!(await condition(() => answers.has(id), OPERATOR_RESULT_WAIT))) {
          return { action: kind, accepted: true, status: state.status, message: `accepted; still being applied, the transfer is ${state.status}` };
        }
        return answers.get(id)!;
      },
      {
        validator: (command) => {
          const problem = refusal(kind, command);
          if (!problem) return;
          sinks.audit.refused(record(currentUpdateInfo()!.id, kind, command, 'update', 'refused', problem));
          throw ApplicationFailure.create({ type: 'invalid_state', message: problem, nonRetryable: true });
        },
      },
    );
    setHandler(signals[kind] as typeof retrySignal, async (command) => {
      if (kind === 'returnDecision' && !patched(RETURN_DECISION_PATCH)) {
        // Replaying a history from before the patch: the signal was taken as it came, unaudited.
        if (returnInQuestion && !decisionProblem(command)) pending = { id: 'legacy-signal', kind, command };
        return;
      }
      // A signal has no ID of its own; the workflow's deterministic UUID names it in the audit log.
      const id = `signal-${uuid4()}`;
      const problem = refusal(kind, command);
      try {
        if (problem) await audit.recordOperatorAction(record(id, kind, command, 'signal', 'refused', problem));
        else await accept(id, kind, command, 'signal');
      } catch (err) {
        // Nobody waits on a signal's answer: the refusal or the failed audit write goes to the worker's log.
        log.error('operator signal not applied', { transferId, kind, error: (err as Error).message });
      }
    });
  }

  /** Applies an accepted cancel that arrived while the flow was running (before submission). */
  function cancelIfAsked(): void {
    if (pending?.kind !== 'cancel') return;
    const action = pending;
    pending = undefined;
    awaiting.push(action);
    throw new OperatorCancel(action.command);
  }

  /**
   * Parks the transfer in needs_attention until an operator acts: returns 'retry', or throws
   * OperatorCancel (cancel is only accepted where `cancelRefusal` is undefined).
   */
  async function park(p: Parked, reason: string): Promise<'retry'> {
    let recorded = reason;
    try {
      await ledger.markNeedsAttention.executeWithOptions({ ...LEDGER_STEP, summary: `needs attention: ${p.step}` }, [{ transferId, reason }]);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      // The database did not take the status change: the workflow still stops and says so.
      recorded = `${reason} (the database row was not updated: ${failureText(err)})`;
    }
    parked = p;
    state.waitingFor = { step: p.step, retry: p.retryMeans, cancel: p.cancelRefusal ? `refused: ${p.cancelRefusal}` : 'undoes what was done and ends the transfer canceled' };
    setStatus('needs_attention', recorded);
    for (;;) {
      while (!(await condition(() => pending !== undefined, OPERATOR_WAIT_SLICE))) {
        if (workflowInfo().continueAsNewSuggested) {
          // Parking adds five events a week, so this takes decades; it would mean operator traffic
          // far beyond normal. The saga's position is not carried across a continue-as-new, so the
          // workflow keeps waiting and says so in the worker's log.
          log.warn('parked transfer with a large history', { transferId, historyLength: workflowInfo().historyLength });
        }
      }
      // A cancel accepted for a recall just before the transfer parked here is not one this step
      // allows: it must never compensate a payment the bank may pay. It is answered refused.
      if (pending!.kind !== 'cancel' || !p.cancelRefusal) break;
      answers.set(pending!.id, { action: 'cancel', accepted: false, status: state.status, message: `refused: ${p.cancelRefusal}` });
      pending = undefined;
    }
    const action = pending!;
    pending = undefined;
    parked = undefined;
    state.waitingFor = null;
    awaiting.push(action);
    if (action.kind === 'cancel') throw new OperatorCancel(action.command);
    if (p.resumeStatus) {
      try {
        await ledger.resumeStatus({ transferId, status: p.resumeStatus, reason: `retry by ${action.command.operator}: ${action.command.reason}` });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        return park(p, `resuming ${p.step} after the retry failed: ${failureText(err)}`);
      }
      setStatus(p.resumeStatus, `retry by ${action.command.operator}: ${action.command.reason}`, true);
    } else {
      describe();
    }
    return 'retry';
  }

  /**
   * A retry accepted while the outcome was unknown, when the bank has since confirmed the payment:
   * there is nothing left to inquire about, and its Update is answered so.
   */
  function answerStaleRetry(): void {
    if (pending?.kind !== 'retry' || state.status === 'unknown' || parked) return;
    awaiting.push(pending);
    pending = undefined;
    answer(`nothing to retry: the bank already confirmed the payment, the transfer is ${state.status}`);
  }

  /**
   * A cancel accepted for a recall just as the bank reported the payment settled: too late to
   * recall, and its Update is answered so (the audit row says it was accepted for a recall).
   */
  async function refuseStaleCancel(): Promise<void> {
    // Only a cancel accepted for a recall can be on its way here: wait for its audit row first.
    if (claim === 'cancel') await condition(() => claim === undefined, AUDIT_WAIT);
    if (pending?.kind !== 'cancel') return;
    answers.set(pending.id, { action: 'cancel', accepted: false, status: state.status, message: `too late to recall: the bank reported ${state.railReference ?? 'the payment'} settled` });
    pending = undefined;
  }

  /**
   * Puts a late or unusual return before an operator: needs_attention, saying what accept and
   * dishonor would do, until a returnDecision is accepted (and so in the audit log). The wait is
   * timers in slices, as park()'s: it costs nothing and has no deadline, since the money question
   * stays open until someone answers it.
   */
  async function decideReturn(question: ReturnInQuestion): Promise<ReturnDecisionCommand> {
    // A history from before the patch waits once for 90 days; after that it, too, waits in slices.
    const audited = patched(RETURN_DECISION_PATCH);
    returnInQuestion = question;
    state.waitingFor = {
      step: 'return decision',
      retry: `refused: there is no step to run again; the return ${question.code} needs a returnDecision`,
      cancel: 'refused: the payment was paid out; the return needs a returnDecision',
      accept: `takes the return ${question.code}: credits the client back with new postings and ends the transfer returned`,
      dishonor: `refuses the return ${question.code}: the payout stays completed, the client is not credited, and the dishonor is recorded (an untimely return is answered to the RDFI with R68)`,
    };
    setStatus('needs_attention', question.reason);
    let slice: Duration = audited ? OPERATOR_WAIT_SLICE : LEGACY_RETURN_DECISION_WAIT;
    while (!(await condition(() => pending?.kind === 'returnDecision', slice))) {
      slice = OPERATOR_WAIT_SLICE;
      if (workflowInfo().continueAsNewSuggested) log.warn('late return waiting with a large history', { transferId, historyLength: workflowInfo().historyLength });
    }
    const action = pending!;
    pending = undefined;
    returnInQuestion = undefined;
    state.waitingFor = null;
    awaiting.push(action);
    return action.command as ReturnDecisionCommand;
  }

  /** Runs a step; when its retries are exhausted, parks the transfer until an operator retries or cancels. */
  async function step<T>(name: string, resumeStatus: TransferStatus, cancelRefusal: (err: ActivityFailure) => string | undefined, run: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await run();
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        await park({ step: name, resumeStatus, retryMeans: `runs ${name} again`, cancelRefusal: cancelRefusal(err) }, `${name} failed after its retries: ${failureText(err)}`);
      }
    }
  }

  /**
   * Asks the bank to recall the submitted payment for an accepted cancel. 'canceled' only on the
   * bank's CNCL; on its RJCR the cancel's Update is answered refused (accepted: false) with the
   * bank's reason and the payout carries on. A bank that does not answer within BANK_RECALL parks
   * the transfer naming the unanswered recall: the bank may cancel it or pay it, so nothing is
   * compensated; an operator's retry resends the same cancellation ID (the bank dedupes it).
   */
  async function recallPayment(action: Accepted, attemptId: string, railReference: string): Promise<'canceled' | 'refused'> {
    // One recall at a time: further cancels are refused until this one is answered.
    recallOpen = false;
    recallInFlight = true;
    try {
      return await askForRecall(action, attemptId, railReference);
    } finally {
      recallInFlight = false;
    }
  }

  async function askForRecall(action: Accepted, attemptId: string, railReference: string): Promise<'canceled' | 'refused'> {
    for (;;) {
      try {
        const r = await bankRecall.recallPayout.executeWithOptions({ ...BANK_RECALL, summary: `recall ${railReference} (camt.056)` }, [{ transferId, attemptId, reason: action.command.reason }]);
        if (r.outcome === 'canceled') return 'canceled';
        const message = `${r.message}; ${railReference} stays with the bank and the payout carries on`;
        answers.set(action.id, { action: 'cancel', accepted: false, status: state.status, message });
        // A retry that resent an unanswered recall is answered with the same outcome.
        answer(message);
        log.info('recall refused by the bank', { transferId, railReference, code: r.code });
        return 'refused';
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        awaiting.push(action);
        await park(
          {
            step: 'recall',
            resumeStatus: 'submitted',
            retryMeans: `sends the recall of ${railReference} again under the same cancellation ID`,
            cancelRefusal: `the recall of ${railReference} is unanswered; retry sends it again`,
          },
          `the bank did not answer the recall of ${railReference} (${failureText(err)}); it may still cancel or pay it, so nothing was compensated`,
        );
        // A retry: the cancel itself was answered by the park; the retry is answered by the outcome.
        action = { ...action, id: `${action.id}:resent` };
      }
    }
  }

  const cancelAllowed = () => undefined;
  const sentToBank = () =>
    RAIL_CAN_RECALL[rail]
      ? `the payment was sent to the bank over ${rail}; a recall is asked only while the workflow follows it as submitted and unsettled, not from needs_attention; retry, or settle it with the bank`
      : `the payment was sent to the bank over ${rail} and ${rail} cannot recall it; retry, or settle it with the bank`;
  /** A submission refused by the bank (5xx, 429, connection refused) took nothing; anything else might have landed. */
  const submitCancel = (err: ActivityFailure) =>
    err.cause instanceof ApplicationFailure && err.cause.type === 'BankUnavailable'
      ? undefined
      : `the last submission ended without the bank's answer (${failureText(err)}); the bank may have the payment, so retry sends it again under the same reference`;

  /**
   * Settled becomes completed only on the bank's statement: looks every reconcilePollIntervalMs for
   * at most reconcileWindowMs. A break (the amount differs, or the payment never shows) parks the
   * transfer naming the break; an operator's retry looks again. Cancel is refused: the bank paid.
   */
  async function reconcile(attemptId: string, railReference: string): Promise<void> {
    const { reconcileWindowMs, reconcilePollIntervalMs } = input.timing;
    const looks = Math.max(1, Math.ceil(reconcileWindowMs / reconcilePollIntervalMs));
    for (;;) {
      let breakReason = `${railReference} was not matched on a bank statement within ${reconcileWindowMs} ms`;
      for (let look = 1; look <= looks; look++) {
        const lastLook = look === looks;
        const r = await step('reconcileAttempt', 'settled', sentToBank, () =>
          statements.reconcileAttempt.executeWithOptions({ ...STATEMENT_READ, summary: `match ${railReference} on the bank statement` }, [{ attemptId, lastLook }]),
        );
        if (r.outcome === 'matched') return;
        if (r.outcome === 'break') {
          breakReason = r.reason;
          break;
        }
        if (!lastLook) await sleep(reconcilePollIntervalMs);
      }
      await park({ step: 'reconciliation', resumeStatus: 'settled', retryMeans: 'matches the payment on the bank statement again', cancelRefusal: sentToBank() }, breakReason);
      answer('matching the payment on the bank statement again');
    }
  }

  /**
   * An ACH entry waits in its window until the batch workflow signals the file's answer; a cancel
   * meanwhile withdraws it if the window is still open. Returns the submission as accepted (the
   * transfer moved to submitted) or rejected (compensations follow). A refused or unconfirmed file
   * parks the transfer; an operator's retry re-queues the entry under the same trace number.
   */
  async function awaitAchFile(queued: QueuedSubmission, preSubmitStatus: TransferStatus): Promise<Submission> {
    let q = queued;
    const { attemptId, railReference } = q;
    const accepted = async (how: string): Promise<Submission> => {
      queuedIn = undefined;
      await step('confirmSubmission', preSubmitStatus, sentToBank, () => ledger.resumeStatus({ transferId, status: 'submitted', reason: how }));
      await step('confirmAttempt', 'submitted', sentToBank, () => ledger.confirmAttempt({ attemptId }));
      return { outcome: 'accepted', attemptId, railReference };
    };
    for (;;) {
      queuedIn = q;
      setStatus(preSubmitStatus, `queued for the ${q.label} window (${q.windowId}), trace ${railReference}`);
      let fileAnswer: AchFileAnswer | undefined;
      // Bounded: the window's cut-off (or now, for an entry re-queued into a window whose cut-off
      // has passed and whose batch was restarted) plus the batch's whole retry budget.
      const deadlineMs = Math.max(q.cutoffAtMs, Date.now()) + ACH_FILE_ANSWER_GRACE_MS;
      for (;;) {
        const waitMs = deadlineMs - Date.now();
        if (waitMs <= 0) break;
        const windowId = q.windowId;
        await condition(() => fileAnswers.has(windowId) || pending?.kind === 'cancel', waitMs);
        fileAnswer = fileAnswers.get(windowId);
        if (fileAnswer) break;
        if (pending?.kind === 'cancel') {
          let w;
          try {
            w = await achEntries.withdrawAchEntry.executeWithOptions({ ...ACH_ENTRY_STEP, summary: `withdraw trace ${railReference} from ${windowId}` }, [{ traceNumber: railReference }]);
          } catch (err) {
            if (!(err instanceof ActivityFailure)) throw err;
            // The entry may still be in the window and go out in its file: this cancel must not
            // compensate. park() answers it refused; a retry waits for the file again, and a new
            // cancel tries the withdrawal again while the window is open.
            await park(
              { step: 'withdrawAchEntry', resumeStatus: preSubmitStatus, retryMeans: `waits for the ${q.label} window's file again; cancel again to withdraw trace ${railReference}`, cancelRefusal: `withdrawing trace ${railReference} from ${windowId} failed; the entry may still go out in its file` },
              `withdrawing trace ${railReference} from ${windowId} failed after its retries: ${failureText(err)}`,
            );
            continue;
          }
          if (w.withdrawn) {
            queuedIn = undefined;
            cancelIfAsked();
          }
          // The window closed first: the entry is in its file, and the cancel comes too late.
          const action = pending!;
          pending = undefined;
          answers.set(action.id, { action: 'cancel', accepted: false, status: state.status, message: `too late: the ${q.label} window (${windowId}) closed before the entry could be withdrawn; its file carries the payment` });
        }
      }
      if (!fileAnswer) {
        // No word from the batch workflow within its budget: the entry row says what is known.
        // Until the row is read, the entry may be in a file the bank took: no cancel here.
        const row = await step('achEntryState', preSubmitStatus, () => `trace ${railReference} may be in a file the bank accepted; retry reads its state again`, () => achEntries.achEntryState({ traceNumber: railReference }));
        const outcome = row.status === 'accepted' ? 'accepted' : row.status === 'rejected' ? 'rejected' : row.status === 'file_refused' ? 'file_rejected' : 'file_unconfirmed';
        fileAnswer = { windowId: q.windowId, fileId: row.fileId, traceNumber: railReference, outcome, code: row.code, message: `no answer from the batch workflow of ${q.windowId} within ${ACH_FILE_ANSWER_GRACE_MS} ms of its cut-off; the entry is ${row.status}` };
      }
      if (fileAnswer.outcome === 'accepted') return accepted(`in file ${fileAnswer.fileId} of the ${q.label} window, accepted by the bank, trace ${railReference}`);
      if (fileAnswer.outcome === 'rejected') {
        queuedIn = undefined;
        return { outcome: 'rejected', attemptId, railReference, code: fileAnswer.code ?? 'rejected', message: fileAnswer.message };
      }
      queuedIn = undefined;
      const refused = fileAnswer.outcome === 'file_rejected';
      const cancelRefusal = refused ? undefined : `file ${fileAnswer.fileId} of window ${q.windowId} may have reached the bank; retry asks the bank about trace ${railReference} first`;
      await park(
        { step: 'achFile', resumeStatus: preSubmitStatus, retryMeans: `re-queues the entry into a later window under the same trace ${railReference}${refused ? '' : ', once the bank says it does not have it'}`, cancelRefusal },
        `${fileAnswer.message}; trace ${railReference} was in file ${fileAnswer.fileId} of the ${q.label} window (${q.windowId})`,
      );
      // A re-queue that failed half-way may have put the entry in a new window: finish it before any cancel.
      const again = await step('requeueAchEntry', preSubmitStatus, () => cancelRefusal ?? `trace ${railReference} may already be queued in a new window; retry finishes the re-queue, then cancel withdraws it`, () =>
        achEntries.requeueAchEntry.executeWithOptions({ ...ACH_ENTRY_STEP, summary: `re-queue trace ${railReference}` }, [{ traceNumber: railReference }]),
      );
      if (again.outcome === 'accepted') return accepted(`the bank confirmed trace ${railReference} on inquiry`);
      if (again.outcome === 'rejected') return { outcome: 'rejected', attemptId, railReference, code: again.code, message: `rejected by the bank with ${again.code}` };
      q = { ...q, windowId: again.windowId, cutoffAtMs: again.cutoffAtMs, label: again.label };
    }
  }

  /**
   * Runs the registered compensations last-first, then ends the transfer, none of it cancellable.
   * A compensation that fails after its retries parks the transfer; an operator's retry runs the
   * remaining ones again.
   */
  async function compensate(status: 'failed' | 'canceled', code: string, message: string, attemptId?: string): Promise<TransferState> {
    // A transfer canceled before its hold was placed answers the API's fundsHeld update too.
    holdOutcome ??= { held: false, status, failureCode: code };
    recallOpen = false;
    await CancellationScope.nonCancellable(async () => {
      for (;;) {
        try {
          while (compensations.length > 0) {
            await compensations.at(-1)!.run();
            compensations.pop();
          }
          await compensation.endTransfer.executeWithOptions({ ...LEDGER_COMPENSATION, summary: `end the transfer ${status} (${code})` }, [{ transferId, status, code, message, attemptId }]);
          return;
        } catch (err) {
          if (!(err instanceof ActivityFailure)) throw err;
          const failed = compensations.at(-1)?.name ?? 'endTransfer';
          await park(
            { step: `compensation ${failed}`, resumeStatus: null, retryMeans: `runs the compensation ${failed} and what follows it again`, cancelRefusal: `compensations are in progress (${failed} failed); fix the cause and retry them` },
            `compensation ${failed} could not complete: ${failureText(err)}; the transfer ends ${status} once it does`,
          );
        }
      }
    });
    state.failureCode = code;
    setStatus(status, message);
    return state;
  }

  describe();
  const result = await flow();
  // An action accepted but overtaken by the end (a retry while unknown, then the bank's rejection) is answered with it.
  if (pending) awaiting.push(pending);
  pending = undefined;
  answer(`the transfer ended ${state.status}`);
  // An operator action still being written to the audit log is finished before the workflow closes.
  if (!allHandlersFinished()) await condition(allHandlersFinished, AUDIT_WAIT);
  return result;

  async function flow(): Promise<TransferState> {
    try {
      compensations.push({ name: 'voidHold', run: () => compensation.voidHold.executeWithOptions({ ...LEDGER_COMPENSATION, summary: 'compensation: void the hold' }, [{ transferId }]) });
      const hold = await step('holdFunds', 'created', cancelAllowed, () => ledger.holdFunds.executeWithOptions({ ...LEDGER_STEP, summary: `hold ${input.amountMinor} ${input.currency} (minor units)` }, [{ transferId }]));
      holdOutcome = hold;
      if (!hold.held) {
        // A cancel accepted while the hold was being tried is answered with the failure.
        if (pending) awaiting.push(pending);
        pending = undefined;
        state.failureCode = hold.failureCode ?? null;
        setStatus(hold.status, hold.failureCode ?? null);
        return state;
      }
      setStatus('funds_held', null);
      cancelIfAsked();

      // --- BEGIN payout-approval (four eyes, core/approval.ts), behind patched(PAYOUT_APPROVAL_PATCH) ---
      // At or above the client's threshold the held payout waits in needs_approval for the API's
      // approvalDecision signal: in slices like park()'s, at no cost and with no deadline. Approve
      // goes on from funds_held; deny (or a cancel meanwhile) voids the hold and ends canceled.
      if (input.approvalRequired && patched(PAYOUT_APPROVAL_PATCH)) {
        let decision: ApprovalDecision | undefined;
        setHandler(defineSignal<[ApprovalDecision]>(APPROVAL_DECISION_SIGNAL), (d) => {
          if (!decision && APPROVAL_DECISIONS.includes(d?.decision)) decision = d;
        });
        const waiting = 'waiting for an operator to approve or deny the payout (four eyes)';
        await step('awaitApproval', 'funds_held', cancelAllowed, () => ledger.resumeStatus({ transferId, status: 'needs_approval', reason: waiting }));
        setStatus('needs_approval', waiting);
        while (!(await condition(() => decision !== undefined || pending?.kind === 'cancel', OPERATOR_WAIT_SLICE))) {
          if (workflowInfo().continueAsNewSuggested) log.warn('payout waiting for approval with a large history', { transferId, historyLength: workflowInfo().historyLength });
        }
        cancelIfAsked();
        const d = decision!;
        const why = `${d.decision === 'approve' ? 'approved' : 'denied'} by ${d.operator} (approval ${d.approvalId}): ${d.reason}`;
        if (d.decision === 'deny') return await compensate('canceled', 'approval_denied', why);
        await step('approvePayout', 'funds_held', cancelAllowed, () => ledger.resumeStatus({ transferId, status: 'funds_held', reason: why }));
        setStatus('funds_held', why);
        cancelIfAsked();
      }
      // --- END payout-approval ---

      if (input.targetCurrency !== input.currency) {
        compensations.push({ name: 'unwindFx', run: () => compensation.unwindFx.executeWithOptions({ ...LEDGER_COMPENSATION, summary: 'compensation: unwind the conversion' }, [{ transferId }]) });
        await step('convertFunds', 'funds_held', cancelAllowed, () => ledger.convertFunds.executeWithOptions({ ...LEDGER_STEP, summary: `convert ${input.currency} to ${input.targetCurrency} at the quote` }, [{ transferId }]));
        setStatus('fx_locked', null);
        cancelIfAsked();
      }

      // The last moment a cancel can still undo everything: wait out one being written to the log.
      if (claim) await condition(() => claim === undefined, AUDIT_WAIT);
      cancelIfAsked();
      submitStarted = true;

      let attemptNo = 1;
      const preSubmitStatus: TransferStatus = input.targetCurrency !== input.currency ? 'fx_locked' : 'funds_held';
      const submit = () =>
        step('submitPayout', state.status === 'unknown' ? 'unknown' : preSubmitStatus, submitCancel, () => bankSubmit.submitPayout.executeWithOptions({ ...BANK_SUBMIT, summary: `submit attempt ${attemptNo} over ${rail}` }, [{ transferId, attemptNo }]));
      let submission = await submit();
      const fallback = FALLBACK_RAIL[rail];
      if (submission.outcome === 'rejected' && submission.fallback && fallback) {
        // The rail could not reach the beneficiary and nothing was paid: a new attempt on the fallback rail.
        const rejectedCode = submission.code;
        await step('switchRail', preSubmitStatus, cancelAllowed, () => ledger.switchRail({ transferId, rail: fallback, reason: `${rail} could not reach the beneficiary (${rejectedCode}); retrying over ${fallback}` }));
        rail = fallback;
        attemptNo = 2;
        upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.rail, value: rail }]);
        submission = await submit();
      }
      state.railReference = submission.railReference;
      if (submission.outcome === 'queued') submission = await awaitAchFile(submission, preSubmitStatus);
      if (submission.outcome === 'rejected') return await compensate('failed', submission.code, submission.message, submission.attemptId);
      let unknown = submission.outcome === 'unknown';
      setStatus(unknown ? 'unknown' : 'submitted', submission.outcome === 'unknown' ? submission.reason : null);

      // From here the bank may have paid: compensations run only on the bank's word that it did not.
      let settled = false;
      let notFound = 0;
      let resends = 0;
      for (;;) {
        let waitedMs = 0;
        while (waitedMs < input.timing.settlementTimeoutMs && !settled) {
          answerStaleRetry();
          const delayMs = unknown ? Math.min(input.timing.pollIntervalMs * 2 ** notFound, input.timing.pollIntervalMs * INQUIRY_BACKOFF_MAX) : input.timing.pollIntervalMs;
          // An operator's retry while the outcome is unknown asks the bank at once; a cancel while
          // submitted (on a rail that can recall) recalls at once.
          recallOpen = !unknown && RAIL_CAN_RECALL[rail];
          await condition(() => (unknown && pending?.kind === 'retry') || (recallOpen && pending?.kind === 'cancel'), delayMs);
          waitedMs += delayMs;
          if (pending?.kind === 'cancel') {
            const action = pending;
            pending = undefined;
            if ((await recallPayment(action, submission.attemptId, submission.railReference)) === 'canceled') {
              awaiting.push(action);
              return await compensate('canceled', 'recalled', `canceled by ${action.command.operator}: ${action.command.reason}; the bank recalled ${submission.railReference} (camt.029 CNCL)`, submission.attemptId);
            }
          }
          const asked = unknown && pending?.kind === 'retry' ? pending : undefined;
          if (asked) {
            pending = undefined;
            awaiting.push(asked);
          }
          const answerNow = await step('checkPayout', unknown ? 'unknown' : 'submitted', sentToBank, () => bankInquiry.checkPayout.executeWithOptions({ ...BANK_INQUIRY, summary: `ask the bank about ${submission.railReference}` }, [{ railReference: submission.railReference, rail }]));
          if (unknown && answerNow.state !== 'not_found') {
            // The inquiry found the payment under our reference: the submission did land.
            await step('confirmSubmission', 'unknown', sentToBank, () => ledger.resumeStatus({ transferId, status: 'submitted', reason: `the bank confirmed ${submission.railReference} on inquiry` }));
            await step('confirmAttempt', 'submitted', sentToBank, () => ledger.confirmAttempt({ attemptId: submission.attemptId }));
            unknown = false;
            setStatus('submitted', null);
          }
          if (asked) answer(`inquired again: the bank answered ${answerNow.state}`);
          if (answerNow.state === 'settled') {
            settled = true;
            recallOpen = false;
          } else if (answerNow.state === 'canceled') {
            // Only a recall of ours cancels a payment, and its CNCL normally ends the transfer in
            // recallPayment before the loop looks again. Should the bank report it canceled here
            // anyway, that is its confirmed word that nothing will be paid: never read as a
            // rejection, and compensated once, as canceled.
            return await compensate('canceled', 'recalled', `the bank canceled ${submission.railReference} on a recall`, submission.attemptId);
          } else if (answerNow.state === 'rejected' || answerNow.state === 'returned') {
            return await compensate('failed', answerNow.code ?? answerNow.state, `the bank ${answerNow.state} the payment (${answerNow.code ?? 'no code'})`, submission.attemptId);
          } else if (answerNow.state === 'not_found' && unknown && ++notFound >= NOT_FOUND_BEFORE_RESEND) {
            if (resends >= MAX_RESENDS) {
              await park(
                { step: 'inquiry', resumeStatus: 'unknown', retryMeans: 'inquires again under the same reference, resending under it if the bank still has nothing', cancelRefusal: `the bank has not confirmed that ${submission.railReference} is dead; retry inquires again` },
                `the bank has no record of ${submission.railReference} after ${resends} resends under the same reference`,
              );
              answer('inquiring again under the same reference');
              // Another round: inquiries, then resends under the same reference if the bank still has nothing.
              notFound = 0;
              resends = 0;
              waitedMs = 0;
              continue;
            }
            // Proven not received: send again under the same reference, which the bank dedupes.
            resends++;
            notFound = 0;
            submission = await submit();
            if (submission.outcome === 'queued') submission = await awaitAchFile(submission, preSubmitStatus);
            if (submission.outcome === 'rejected') return await compensate('failed', submission.code, submission.message, submission.attemptId);
            unknown = submission.outcome === 'unknown';
            setStatus(unknown ? 'unknown' : 'submitted', submission.outcome === 'unknown' ? submission.reason : null);
          }
        }
        recallOpen = false;
        answerStaleRetry();
        await refuseStaleCancel();
        if (settled) break;
        // Funds may already be at the beneficiary: never compensate here. An operator decides.
        await park(
          { step: 'settlement', resumeStatus: unknown ? 'unknown' : 'submitted', retryMeans: 'keeps asking the bank for another settlement window', cancelRefusal: sentToBank() },
          `no settlement within ${input.timing.settlementTimeoutMs} ms for reference ${submission.railReference}`,
        );
        answer('asking the bank again for another settlement window');
      }

      // --- After settlement: post the hold, complete, then watch for returns. ---
      compensations.length = 0;
      await step('settlePayout', 'submitted', sentToBank, () => ledger.settlePayout({ transferId, attemptId: submission.attemptId }));
      setStatus('settled', null);
      await reconcile(submission.attemptId, submission.railReference);
      await step('completeTransfer', 'settled', sentToBank, () => ledger.completeTransfer({ transferId }));
      setStatus('completed', null);

      // The bank may still return the payment: watch through the return window (timers cost nothing).
      await watchForReturns(
        { transferId, rail, railReference: submission.railReference, timing: input.timing, settledAtMs: Date.now() },
        (status, reason, failureCode) => {
          if (failureCode) state.failureCode = failureCode;
          setStatus(status, reason);
        },
        decideReturn,
      );
      return state;
    } catch (err) {
      if (err instanceof OperatorCancel) return await compensate('canceled', 'canceled', err.message);
      // A bug (not an activity's exhausted retries, which park): undo what can be undone, then fail loudly.
      if (!submitStarted && compensations.length > 0) await compensate('failed', 'internal_error', `payout stopped: ${(err as Error).message}`);
      throw err;
    }
  }
}
