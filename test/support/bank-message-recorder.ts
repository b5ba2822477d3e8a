/**
 * A workflow that only records the `bankMessage` signals it receives, every one (duplicates
 * included, so a test sees what the inbox sent), until told to finish: stands in for a transfer's
 * workflow in the bank inbox tests.
 */
import { condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type { BankMessage } from '../../core/bank-message';

export const receivedQuery = defineQuery<BankMessage[]>('received');
export const finishSignal = defineSignal('finish');

export async function bankMessageRecorder(): Promise<BankMessage[]> {
  const received: BankMessage[] = [];
  let finished = false;
  setHandler(defineSignal<[BankMessage]>('bankMessage'), (message) => void received.push(message));
  setHandler(receivedQuery, () => received);
  setHandler(finishSignal, () => void (finished = true));
  await condition(() => finished, '1 hour');
  return received;
}
