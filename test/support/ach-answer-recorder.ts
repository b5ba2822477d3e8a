/**
 * The ACH batch workflow beside a workflow that only records the `achFileAnswer` signals it
 * receives (every one, so a test sees duplicates): stands in for a payout's workflow in the batch
 * tests, which need the batch and many listeners but none of a payout's own steps.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { AchFileAnswer } from '../../workflows/ach-batch';

export { achBatchWorkflow } from '../../workflows/ach-batch';

export const answersQuery = defineQuery<AchFileAnswer[]>('answers');
export const finishSignal = defineSignal('finish');

export async function achAnswerRecorder(): Promise<AchFileAnswer[]> {
  const answers: AchFileAnswer[] = [];
  let finished = false;
  setHandler(defineSignal<[AchFileAnswer]>('achFileAnswer'), (answer) => void answers.push(answer));
  setHandler(answersQuery, () => answers);
  setHandler(finishSignal, () => void (finished = true));
  await condition(() => finished, '30 days');
  return answers;
}
