/**
 * Admin and four-eyes routes (SPEC §5):
 *   POST/GET /v1/ops/operators, DELETE /v1/ops/operators/:id   (admin) named keys with a role
 *   PATCH /v1/ops/clients/:id {approvalThresholdMinor}          (admin) a client's thresholds
 *   GET /v1/ops/approvals?status=&kind=                         (viewer) what waits for a second person
 *   POST /v1/ops/approvals/:id/approve | /deny {reason}         (operator) by someone other than the requester
 */
import type { Express, NextFunction, Request, Response } from 'express';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Client as TemporalClient } from '@temporalio/client';
import { z } from 'zod';
import { CURRENCY_CODES } from '../core/money';
import { OPERATOR_NAME_MAX, OPERATOR_REASON_MAX } from '../core/operator';
import { APPROVAL_KINDS, APPROVAL_STATUSES, Approval, Operator, OPERATOR_ROLES } from '../db/schema';
import { approvalView, decideApproval } from '../services/approvals';
import { changeApprovalThresholds } from '../services/clients';
import { createOperator, operatorView, revokeOperator } from '../services/operators';
import { opsScope, withIdempotency } from './idempotency';
import { listQuery, pageOf } from './lists';
import { documentRoute } from './openapi';
import { approvalListResponse, approvalResponse, clientSettingsResponse, createdOperatorResponse, operatorListResponse, operatorResponse } from './responses';
import { parse } from './schemas';

type Handler = (req: Request, res: Response, next: NextFunction) => Promise<void>;

export interface OperatorRouteDeps {
  orm: MikroORM;
  temporal: TemporalClient;
  requireViewer: Handler;
  requireOperator: Handler;
  requireAdmin: Handler;
  operatorOf: (req: Request) => string;
}

const createOperatorSchema = z.strictObject({
  // No colon: `client:<id>` names a client in the audit log, never a person.
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]*$/, { error: 'must be letters, digits and . _ @ - (starting with a letter or digit)' })
    .max(OPERATOR_NAME_MAX, { error: `must be at most ${OPERATOR_NAME_MAX} characters` })
    .meta({ description: 'the person, as the audit log will name them; never reused' }),
  role: z.enum(OPERATOR_ROLES, { error: `must be one of ${OPERATOR_ROLES.join(', ')}` }).meta({ description: '`viewer` reads ops routes; `operator` also acts and decides approvals; `admin` also manages operators and client settings' }),
});

/** One optional entry per ISO 4217 code: an unknown currency is refused by the schema itself. */
const threshold = z.int({ error: 'must be a non-negative integer number of minor units, or null' }).min(0, { error: 'must not be negative' }).max(Number.MAX_SAFE_INTEGER, { error: 'is beyond the safe integer range' }).nullable();
const updateClientSchema = z.strictObject({
  reason: z.string().trim().max(OPERATOR_REASON_MAX, { error: `must be at most ${OPERATOR_REASON_MAX} characters` }).optional().meta({ description: 'why, for the audit log' }),
  approvalThresholdMinor: z
    .strictObject(Object.fromEntries(CURRENCY_CODES.map((c) => [c, threshold.optional()])))
    .meta({ description: 'per ISO 4217 currency, the payout amount (minor units) at or above which a payout waits for an approval; null removes that currency\'s threshold; currencies not named keep theirs' }),
});

const decisionSchema = z.strictObject({
  reason: z.string().trim().min(1, { error: 'must not be empty' }).max(OPERATOR_REASON_MAX, { error: `must be at most ${OPERATOR_REASON_MAX} characters` }),
});

const operatorListQuery = listQuery('op');
const approvalListQuery = listQuery('apr', {
  status: z.enum(APPROVAL_STATUSES, { error: `must be one of ${APPROVAL_STATUSES.join(', ')}` }).optional().meta({ description: 'only approvals in this status' }),
  kind: z.enum(APPROVAL_KINDS, { error: `must be one of ${APPROVAL_KINDS.join(', ')}` }).optional(),
});

function clientSettingsView(c: { id: string; name: string; createdAt: Date; approvalThresholdMinor?: Record<string, number> | null }) {
  return { id: c.id, object: 'client', name: c.name, approvalThresholdMinor: c.approvalThresholdMinor ?? {}, createdAt: c.createdAt.toISOString() };
}

