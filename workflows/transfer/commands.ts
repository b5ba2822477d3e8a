/**
 * Operator commands (pure): retry, cancel, returnDecision, and Temporal's own cancellation request,
 * which is a cancel. `refusal` says why a command is refused in the current phase — the Update
 * validators call it, and `applyCommand` calls it again when the command is applied, since the
 * payout may have moved on in between (a file accepted at the cut-off, a settlement): the command
 * takes effect on the phase it meets, never on the one it was validated against.
 *
 *   retry    parked → the step again (its status restored first); unknown → one inquiry now
 *   cancel   before a submission started → compensate; ACH queued before its cut-off → withdraw;
 *            SEPA submitted and unsettled → recall; parked → what the step allows (compensate,
 *            ask the bank first, or refused); anywhere else refused: the bank may have the payment
 *   returnDecision  a late return's question: accept → credit back, returned; dishonor → completed
 *
 * Four eyes (SPEC §5): a cancel that would recall and a returnDecision `accept` move money that may
 * not come back; they are taken only when the command carries out an approval (`approvalId`, which
 * the workflow checks against the approvals table before applying it). The ops API asks for the
 * approval; a command sent straight through Temporal without one is refused, naming the route.
 */
import { commandProblem, decisionProblem, RAIL_CAN_RECALL } from '../../core/operator';
import type { OperatorActionKind, OperatorCommand } from '../../core/operator';
import type { ApprovalCheck } from '../../core/approval';
import type { CommandEnvelope, Outcome, Payout } from './model';
import { liveAttempt, writeStatus } from './moves';
import { compensate, mayCompensate } from './compensation';
import { recallOpen, startRecall } from './recall';
import { sentToBank } from './follow-bank';

/** The approval `kind` needs in the payout's phase (four eyes), if any. */
export function approvalNeeded(p: Payout, kind: OperatorActionKind, command: unknown): ApprovalCheck['kind'] | undefined {
  if (p.fourEyes !== true) return undefined;
  if (kind === 'returnDecision') return p.phase.kind === 'return_question' && (command as { decision?: unknown } | null)?.decision === 'accept' ? 'return_accept' : undefined;
  if (kind === 'cancel') return recallOpen(p) ? 'recall' : undefined;
  return undefined;
}

/** Why `kind` is refused now, or undefined when it would be taken. */
export function refusal(p: Payout, kind: OperatorActionKind, command: unknown, nowMs: number): string | undefined {
  const problem = kind === 'returnDecision' ? decisionProblem(command) : commandProblem(command);
  if (problem) return problem;
  const needed = approvalNeeded(p, kind, command);
  if (needed && !(command as OperatorCommand).approvalId) {
    return needed === 'recall'
      ? `a recall of ${p.transferId} needs an approval by a second person (four eyes): an operator asks for it with POST /v1/ops/transfers/${p.transferId}/cancel`
      : `accepting the late return of ${p.transferId} credits the client back and needs an approval by a second person (four eyes): an operator asks for it with POST /v1/ops/transfers/${p.transferId}/return-decision`;
  }
  const ph = p.phase;
  const id = p.transferId;
  if (ph.kind === 'return_question') {
    if (kind === 'returnDecision') return undefined;
    return `transfer ${id} was paid out and the bank returned it (${ph.code}) outside what is taken silently: it waits for a returnDecision (accept or dishonor), not a ${kind}`;
  }
  if (kind === 'returnDecision') return `transfer ${id} is ${p.status} and waits on no return decision; returnDecision answers a late or unusual return the transfer is waiting on`;
  // Paid and booked (watching its return window) or over: nothing is left to retry or cancel.
  if (ph.kind === 'done' || ph.kind === 'watching') return `transfer ${id} is ${p.status}; there is nothing to ${kind}`;
  if (kind === 'retry') {
    if (ph.kind === 'parked' || ph.kind === 'unknown') return undefined;
    if (ph.kind === 'queued') {
      const where = nowMs < ph.window.cutoffAtMs ? `queued for the ${ph.window.label} window (${ph.window.windowId})` : `in the file of the ${ph.window.label} window (${ph.window.windowId}), which went to the bank at its cut-off`;
      return `retry applies to a transfer in needs_attention or unknown; ${id} is ${where} and progressing on its own`;
    }
    return `retry applies to a transfer in needs_attention or unknown; ${id} is ${p.status} and progressing on its own`;
  }
  // cancel
  switch (ph.kind) {
    case 'parked':
      return typeof ph.parked.cancel === 'object' ? ph.parked.cancel.refused : undefined;
    case 'holding':
    case 'approval':
    case 'converting':
    case 'switching_rail':
      return undefined;
    case 'submitting':
      // Not started: nothing has reached the bank yet (a resend after `unknown` has: refused).
      return liveAttempt(p) ? `a submission of ${id} may have reached the bank; ${sentToBank(p)}` : undefined;
    case 'queued':
      if (nowMs < ph.window.cutoffAtMs) return undefined;
      return `the ${ph.window.label} window (${ph.window.windowId}) has closed and its file carries the payment under trace ${liveAttempt(p)?.railReference}; ${p.rail} cannot recall it, so ${id} can no longer be canceled`;
    case 'withdrawing':
      return `a cancel of ${id} is already withdrawing its entry from the ${ph.window.label} window`;
    case 'recalling':
      return `the payment was sent to the bank over ${p.rail}; a recall of it is already waiting for the bank's answer`;
    case 'compensating':
      return `transfer ${id} is already being ${ph.end.status === 'canceled' ? 'canceled' : 'failed'}: its compensations are running`;
    default: {
      const a = liveAttempt(p);
      const sent = `the payment was sent to the bank over ${p.rail}${a?.railReference ? ` under ${a.railReference}` : ''}`;
      if (recallOpen(p)) return undefined;
      if (!RAIL_CAN_RECALL[p.rail]) return `${sent} and ${p.rail} cannot recall it, so ${id} can no longer be canceled`;
      return `${sent}; a recall can only be asked while the bank holds the payment as submitted and unsettled, and ${id} is ${p.status}`;
    }
  }
}

