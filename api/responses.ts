/**
 * Response schemas: what the API answers, as zod, so that the OpenAPI document describes responses
 * as exactly as requests. Objects are strict: a field the code sends but the schema does not name
 * fails test/api/openapi.test.ts, so the document cannot drift from the answers.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../core/errors';
import { OPERATOR_ACTIONS } from '../core/operator';
import { RAILS, TRANSFER_STATUSES } from '../core/transfer';
import { APPROVAL_KINDS, APPROVAL_STATUSES, RECONCILIATION_BREAK_KINDS } from '../db/schema';

const timestamp = z.iso.datetime({ offset: true }).meta({ description: 'ISO 8601 UTC timestamp' });
const minor = z.int().meta({ description: 'integer amount in the currency’s minor unit' });
const currency = z.string().regex(/^[A-Z]{3}$/).meta({ description: 'ISO 4217 code' });

export const errorResponse = z
  .strictObject({
    error: z.strictObject({
      type: z.enum([...new Set(Object.values(ERROR_CODES).map((c) => c.type))] as [string, ...string[]]),
      code: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]),
      message: z.string(),
      param: z.string().optional().meta({ description: 'the request field, query parameter or header at fault' }),
    }),
  })
  .meta({ id: 'Error' });

export const transferResponse = z
  .strictObject({
    id: z.string().meta({ example: 'tr_01jc9z3m0q4w8e2r6t1y5u7i9o' }),
    object: z.literal('transfer'),
    status: z.enum(TRANSFER_STATUSES),
    amountMinor: minor,
    currency,
    targetCurrency: currency,
    targetAmountMinor: minor,
    fx: z.strictObject({ rate: z.string().meta({ description: 'decimal string' }), quoteId: z.string() }).nullable(),
    feeMinor: minor,
    rail: z.enum(RAILS),
    beneficiary: z.record(z.string(), z.string()).meta({ description: 'as given, with account numbers and IBANs masked' }),
    reference: z.string().nullable(),
    metadata: z.record(z.string(), z.string()),
    failure: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
    chargeBearer: z.enum(['OUR', 'SHA', 'BEN']).nullable().meta({ description: 'swift only: who pays the charges' }),
    attempts: z.array(
      z.strictObject({
        id: z.string(),
        rail: z.enum(RAILS),
        railReference: z.string(),
        status: z.string(),
        beneficiaryReceivedMinor: minor.nullable().meta({ description: 'what reached the beneficiary, once matched on the bank statement' }),
        chargesMinor: minor.nullable().meta({ description: 'charges the bank itemised for this attempt, once matched' }),
      }),
    ),
    events: z.array(z.strictObject({ status: z.enum(TRANSFER_STATUSES), at: timestamp, reason: z.string().optional() })),
    workflowId: z.string().meta({ description: 'transfer-<id>' }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Transfer' });

export function listResponse<T extends z.ZodType>(item: T, id: string) {
  return z.strictObject({ object: z.literal('list'), data: z.array(item), hasMore: z.boolean() }).meta({ id });
}

export const transferListResponse = listResponse(transferResponse, 'TransferList');

export const balanceListResponse = z
  .strictObject({
    object: z.literal('list'),
    data: z.array(z.strictObject({ currency, availableMinor: minor, heldMinor: minor })),
    hasMore: z.boolean(),
  })
  .meta({ id: 'BalanceList' });

export const quoteResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('fx_quote'),
    sourceCurrency: currency,
    targetCurrency: currency,
    rate: z.string().meta({ description: 'decimal string: target per source unit, after the spread' }),
    sourceAmountMinor: minor,
    targetAmountMinor: minor,
    feeMinor: minor,
    expiresAt: timestamp,
    createdAt: timestamp,
  })
  .meta({ id: 'FxQuote' });

export const clientResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('client'),
    name: z.string(),
    apiKey: z.string().optional().meta({ description: 'shown once; only its hash is stored (absent from an idempotent replay)' }),
    apiKeyId: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'Client' });

export const depositResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('deposit'),
    clientId: z.string(),
    currency,
    amountMinor: minor,
    reference: z.string(),
    createdAt: timestamp,
  })
  .meta({ id: 'Deposit' });

const apiKeyFields = {
  id: z.string(),
  object: z.literal('api_key'),
  clientId: z.string(),
  last4: z.string(),
  createdAt: timestamp,
  revokedAt: timestamp.nullable(),
};
export const apiKeyResponse = z.strictObject(apiKeyFields).meta({ id: 'ApiKey' });
export const issuedApiKeyResponse = z
  .strictObject({ ...apiKeyFields, apiKey: z.string().optional().meta({ description: 'shown once; only its hash is stored (absent from an idempotent replay)' }) })
  .meta({ id: 'IssuedApiKey' });
export const apiKeyListResponse = listResponse(apiKeyResponse, 'ApiKeyList');

export const healthResponse = z.strictObject({ ok: z.boolean() }).meta({ id: 'Health' });
export const readinessResponse = z
  .strictObject({ ok: z.boolean(), checks: z.record(z.string(), z.string()) })
  .meta({ id: 'Readiness' });

export const webhookEndpointResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('webhook_endpoint'),
    url: z.string(),
    events: z.array(z.string()),
    previousSecretExpiresAt: timestamp.nullable().meta({ description: 'after a rotation, until when the replaced secret still signs beside the new one' }),
    createdAt: timestamp,
  })
  .meta({ id: 'WebhookEndpoint' });
export const createdWebhookEndpointResponse = webhookEndpointResponse
  .extend({ secret: z.string().meta({ description: 'the signing secret (whsec_…), shown once' }) })
  .meta({ id: 'CreatedWebhookEndpoint' });
export const webhookEndpointListResponse = listResponse(webhookEndpointResponse, 'WebhookEndpointList');
export const deletedWebhookEndpointResponse = z
  .strictObject({ id: z.string(), object: z.literal('webhook_endpoint'), deleted: z.literal(true) })
  .meta({ id: 'DeletedWebhookEndpoint' });
export const rotatedWebhookSecretResponse = webhookEndpointResponse
  .extend({ secret: z.string().meta({ description: 'the new signing secret (whsec_…); the old one signs beside it until previousSecretExpiresAt' }) })
  .meta({ id: 'RotatedWebhookSecret' });

export const webhookDeliveryResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('webhook_delivery'),
    endpointId: z.string(),
    eventId: z.string(),
    status: z.enum(['pending', 'delivered', 'dead']).meta({ description: '`pending` until a 2xx answer (`delivered`) or the maximum age (`dead`)' }),
    attempts: z.int().min(0),
    lastStatusCode: z.int().nullable().meta({ description: 'HTTP status of the last answer; null before any, or when the last attempt got none' }),
    lastError: z.string().nullable().meta({ description: 'why the last attempt failed (`HTTP 500`, a refused connection, a timeout)' }),
    lastAttemptAt: timestamp.nullable(),
    nextAttemptAt: timestamp.nullable().meta({ description: 'when the next attempt is due; null once delivered or dead' }),
    deliveredAt: timestamp.nullable(),
    createdAt: timestamp,
  })
  .meta({ id: 'WebhookDelivery' });
export const webhookDeliveryListResponse = listResponse(webhookDeliveryResponse, 'WebhookDeliveryList');

export const eventResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('event'),
    type: z.literal('transfer.updated'),
    createdAt: timestamp,
    data: z.strictObject({ transfer: transferResponse }),
  })
  .meta({ id: 'Event', description: 'the body a webhook delivery of this event sends, with `object`' });
export const eventListResponse = listResponse(eventResponse, 'EventList');

export const reconciliationBreakResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('reconciliation_break'),
    kind: z.enum(RECONCILIATION_BREAK_KINDS),
    status: z.enum(['open', 'resolved']),
    rail: z.string().nullable(),
    currency,
    statementDate: z.string().nullable(),
    railReference: z.string().nullable(),
    transferId: z.string().nullable(),
    expectedMinor: minor.nullable(),
    actualMinor: minor.nullable(),
    detail: z.string(),
    createdAt: timestamp,
    resolvedAt: timestamp.nullable(),
    resolution: z.string().nullable(),
    resolvedBy: z.string().nullable().meta({ description: 'the operator who approved its resolution; null when the books came to agree on their own' }),
  })
  .meta({ id: 'ReconciliationBreak' });
export const reconciliationBreakListResponse = listResponse(reconciliationBreakResponse, 'ReconciliationBreakList');

export const operatorActionResultResponse = z
  .strictObject({
    object: z.literal('operator_action_result'),
    transferId: z.string(),
    action: z.enum(OPERATOR_ACTIONS),
    accepted: z.boolean(),
    status: z.enum(TRANSFER_STATUSES).meta({ description: 'where the transfer stands once the action took effect' }),
    message: z.string(),
  })
  .meta({ id: 'OperatorActionResult' });

export const canceledTransferResponse = transferResponse
  .extend({ cancellation: z.strictObject({ accepted: z.boolean(), message: z.string() }) })
  .meta({ id: 'CanceledTransfer' });

export const operatorActionResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('operator_action'),
    transferId: z.string().nullable().meta({ description: 'null for an action on a break that concerns no transfer' }),
    action: z.string().meta({ description: '`retry`, `cancel`, `returnDecision`; four eyes: `approval_requested`, `approval_approved`, `approval_denied`, `break_resolved`; an admin\'s `client_settings_changed`' }),
    operator: z.string().meta({ description: 'who acted: the authenticated operator (`client:<id>` for a client), or the name given to a Temporal signal or Update' }),
    reason: z.string(),
    channel: z.enum(['api', 'temporal']),
    via: z.enum(['update', 'signal', 'approval', 'request']),
    outcome: z.enum(['accepted', 'refused']),
    detail: z.string(),
    statusBefore: z.enum([...TRANSFER_STATUSES, 'open', 'resolved']).nullable().meta({ description: "the transfer's status when the action arrived (a break's, for a break with no transfer); null for a client's settings" }),
    approvalId: z.string().nullable().meta({ description: 'the approval the action requested, decided or carried out' }),
    clientId: z.string().nullable().meta({ description: 'the client whose settings the action changed' }),
    at: timestamp,
  })
  .meta({ id: 'OperatorAction' });
export const operatorActionListResponse = listResponse(operatorActionResponse, 'OperatorActionList');

export const operatorResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('operator'),
    name: z.string(),
    role: z.enum(['viewer', 'operator', 'admin']),
    last4: z.string().meta({ description: "the key's last four characters, to tell keys apart" }),
    createdBy: z.string(),
    createdAt: timestamp,
    revokedAt: timestamp.nullable(),
  })
  .meta({ id: 'Operator' });
export const createdOperatorResponse = operatorResponse
  .extend({ apiKey: z.string().optional().meta({ description: 'shown once; only its hash is stored (absent from an idempotent replay)' }) })
  .meta({ id: 'CreatedOperator' });
export const operatorListResponse = listResponse(operatorResponse, 'OperatorList');

export const clientSettingsResponse = z
  .strictObject({
    id: z.string(),
    object: z.literal('client'),
    name: z.string(),
    approvalThresholdMinor: z.record(currency, minor).meta({ description: 'per currency, the payout amount at or above which a payout waits for an approval' }),
    createdAt: timestamp,
  })
  .meta({ id: 'ClientSettings' });

export const approvalResponse = z
  .strictObject({
    id: z.string().meta({ example: 'apr_01jc9z3m0q4w8e2r6t1y5u7i9o' }),
    object: z.literal('approval'),
    kind: z.enum(APPROVAL_KINDS),
    status: z.enum(APPROVAL_STATUSES).meta({ description: '`withdrawn` when the transfer it was about ended before anyone decided (canceled by its client, settled before a recall was decided, …)' }),
    subjectId: z.string().meta({ description: 'the transfer (`tr_…`) or break (`brk_…`) it is about' }),
    transferId: z.string().nullable(),
    requestedBy: z.string().meta({ description: 'the operator who asked (`client:<id>` for a payout over its threshold); may not decide it' }),
    requestReason: z.string(),
    decidedBy: z.string().nullable(),
    decisionReason: z.string().nullable(),
    createdAt: timestamp,
    decidedAt: timestamp.nullable(),
    executedAt: timestamp.nullable().meta({ description: 'when the decided action was carried out; null while it is not (yet)' }),
    outcome: z.string().nullable().meta({ description: 'what carrying out the action answered: `done: …` or `refused: …`' }),
  })
  .meta({ id: 'Approval' });
export const approvalListResponse = listResponse(approvalResponse, 'ApprovalList');
export const pendingApprovalResponse = z.strictObject({ approval: approvalResponse }).meta({ id: 'PendingApproval' });
