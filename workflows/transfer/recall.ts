/**
 * Recall (pure): a cancel while a SEPA credit transfer is submitted and unsettled asks the bank to
 * cancel it (camt.056), one recall at a time, each under its own cancellation ID (`recallNo`), so
 * a refusal of one recall is not the answer to the next.
 *
 *   the bank's CNCL (or a recall_confirmed message) → compensate, canceled
 *   its RJCR → the cancel is answered refused with the bank's reason; the payout goes on following
 *   no answer within the step's retries → parked naming the unanswered recall; nothing is
 *   compensated (the bank may cancel or pay); retry resends it under the same cancellation ID
 */
import { RAIL_CAN_RECALL } from '../../core/operator';
import type { CommandEnvelope, Outcome, Payout, PayoutEvent, Phase } from './model';
import { liveAttempt, park } from './moves';
import { compensate } from './compensation';

/** Whether a cancel now would be a recall: the rail can recall and the bank holds the payment unsettled. */
export function recallOpen(p: Payout): boolean {
  const ph = p.phase;
  return RAIL_CAN_RECALL[p.rail] && ph.kind === 'following' && ph.stage === 'settlement' && liveAttempt(p)?.state === 'accepted';
}

export function startRecall(p: Payout, by: CommandEnvelope): void {
  p.recalls += 1;
  p.phase = { kind: 'recalling', by, recallNo: p.recalls, resume: p.phase };
}

export function onRecallStep(p: Payout, event: Extract<PayoutEvent, { type: 'step_done' | 'step_failed' }>, nowMs: number, out: Outcome): void {
  const ph = p.phase as Extract<Phase, { kind: 'recalling' }>;
  const a = liveAttempt(p)!;
  void nowMs;
  if (event.type === 'step_failed') {
    park(
      p,
      {
        step: 'recall',
        retry: { ...ph, by: { ...ph.by, id: `${ph.by.id}:resent` } },
        resumeStatus: 'submitted',
        cancel: { refused: `the recall of ${a.railReference} is unanswered; retry sends it again` },
      },
      `the bank did not answer the recall of ${a.railReference} (${event.message}); it may still cancel or pay it, so nothing was compensated`,
    );
    return;
  }
  const r = event.result as { outcome: 'canceled' } | { outcome: 'refused'; code: string; message: string };
  if (r.outcome === 'canceled') {
    a.state = 'recalled';
    compensate(p, { status: 'canceled', code: 'recalled', message: `canceled by ${ph.by.command.operator}: ${ph.by.command.reason}; the bank recalled ${a.railReference} (camt.029 CNCL)`, attemptId: a.attemptId ?? undefined });
    return;
  }
  const message = `${r.message}; ${a.railReference} stays with the bank and the payout carries on`;
  out.answers.push({ id: ph.by.id, accepted: false, message });
  p.awaiting = p.awaiting.filter((id) => id !== ph.by.id);
  p.phase = ph.resume;
}
