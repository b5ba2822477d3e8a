/**
 * Operator routes over the transfer workflow, and the client's own cancel.
 *
 * Retry, cancel and return-decision call the workflow's Updates (validated there against the
 * transfer's current state) and answer with their result; a refusal is 409 `invalid_state` with the workflow's reason.
 * The update ID is derived from the Idempotency-Key, so a repeated request is the same action to
 * Temporal as well, and the audit log (written by the workflow, or by the worker for refused
 * Updates) holds it once. Only when the workflow is no longer running does this file write the
 * refusal itself, under the same ID.
 *
 * Operator identity: the key says who acts (services/operators.ts); the audit records that name,
 * never one the caller types. Four eyes (services/approvals.ts): a cancel that would recall a
 * submitted payment, and accepting a late return, answer 202 with a pending approval and take
 * effect when another operator approves; everything else acts at once.
 */
import { createHash } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { WorkflowUpdateFailedError, type Client as TemporalClient } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { AppError, invalid } from '../core/errors';
import { auditDetail, OPERATOR_REASON_MAX, RAIL_CAN_RECALL, RETURN_DECISIONS, type OperatorActionKind, type OperatorCommand, type OperatorResult, type ReturnDecisionCommand } from '../core/operator';
import { workflowIdFor, type Rail, type TransferStatus } from '../core/transfer';
import { OperatorAction, Transfer, type OperatorActionRow } from '../db/schema';
import { writeOperatorAction } from '../activities/operator';
import { endUnstartedTransfer } from '../transfers/status';
import { transferViews } from '../transfers/view';
import { approvalView, requestApproval } from '../services/approvals';
import { inTransaction } from '../ledger/ledger';
import { cancelUpdate, retryUpdate, statusQuery } from '../workflows/transfer';
import { returnDecisionUpdate } from '../workflows/transfer';
import { opsScope, withIdempotency } from './idempotency';
import { pageOf } from './lists';
import { documentRoute } from './openapi';
import { canceledTransferResponse, operatorActionListResponse, operatorActionResultResponse, pendingApprovalResponse, transferListResponse } from './responses';
import { parse, transferListQuery } from './schemas';

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

export interface OpsRouteDeps {
  orm: MikroORM;
  temporal: TemporalClient;
  requireViewer: Handler;
  requireOperator: Handler;
  requireClient: Handler;
  clientIdOf: (req: Request) => string;
  /** The authenticated operator's name. */
  operatorOf: (req: Request) => string;
}

const reason = z.string().trim().min(1, { error: 'must not be empty' }).max(OPERATOR_REASON_MAX, { error: `must be at most ${OPERATOR_REASON_MAX} characters` });
const opsActionSchema = z.strictObject({ reason });
const returnDecisionSchema = z.strictObject({
  decision: z.enum(RETURN_DECISIONS).meta({ description: '`accept` (through an approval) credits the client back and ends the transfer `returned`; `dishonor` leaves it `completed` and records the dishonor' }),
  reason,
});

/** Who acts is the key's operator: a name in the body is refused, so no one can act in another's name. */
function parseOpsBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  if (body && typeof body === 'object' && 'operator' in body) throw invalid('operator', 'operator is not accepted: who acts is the operator whose key authenticates the request');
  return parse(schema, body);
}
const clientCancelSchema = z.strictObject({ reason: reason.optional() });

const auditListSchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  startingAfter: z.string().optional(),
  transferId: z.string().optional(),
  approvalId: z.string().optional().meta({ description: 'only the entries of this approval: its request, decision and what carried it out' }),
  clientId: z.string().optional().meta({ description: "only the changes to this client's settings (its approval thresholds)" }),
});

function auditView(row: OperatorActionRow) {
  return {
    id: row.id,
    object: 'operator_action',
    transferId: row.transferId,
    action: row.action,
    operator: row.operator,
    reason: row.reason,
    channel: row.channel,
    via: row.via,
    outcome: row.outcome,
    detail: row.detail,
    statusBefore: row.statusBefore,
    approvalId: row.approvalId ?? null,
    clientId: row.clientId ?? null,
    at: row.at.toISOString(),
  };
}

