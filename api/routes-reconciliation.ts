/**
 * Ops routes for reconciliation: the breaks between our books and the bank's statements.
 *
 *   GET  /v1/ops/reconciliation/breaks?status=open|resolved&kind=&limit=&startingAfter=
 *     → {object: "list", data: [break], hasMore}, newest first.
 *   POST /v1/ops/reconciliation/breaks/:id/resolve {resolution: "accept"|"write_off", reason}
 *     → 202 {approval}: booked (services/reconciliation.ts resolveBreakWithPostings) once another
 *     operator approves it (services/approvals.ts).
 */
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import type { Client as TemporalClient } from '@temporalio/client';
import { OPERATOR_REASON_MAX } from '../core/operator';
import { RECONCILIATION_BREAK_KINDS, ReconciliationBreak } from '../db/schema';
import { inTransaction } from '../ledger/ledger';
import { approvalView, requestApproval } from '../services/approvals';
import { BREAK_RESOLUTIONS, breakView, checkBreakResolution } from '../services/reconciliation';
import { opsScope, withIdempotency } from './idempotency';
import { listQuery, pageOf } from './lists';
import { documentRoute } from './openapi';
import { pendingApprovalResponse, reconciliationBreakListResponse } from './responses';
import { parse } from './schemas';

const breaksQuery = listQuery('brk', {
  status: z.enum(['open', 'resolved'], { error: 'must be open or resolved' }).optional(),
  kind: z.enum(RECONCILIATION_BREAK_KINDS, { error: `must be one of ${RECONCILIATION_BREAK_KINDS.join(', ')}` }).optional(),
});

const resolveSchema = z.strictObject({
  resolution: z.enum(BREAK_RESOLUTIONS, { error: 'must be accept or write_off' }).meta({
    description: "`accept`: the bank's amount is the payment's, the difference booked to bank_fees on the transfer and the transfer completes; `write_off`: the difference booked to suspense (an amount_mismatch's transfer completes too)",
  }),
  reason: z.string().trim().min(1, { error: 'must not be empty' }).max(OPERATOR_REASON_MAX, { error: `must be at most ${OPERATOR_REASON_MAX} characters` }),
});

export function reconciliationRoutes(deps: { orm: MikroORM; temporal: TemporalClient; requireViewer: RequestHandler; requireOperator: RequestHandler; operatorOf: (req: Request) => string }): Router {
  const router = Router();
  const em = () => deps.orm.em.fork() as SqlEntityManager;
  documentRoute({
    method: 'get',
    path: '/v1/ops/reconciliation/breaks',
    tag: 'ops',
    auth: 'ops',
    role: 'viewer',
    summary: 'Reconciliation breaks between our books and the bank statements, newest first',
    query: breaksQuery,
    responses: { 200: { description: 'A page of breaks', schema: reconciliationBreakListResponse } },
  });
  router.get('/v1/ops/reconciliation/breaks', deps.requireViewer, async (req, res) => {
    const query = parse(breaksQuery, req.query);
    const where: Record<string, unknown> = {};
    if (query.status) where.status = query.status;
    if (query.kind) where.kind = query.kind;
    const { rows, hasMore } = await pageOf(em(), ReconciliationBreak, where, query);
    res.json({ object: 'list', data: rows.map(breakView), hasMore });
  });

  documentRoute({
    method: 'post',
    path: '/v1/ops/reconciliation/breaks/:id/resolve',
    tag: 'ops',
    auth: 'ops',
    role: 'operator',
    summary: 'Resolve a break (accept or write off its difference): 202 with a pending approval, booked once another operator approves',
    description:
      'An `amount_mismatch` on a settled payment takes either resolution; an `unknown_reference` (a line Railyard never sent) only `write_off`. A `missing_from_statement` break ends when the payment shows, a `balance_mismatch` when the breaks behind it are resolved: resolving them is 409 `invalid_state`, as is a resolved break.',
    body: resolveSchema,
    responses: { 202: { description: 'The resolution, waiting for a second operator', schema: pendingApprovalResponse } },
    errors: [404],
  });
  router.post('/v1/ops/reconciliation/breaks/:id/resolve', deps.requireOperator, async (req, res) => {
    await withIdempotency(deps.orm, req, res, opsScope(req), async () => {
      const body = parse(resolveSchema, req.body);
      const b = await checkBreakResolution(deps.orm, String(req.params.id), body.resolution);
      const row = await inTransaction(deps.orm.em, (tx) =>
        requestApproval(tx, {
          kind: 'break_resolution',
          subjectId: b.id,
          transferId: b.transferId,
          requestedBy: deps.operatorOf(req),
          reason: body.reason,
          action: { kind: 'resolveBreak', resolution: body.resolution, reason: body.reason },
          statusBefore: 'open',
          detail: `${body.resolution} the ${b.kind} break ${b.id} (${b.expectedMinor ?? '-'} ours, ${b.actualMinor ?? '-'} the bank's, ${b.currency} minor units), once approved`,
        }),
      );
      return { status: 202, body: { approval: approvalView(row) } };
    });
  });
  return router;
}
