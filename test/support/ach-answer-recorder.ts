/**
 * The ACH batch workflow beside a workflow that only records the `achFileAnswer` signals it
 * receives (every one, so a test sees duplicates): stands in for a payout's workflow in the batch
 * tests, which need the batch and many listeners but none of a payout's own steps.
 *
 * A listener never ends by itself and sets no timer. The time-skipping server may still jump
 * past its run's deadline while a test reads the batch's result, so tests query a listener
 * (a query reads a closed workflow's history as well as a running one's) rather than signal it.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { AchFileAnswer } from '../../workflows/ach-batch';

export { achBatchWorkflow } from '../../workflows/ach-batch';

export const answersQuery = defineQuery<AchFileAnswer[]>('answers');

export async function achAnswerRecorder(): Promise<never> {
  const answers: AchFileAnswer[] = [];
  setHandler(defineSignal<[AchFileAnswer]>('achFileAnswer'), (answer) => void answers.push(answer));
  setHandler(answersQuery, () => answers);
  await condition(() => false);
  throw new Error('unreachable');
}