export function registerOperatorRoutes(app: Express, deps: OperatorRouteDeps): void {
  const { orm } = deps;
  const em = () => orm.em.fork() as SqlEntityManager;

  documentRoute({
    method: 'post',
    path: '/v1/ops/operators',
    tag: 'ops',
    auth: 'ops',
    role: 'admin',
    summary: 'Create an operator: a named key with a role',
    description: 'The key is shown this once and stored only as its hash. A name is never reused (409), so the audit log always means one person.',
    body: createOperatorSchema,
    responses: { 201: { description: 'The operator; `apiKey` is shown this once', schema: createdOperatorResponse } },
  });
  app.post('/v1/ops/operators', deps.requireAdmin, async (req, res) => {
    await withIdempotency(orm, req, res, opsScope(req), async () => {
      const body = parse(createOperatorSchema, req.body);
      const { operator, apiKey } = await createOperator(em(), { ...body, createdBy: deps.operatorOf(req) });
      return { status: 201, body: { ...operatorView(operator), apiKey }, shownOnce: ['apiKey'] };
    });
  });

  documentRoute({
    method: 'get',
    path: '/v1/ops/operators',
    tag: 'ops',
    auth: 'ops',
    role: 'admin',
    summary: 'Operators, revoked ones included (never their keys), newest first',
    query: operatorListQuery,
    responses: { 200: { description: 'A page of operators', schema: operatorListResponse } },
  });
  app.get('/v1/ops/operators', deps.requireAdmin, async (req, res) => {
    const query = parse(operatorListQuery, req.query);
    const page = await pageOf(em(), Operator, {}, query);
    res.json({ object: 'list', data: page.rows.map(operatorView), hasMore: page.hasMore });
  });

  documentRoute({
    method: 'delete',
    path: '/v1/ops/operators/:id',
    tag: 'ops',
    auth: 'ops',
    role: 'admin',
    summary: "Revoke an operator's key: from now on it gets 401",
    description: 'Revoking `bootstrap` holds until OPS_API_KEY is changed (a new key brings it back at the next start).',
    responses: { 200: { description: 'The revoked operator', schema: operatorResponse } },
    errors: [404],
  });
  app.delete('/v1/ops/operators/:id', deps.requireAdmin, async (req, res) => {
    res.json(operatorView(await revokeOperator(em(), String(req.params.id))));
  });

  documentRoute({
    method: 'patch',
    path: '/v1/ops/clients/:id',
    tag: 'ops',
    auth: 'ops',
    role: 'admin',
    summary: "Change a client's settings: its approval thresholds",
    description: 'A payout at or above its currency\'s threshold holds its funds, then waits in `needs_approval` until an operator approves or denies it. Applies to payouts started from now on. A change is in the audit log (`client_settings_changed`, `GET /v1/ops/audit?clientId=`), before and after, with the admin and reason.',
    body: updateClientSchema,
    responses: { 200: { description: "The client's settings", schema: clientSettingsResponse } },
    errors: [404],
  });
  app.patch('/v1/ops/clients/:id', deps.requireAdmin, async (req, res) => {
    const body = parse(updateClientSchema, req.body);
    const client = await changeApprovalThresholds(em(), String(req.params.id), body.approvalThresholdMinor, { operator: deps.operatorOf(req), reason: body.reason ?? '' });
    res.json(clientSettingsView(client));
  });

  documentRoute({
    method: 'get',
    path: '/v1/ops/approvals',
    tag: 'ops',
    auth: 'ops',
    role: 'viewer',
    summary: 'Approvals (four eyes), newest first: `?status=pending` is what waits for a second person',
    query: approvalListQuery,
    responses: { 200: { description: 'A page of approvals', schema: approvalListResponse } },
  });
  app.get('/v1/ops/approvals', deps.requireViewer, async (req, res) => {
    const query = parse(approvalListQuery, req.query);
    const where: Record<string, unknown> = {};
    if (query.status) where.status = query.status;
    if (query.kind) where.kind = query.kind;
    const page = await pageOf(em(), Approval, where, query);
    res.json({ object: 'list', data: page.rows.map(approvalView), hasMore: page.hasMore });
  });

  for (const decision of ['approve', 'deny'] as const) {
    documentRoute({
      method: 'post',
      path: `/v1/ops/approvals/:id/${decision}`,
      tag: 'ops',
      auth: 'ops',
      role: 'operator',
      summary: decision === 'approve' ? 'Approve: the action asked for is carried out now' : 'Deny: nothing is done (a payout over its threshold is canceled and its hold voided)',
      description:
        'By an operator other than the one who asked (403 `four_eyes_required`); 409 `invalid_state` once decided. The answer is the approval, with `outcome` saying what carrying it out answered. A 503 means the decision is recorded but its action did not reach the workflow: the same operator approving again finishes it.',
      body: decisionSchema,
      responses: { 200: { description: 'The decided approval', schema: approvalResponse } },
      errors: [404, 503],
    });
    app.post(`/v1/ops/approvals/:id/${decision}`, deps.requireOperator, async (req, res) => {
      await withIdempotency(orm, req, res, opsScope(req), async () => {
        const body = parse(decisionSchema, req.body);
        const decided = await decideApproval(deps, { approvalId: String(req.params.id), decision, operator: deps.operatorOf(req), reason: body.reason });
        return { status: 200, body: approvalView(decided) };
      });
    });
  }
}
