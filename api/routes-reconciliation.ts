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
import { parse } from './schemas';

const breaksQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  startingAfter: z.string().regex(/^brk_[0-9a-z]{26}$/, { error: 'must be a break ID (brk_…)' }).optional(),
  status: z.enum(['open', 'resolved'], { error: 'must be open or resolved' }).optional(),
  kind: z.enum(RECONCILIATION_BREAK_KINDS, { error: `must be one of ${RECONCILIATION_BREAK_KINDS.join(', ')}` }).optional(),
});

export function reconciliationRoutes(deps: { em: () => SqlEntityManager; requireOps: RequestHandler }): Router {
  const router = Router();
  router.get('/v1/ops/reconciliation/breaks', deps.requireOps, async (req, res) => {
    const query = parse(breaksQuery, req.query);
    const where: Record<string, unknown> = {};
    if (query.status) where.status = query.status;
    if (query.kind) where.kind = query.kind;
    if (query.startingAfter) where.id = { $lt: query.startingAfter };
    const rows = await deps.em().find(ReconciliationBreak, where, { orderBy: { id: 'desc' }, limit: query.limit + 1 });
    res.json({ object: 'list', data: rows.slice(0, query.limit).map(breakView), hasMore: rows.length > query.limit });
  });
  return router;
}
