/**
 * The payout's state as one typed value, and the events and commands that move it (pure: nothing
 * from @temporalio, so the machine runs and is property-tested outside Temporal).
 *
 * A `Payout` is everything the workflow knows: which phase it is in, the hold, the conversion, every
 * attempt and the bank messages already applied. The workflow (workflow.ts) only feeds it events,
 * runs the one step `work(p)` names, waits for `deadlineOf(p)`, and writes `p.status`.
 */
import type { BankMessage } from '../../core/bank-message';
import type { ApprovalDecision } from '../../core/approval';
import type { OperatorActionKind, OperatorCommand } from '../../core/operator';
import type { Rail, TransferStatus, TransferTiming } from '../../core/transfer';

/** A submission to one rail. A final state never changes again; at most one attempt is live. */
export type AttemptState =
  /** The submit step is running or ended without the bank's answer: the bank may have it. */
  | 'sending'
  /** An ACH entry in its window, not yet in a file. */
  | 'queued'
  /** Sent, the bank's answer lost: it may have it. */
  | 'unknown'
  | 'accepted'
  | 'settled'
  // Final: the bank's definitive word that it did not pay, or proof that it never had it.
  | 'rejected'
  | 'recalled'
  | 'withdrawn'
  | 'not_received'
  /** Not final: the bank refused the entry's whole file (nothing of it was paid); a retry re-queues it. */
  | 'file_refused';

export const FINAL_ATTEMPT_STATES: readonly AttemptState[] = ['rejected', 'recalled', 'withdrawn', 'not_received'];
/**
 * States in which the bank may have (or has) the payment: nothing is compensated while an attempt
 * is in one. A queued ACH entry is among them: it goes out with its window's file unless withdrawn.
 */
export const MAY_HAVE_LEFT: readonly AttemptState[] = ['sending', 'queued', 'unknown', 'accepted', 'settled'];

export interface AttemptView {
  no: number;
  rail: Rail;
  attemptId: string | null;
  railReference: string | null;
  state: AttemptState;
  /** The database row says the bank has it (submitted): set by the submit step or the confirm step. */
  recorded: boolean;
  code?: string;
}

/** `maybe`: the hold step started and has not answered (it may have placed the hold). */
export type HoldState = 'none' | 'maybe' | 'pending' | 'posted' | 'voided';

/** A command an operator (or Temporal's cancellation request) gave, with its ID for the audit log. */
export interface CommandEnvelope {
  id: string;
  kind: OperatorActionKind;
  command: OperatorCommand & { decision?: 'accept' | 'dishonor' };
  via: 'update' | 'signal' | 'cancellation';
}

/** The ACH window an entry waits in. */
export interface QueuedWindow {
  windowId: string;
  cutoffAtMs: number;
  label: string;
}

/** What a parked transfer does on retry and cancel. */
export interface Parked {
  step: string;
  reason: string;
  /** The phase a retry resumes, and the status the database row goes back to first (if any). */
  retry: Phase;
  resumeStatus: TransferStatus | null;
  /** `compensate`: undo and end canceled; `inquire`: ask the bank first, compensate only on its word; else why it is refused. */
  cancel: 'compensate' | 'inquire' | { refused: string };
}

export type Phase =
  | { kind: 'holding' }
  | { kind: 'approval' }
  | { kind: 'converting' }
  | { kind: 'submitting' }
  | { kind: 'switching_rail'; to: Rail; code: string }
  | { kind: 'queued'; window: QueuedWindow; answerDueMs: number }
  | { kind: 'withdrawing'; window: QueuedWindow; answerDueMs: number; by: CommandEnvelope }
  | { kind: 'reading_entry'; window: QueuedWindow }
  | { kind: 'requeueing' }
  /** The bank has the payment: wait for its settlement, then for the statement. */
  | { kind: 'following'; stage: 'settlement' | 'statement'; dueMs: number }
  | { kind: 'unknown'; dueMs: number; notFound: number; resends: number }
  | { kind: 'inquiring'; why: 'unknown' | 'settlement' | 'cancel'; notFound: number; resends: number; by?: CommandEnvelope }
  | { kind: 'recalling'; by: CommandEnvelope; recallNo: number; resume: Phase }
  | { kind: 'reconciling'; resume: Phase }
  /** Ledger steps after the bank paid, in order; then `then`. */
  | { kind: 'booking'; steps: BookingStep[]; then: Phase }
  | { kind: 'watching'; untilMs: number }
  | { kind: 'assessing_return'; code: string; receivedAtMs: number }
  | { kind: 'return_question'; code: string; reason: string }
  | { kind: 'recording_return'; code: string; decision: 'take' | 'accept' | 'dishonor'; by?: CommandEnvelope }
  | { kind: 'parked'; parked: Parked }
  | { kind: 'compensating'; steps: CompensationStep[]; end: Ending }
  | { kind: 'done' };