export function registerOpsRoutes(app: Express, deps: OpsRouteDeps): void {
  const { orm, temporal } = deps;
  const em = () => orm.em.fork() as SqlEntityManager;

  /** Runs the Update and maps its refusal to 409; records the refusal itself only when no workflow could. */
  async function act(kind: OperatorActionKind, transferId: string, command: OperatorCommand, updateId: string, clientId?: string): Promise<OperatorResult & { object: string; transferId: string }> {
    const transfer = await em().findOne(Transfer, clientId ? { id: transferId, clientId } : { id: transferId });
    if (!transfer) throw new AppError('not_found', `no transfer ${transferId}`, { param: 'id' });
    const handle = temporal.workflow.getHandle(workflowIdFor(transferId));
    let result: OperatorResult;
    try {
      const update = { retry: retryUpdate, cancel: cancelUpdate, returnDecision: returnDecisionUpdate }[kind] as typeof retryUpdate;
      result = await handle.executeUpdate(update, { args: [command], updateId });
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) {
        const cause = err.cause instanceof ApplicationFailure ? err.cause : undefined;
        throw new AppError('invalid_state', cause?.message ?? `the ${kind} was refused`, { cause: err });
      }
      if (err instanceof WorkflowNotFoundError) {
        // No workflow ever took on a `created` transfer (its start failed): nothing was held, and a
        // cancel ends it here. If a workflow's hold got there first, the workflow answers instead.
        if (kind === 'cancel' && transfer.status === 'created') {
          if (await endUnstartedTransfer(em(), transferId, 'canceled', `canceled by ${command.operator} before its workflow started: ${command.reason}`)) {
            const message = 'canceled before its workflow started; nothing was held or sent';
            await writeOperatorAction(orm, {
              id: updateId,
              transferId,
              action: kind,
              operator: command.operator,
              reason: command.reason,
              channel: 'api',
              via: 'update',
              outcome: 'accepted',
              detail: message,
              statusBefore: 'created',
              at: new Date().toISOString(),
            });
            return { object: 'operator_action_result', transferId, action: kind, accepted: true, status: 'canceled' as TransferStatus, message };
          }
          return act(kind, transferId, command, updateId, clientId);
        }
        const message = `transfer ${transferId} is ${transfer.status} and its workflow has ended; there is nothing to ${kind}`;
        await writeOperatorAction(orm, {
          id: updateId,
          transferId,
          action: kind,
          operator: command.operator,
          reason: command.reason,
          channel: 'api',
          via: 'update',
          outcome: 'refused',
          detail: auditDetail(kind, command, message),
          statusBefore: transfer.status as TransferStatus,
          at: new Date().toISOString(),
        });
        throw new AppError('invalid_state', message, { cause: err });
      }
      throw new AppError('service_unavailable', `the ${kind} could not reach the transfer's workflow; retry with the same Idempotency-Key`, { cause: err });
    }
    // Accepted, then refused by the bank (a recall answered RJCR): nothing changed, so it is a 409 with the bank's reason.
    if (!result.accepted) throw new AppError('invalid_state', result.message);
    return { object: 'operator_action_result', transferId, ...result };
  }

  /** One update ID per (caller, Idempotency-Key): a repeated request is the same action. */
  const updateIdFor = (req: Request, scope: string, kind: OperatorActionKind) =>
    `api-${kind}-${createHash('sha256').update(`${scope}\n${req.get('Idempotency-Key') ?? ''}\n${req.params.id}`).digest('hex').slice(0, 32)}`;

  /**
   * Inside the request: records a pending approval for an action on a transfer and answers 202.
   * The transfer must exist; the action is validated again by the workflow when it is carried out.
   */
  async function askApproval(req: Request, kind: 'recall' | 'return_accept', transferId: string, action: Parameters<typeof requestApproval>[1]['action'], detail: string) {
    const transfer = await em().findOne(Transfer, { id: transferId });
    if (!transfer) throw new AppError('not_found', `no transfer ${transferId}`, { param: 'id' });
    const reasonText = (action as { reason: string }).reason;
    const row = await inTransaction(orm.em, (tx) =>
      requestApproval(tx, { kind, subjectId: transferId, transferId, requestedBy: deps.operatorOf(req), reason: reasonText, action, statusBefore: transfer.status as TransferStatus, detail }),
    );
    return { status: 202, body: { approval: approvalView(row) } };
  }

  /** 404 or 409 unless the transfer's workflow waits on a return decision: an approval for anything else could only be refused. */
  async function waitsOnReturnDecision(transferId: string): Promise<void> {
    const transfer = await em().findOne(Transfer, { id: transferId });
    if (!transfer) throw new AppError('not_found', `no transfer ${transferId}`, { param: 'id' });
    let state;
    try {
      state = await temporal.workflow.getHandle(workflowIdFor(transferId)).query(statusQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new AppError('invalid_state', `transfer ${transferId} is ${transfer.status} and its workflow has ended; there is no return to accept`, { cause: err });
      throw new AppError('service_unavailable', `could not ask transfer ${transferId}'s workflow whether it waits on a return decision; retry with the same Idempotency-Key`, { cause: err });
    }
    if (state.waitingFor?.step !== 'return decision') throw new AppError('invalid_state', `transfer ${transferId} is ${state.status} and waits on no return decision`);
  }

  documentRoute({
    method: 'post',
    path: '/v1/ops/transfers/:id/retry',
    tag: 'ops',
    auth: 'ops',
    role: 'operator',
    summary: 'Retry the step a stuck transfer waits on (needs_attention or unknown)',
    description: 'Calls the workflow Update `retry` and answers with its result; the audit names the operator whose key sent it. 409 `invalid_state` when the current state refuses it.',
    body: opsActionSchema,
    responses: { 200: { description: "The Update's result", schema: operatorActionResultResponse } },
    errors: [404, 503],
  });
  app.post('/v1/ops/transfers/:id/retry', deps.requireOperator, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      const body = parseOpsBody(opsActionSchema, req.body);
      const command: OperatorCommand = { reason: body.reason, operator: deps.operatorOf(req), channel: 'api' };
      return { status: 200, body: await act('retry', String(req.params.id), command, updateIdFor(req, opsScope(req), 'retry')) };
    });
  });

  documentRoute({
    method: 'post',
    path: '/v1/ops/transfers/:id/cancel',
    tag: 'ops',
    auth: 'ops',
    role: 'operator',
    summary: 'Cancel a transfer with compensation; a submitted payment the rail can recall needs an approval',
    description:
      "Before submission: calls the workflow Update `cancel` and answers 200 with its result. A `submitted` payment on a rail that can recall it (sepa): answers 202 with a pending `recall` approval; the recall is asked of the bank once another operator approves (POST /v1/ops/approvals/{id}/approve). 409 `invalid_state` when the current state refuses it.",
    body: opsActionSchema,
    responses: { 200: { description: "The Update's result", schema: operatorActionResultResponse }, 202: { description: 'A recall, waiting for a second operator', schema: pendingApprovalResponse } },
    errors: [404, 503],
  });
  app.post('/v1/ops/transfers/:id/cancel', deps.requireOperator, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      const body = parseOpsBody(opsActionSchema, req.body);
      const transferId = String(req.params.id);
      const transfer = await em().findOne(Transfer, { id: transferId });
      // Money the bank holds as submitted can only come back by a recall: that takes four eyes.
      if (transfer?.status === 'submitted' && RAIL_CAN_RECALL[transfer.rail as Rail]) {
        return askApproval(req, 'recall', transferId, { kind: 'cancel', reason: body.reason }, `recall ${transfer.rail} payment of ${transferId} (a camt.056 cancel), once approved`);
      }
      const command: OperatorCommand = { reason: body.reason, operator: deps.operatorOf(req), channel: 'api' };
      return { status: 200, body: await act('cancel', transferId, command, updateIdFor(req, opsScope(req), 'cancel')) };
    });
  });

  documentRoute({
    method: 'post',
    path: '/v1/ops/transfers/:id/return-decision',
    tag: 'ops',
    auth: 'ops',
    role: 'operator',
    summary: 'Accept or dishonor a late (or R61–R77) return the transfer waits on in needs_attention',
    description:
      "`dishonor` calls the workflow Update `returnDecision` and answers 200 with its result once it took effect: the transfer stays `completed`, the dishonor recorded. `accept` answers 202 with a pending `return_accept` approval; once another operator approves, the transfer becomes `returned` and the client is credited back with new postings. 409 `invalid_state` when the transfer waits on no return decision.",
    body: returnDecisionSchema,
    responses: { 200: { description: "The Update's result", schema: operatorActionResultResponse }, 202: { description: 'Accepting the return, waiting for a second operator', schema: pendingApprovalResponse } },
    errors: [404, 503],
  });
  app.post('/v1/ops/transfers/:id/return-decision', deps.requireOperator, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      const body = parseOpsBody(returnDecisionSchema, req.body);
      const transferId = String(req.params.id);
      if (body.decision === 'accept') {
        await waitsOnReturnDecision(transferId);
        return askApproval(req, 'return_accept', transferId, { kind: 'returnDecision', decision: 'accept', reason: body.reason }, `accept the return of ${transferId} (the client credited back), once approved`);
      }
      const command: ReturnDecisionCommand = { decision: body.decision, reason: body.reason, operator: deps.operatorOf(req), channel: 'api' };
      return { status: 200, body: await act('returnDecision', transferId, command, updateIdFor(req, opsScope(req), 'returnDecision')) };
    });
  });

  documentRoute({
    method: 'post',
    path: '/v1/transfers/:id/cancel',
    tag: 'transfers',
    auth: 'client',
    summary: 'Cancel a transfer before it is submitted to the bank',
    description: '409 `invalid_state` once the payment was sent to the bank. A recall (sepa, before settlement) moves money that may not come back: it needs an approval by a second person, which an operator asks for with `POST /v1/ops/transfers/:id/cancel` (four eyes).',
    body: clientCancelSchema,
    responses: { 200: { description: 'The transfer, with the cancellation\'s outcome', schema: canceledTransferResponse } },
    errors: [404, 503],
  });
  app.post('/v1/transfers/:id/cancel', deps.requireClient, async (req, res) => {
    const clientId = deps.clientIdOf(req);
    await withIdempotency(orm, req, res, clientId, async () => {
      const body = parse(clientCancelSchema, req.body);
      const command: OperatorCommand = { reason: body.reason ?? 'canceled by the client', operator: `client:${clientId}`, channel: 'api' };
      const result = await act('cancel', String(req.params.id), command, updateIdFor(req, clientId, 'cancel'), clientId);
      const [transfer] = await transferViews(em(), [await em().findOneOrFail(Transfer, { id: String(req.params.id) })]);
      return { status: 200, body: { ...transfer, cancellation: { accepted: result.accepted, message: result.message } } };
    });
  });

  documentRoute({
    method: 'get',
    path: '/v1/ops/transfers',
    tag: 'ops',
    auth: 'ops',
    role: 'viewer',
    summary: "Any client's transfers, newest first (e.g. `?status=needs_attention`)",
    query: transferListQuery,
    responses: { 200: { description: 'A page of transfers', schema: transferListResponse } },
  });
  app.get('/v1/ops/transfers', deps.requireViewer, async (req, res) => {
    const query = parse(transferListQuery, req.query);
    const { rows, hasMore } = await pageOf(em(), Transfer, query.status ? { status: query.status } : {}, query);
    res.json({ object: 'list', data: await transferViews(em(), rows), hasMore });
  });

  documentRoute({
    method: 'get',
    path: '/v1/ops/audit',
    tag: 'ops',
    auth: 'ops',
    role: 'viewer',
    summary: 'Operator actions, accepted or refused: who, what, why, when, outcome; newest first',
    query: auditListSchema,
    responses: { 200: { description: 'A page of operator actions', schema: operatorActionListResponse } },
    errors: [404],
  });
  app.get('/v1/ops/audit', deps.requireViewer, async (req, res) => {
    const query = parse(auditListSchema, req.query);
    const where: Record<string, unknown> = {};
    if (query.transferId) where.transferId = query.transferId;
    if (query.approvalId) where.approvalId = query.approvalId;
    if (query.clientId) where.clientId = query.clientId;
    if (query.startingAfter) {
      const after = await em().findOne(OperatorAction, { id: query.startingAfter });
      // A cursor naming no entry is 404 like any unknown ID: the request itself is well formed.
      if (!after) throw new AppError('not_found', `no audit entry ${query.startingAfter}`, { param: 'startingAfter' });
      where.$or = [{ at: { $lt: after.at } }, { at: after.at, id: { $lt: after.id } }];
    }
    const rows = await em().find(OperatorAction, where, { orderBy: { at: 'desc', id: 'desc' }, limit: query.limit + 1 });
    res.json({ object: 'list', data: rows.slice(0, query.limit).map(auditView), hasMore: rows.length > query.limit });
  });
}
