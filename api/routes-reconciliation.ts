/**
 * Ops routes for reconciliation: the breaks between our books and the bank's statements.
 *
 *   GET /v1/ops/reconciliation/breaks?status=open|resolved&kind=&limit=&startingAfter=
 *     → {object: "list", data: [break], hasMore}, newest first.
 */
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { RECONCILIATION_BREAK_KINDS, ReconciliationBreak } from '../db/schema';
import { breakView } from '../services/reconciliation';
import { listQuery, pageOf } from './lists';
import { documentRoute } from './openapi';
import { reconciliationBreakListResponse } from './responses';
import { parse } from './schemas';

const breaksQuery = listQuery('brk', {
  status: z.enum(['open', 'resolved'], { error: 'must be open or resolved' }).optional(),
  kind: z.enum(RECONCILIATION_BREAK_KINDS, { error: `must be one of ${RECONCILIATION_BREAK_KINDS.join(', ')}` }).optional(),
});

export function reconciliationRoutes(deps: { em: () => SqlEntityManager; requireOps: RequestHandler }): Router {
  const router = Router();
  documentRoute({
    method: 'get',
    path: '/v1/ops/reconciliation/breaks',
    tag: 'ops',
    auth: 'ops',
    summary: 'Reconciliation breaks between our books and the bank statements, newest first',
    query: breaksQuery,
    responses: { 200: { description: 'A page of breaks', schema: reconciliationBreakListResponse } },
  });
  router.get('/v1/ops/reconciliation/breaks', deps.requireOps, async (req, res) => {
    const query = parse(breaksQuery, req.query);
    const where: Record<string, unknown> = {};
    if (query.status) where.status = query.status;
    if (query.kind) where.kind = query.kind;
    const { rows, hasMore } = await pageOf(deps.em(), ReconciliationBreak, where, query);
    res.json({ object: 'list', data: rows.map(breakView), hasMore });
  });
  return router;
}