export type BookingStep = 'confirm' | 'settle' | 'complete';
export type CompensationStep = 'unwindFx' | 'voidHold' | 'end';

export interface Ending {
  status: 'failed' | 'canceled';
  code: string;
  message: string;
  attemptId?: string;
  /** What the ended attempt's row says: rejected by the bank, recalled, or canceled before it left. */
  attemptStatus?: 'rejected' | 'recalled' | 'canceled';
}

export interface Payout {
  transferId: string;
  rail: Rail;
  fx: boolean;
  approvalRequired: boolean;
  timing: TransferTiming;
  phase: Phase;
  /** The status the database has once the current step is done (the one status writer is the step). */
  status: TransferStatus;
  reason: string | null;
  failureCode: string | null;
  hold: HoldState;
  /** A conversion booked and not unwound. */
  fxBooked: boolean;
  attempts: AttemptView[];
  /** Bank message IDs already applied: each is applied once. */
  seen: string[];
  /** When the bank settled the payment, on the workflow's clock: ACH return timeliness counts from here. */
  settledAtMs: number | null;
  /**
   * A notification of change waiting to be recorded: from the bank's COR file, by the fact's ID
   * (the corrected account stays in the stored file, out of the signal); from an inquiry's answer,
   * with its data.
   */
  corrections: ({ code: string; factId: string } | { code: string; correctedData: string })[];
  /** Resends under the same reference after an unknown outcome (at most MAX_RESENDS before an operator). */
  resendsAfterUnknown: number;
  /** Recalls asked so far: each gets its own cancellation ID. */
  recalls: number;
  /** The first approval decision applied; later ones are ignored. */
  approvalId: string | null;
  /**
   * Four eyes inside the workflow (SPEC §5): a recall or the acceptance of a late return is taken
   * only when it carries out an approval a second person gave, whatever channel it came by. False
   * in runs recorded before the rule (their histories replay as they ran: workflow.ts's patch).
   */
  fourEyes?: boolean;
  /**
   * A queued ACH entry the bank settles before the payout heard its file's answer (the batch no
   * longer signals an accepted entry; it records it submitted): the payout follows the statement at
   * once and confirms the attempt with the booking, in that one task of local steps. False in runs
   * recorded before (workflow.ts's patch), where a confirm step ran on its own.
   */
  confirmsAtBooking?: boolean;
  /** Commands applied whose Update waits for the outcome. */
  awaiting: string[];
  /** The status moves the last event made, in order (reset by every event): what the database sees. */
  moves: TransferStatus[];
  /** A status change the next step writes to the database before anything else. */
  pendingWrite: { status: TransferStatus; reason: string } | null;
}

/** What happened, fed to the machine one at a time. */
export type PayoutEvent =
  /** The workflow is about to run `work(p)`: from here its effect may happen. */
  | { type: 'step_started'; step: StepName }
  | { type: 'step_done'; step: StepName; result?: unknown }
  | { type: 'step_failed'; step: StepName; message: string; errorType?: string }
  | { type: 'bank'; message: BankMessage }
  | { type: 'ach_answer'; answer: { windowId: string; fileId: string | null; outcome: 'accepted' | 'rejected' | 'file_rejected' | 'file_unconfirmed'; code: string | null; message: string } }
  | { type: 'approval'; decision: ApprovalDecision }
  | { type: 'deadline' }
  | { type: 'command'; command: CommandEnvelope };

export type StepName =
  | 'holdFunds'
  | 'convertFunds'
  | 'markStatus'
  | 'submitPayout'
  | 'switchRail'
  | 'withdrawAchEntry'
  | 'achEntryState'
  | 'requeueAchEntry'
  | 'checkPayout'
  | 'recallPayout'
  | 'reconcileAttempt'
  | 'confirmAttempt'
  | 'settlePayout'
  | 'completeTransfer'
  | 'assessReturn'
  | 'recordReturn'
  | 'dishonorReturn'
  | 'recordCorrection'
  | 'unwindFx'
  | 'voidHold'
  | 'endTransfer';

/** The one step the workflow runs next, with its input. */
export interface Work {
  step: StepName;
  input: Record<string, unknown>;
  summary: string;
}

/** What applying an event or command tells the workflow besides the next state. */
export interface Outcome {
  payout: Payout;
  /** Commands answered now (refused, or accepted with nothing left to wait for). */
  answers: { id: string; accepted: boolean; message: string }[];
  /** The audit row for a command: accepted or refused, and why. */
  audit?: { command: CommandEnvelope; outcome: 'accepted' | 'refused'; detail: string };
}