/** Applies a command to the phase it meets: refused (with why), or taken. */
export function applyCommand(p: Payout, c: CommandEnvelope, nowMs: number): Outcome {
  const out: Outcome = { payout: p, answers: [] };
  const problem = refusal(p, c.kind, c.command, nowMs);
  if (problem) {
    out.answers.push({ id: c.id, accepted: false, message: `refused: ${problem}` });
    out.audit = { command: c, outcome: 'refused', detail: problem };
    return out;
  }
  out.audit = { command: c, outcome: 'accepted', detail: `accepted while ${p.status}` };
  p.awaiting.push(c.id);
  const ph = p.phase;
  const by = `${c.command.operator}: ${c.command.reason}`;
  if (c.kind === 'returnDecision') {
    if (ph.kind !== 'return_question') throw new Error('machine bug: returnDecision outside a return question');
    p.phase = { kind: 'recording_return', code: ph.code, decision: c.command.decision === 'accept' ? 'accept' : 'dishonor', by: c };
    return out;
  }
  if (c.kind === 'retry') {
    if (ph.kind === 'unknown') {
      p.phase = { kind: 'inquiring', why: 'unknown', notFound: ph.notFound, resends: ph.resends };
      return out;
    }
    if (ph.kind !== 'parked') throw new Error('machine bug: retry outside parked');
    if (ph.parked.resumeStatus) writeStatus(p, ph.parked.resumeStatus, `retry by ${by}`);
    p.phase = ph.parked.retry;
    return out;
  }
  // cancel
  if (ph.kind === 'queued') {
    p.phase = { kind: 'withdrawing', window: ph.window, answerDueMs: ph.answerDueMs, by: c };
    return out;
  }
  if (ph.kind === 'following') {
    startRecall(p, c);
    return out;
  }
  if (ph.kind === 'parked' && ph.parked.cancel === 'inquire') {
    p.phase = { kind: 'inquiring', why: 'cancel', notFound: 0, resends: 0, by: c };
    return out;
  }
  if (!mayCompensate(p)) throw new Error(`machine bug: cancel would compensate ${p.transferId} while the bank may have the payment`);
  compensate(p, { status: 'canceled', code: 'canceled', message: `canceled by ${by}`, attemptId: liveAttempt(p)?.attemptId ?? p.attempts.at(-1)?.attemptId ?? undefined });
  return out;
}
