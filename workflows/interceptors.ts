/**
 * Workflow interceptors (bundled with the workflows; deterministic: they read only the workflow's
 * own memo). They add the request ID that started the transfer to every workflow log line and hand
 * it to every activity in a header, where workers/observability.ts puts it on the activity's logs.
 */
import { defaultPayloadConverter, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { asRequestId, REQUEST_ID_HEADER, REQUEST_ID_MEMO_KEY } from '../core/request-id';

function requestId(): string | undefined {
  return asRequestId(workflowInfo().memo?.[REQUEST_ID_MEMO_KEY]);
}

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      getLogAttributes(input, next) {
        const id = requestId();
        return next(id ? { ...input, requestId: id } : input);
      },
      scheduleActivity(input, next) {
        const id = requestId();
        return next(id ? { ...input, headers: { ...input.headers, [REQUEST_ID_HEADER]: defaultPayloadConverter.toPayload(id) } } : input);
      },
      scheduleLocalActivity(input, next) {
        const id = requestId();
        return next(id ? { ...input, headers: { ...input.headers, [REQUEST_ID_HEADER]: defaultPayloadConverter.toPayload(id) } } : input);
      },
    },
  ],
});
