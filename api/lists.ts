/**
 * Cursor pagination, the same on every list: `limit` (1–100, default 10), `startingAfter` (the ID
 * of the last item of the previous page), and creation-time filters `createdGte` / `createdLt`
 * (ISO 8601 timestamps with an offset) selecting `createdGte <= createdAt < createdLt`. Items come
 * newest first; IDs are time-ordered, so the page after an item is simply the items with smaller
 * IDs. The answer is `{object: "list", data, hasMore}`.
 *
 * A `createdLt` at or before `createdGte` is an empty range, answered with an empty page rather
 * than refused: each value is valid on its own, the relation between two query parameters cannot
 * be written in the OpenAPI document's schema (only in its descriptions), and a request the
 * document allows must not be answered 400.
 */
import type { EntityName, FilterQuery } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { z } from 'zod';

export const LIST_LIMIT_MAX = 100;

const timestamp = (what: string) =>
  z.iso.datetime({ offset: true, error: `must be an ISO 8601 timestamp with a time zone, such as 2026-01-31T00:00:00Z` }).meta({ description: what });

/** The list query for objects whose IDs start with `prefix` (`tr`, `key`, …), with the list's own filters. */
export function listQuery<F extends z.ZodRawShape = {}>(prefix: string, filters?: F) {
  return z
    .strictObject({
      ...(filters as F),
      limit: z.coerce
        .number({ error: 'must be an integer from 1 to 100' })
        .int({ error: 'must be an integer from 1 to 100' })
        .min(1, { error: 'must be an integer from 1 to 100' })
        .max(LIST_LIMIT_MAX, { error: 'must be an integer from 1 to 100' })
        .default(10)
        .meta({ description: 'page size, 1–100' }),
      startingAfter: z
        .string()
        .regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), { error: `must be the ID of a listed object (${prefix}_…)` })
        .optional()
        .meta({ description: 'the last ID of the previous page' }),
      createdGte: timestamp('only objects created at or after this time').optional(),
      createdLt: timestamp('only objects created before this time; with `createdGte`, it should be later: one at or before `createdGte` selects nothing (an empty page)').optional(),
    });
}

export interface ListQuery {
  limit: number;
  startingAfter?: string;
  createdGte?: string;
  createdLt?: string;
}

/** One page of `entity` matching `where`, newest first, as the query asks: limit + 1 rows read to know whether more follow. */
export async function pageOf<T extends { id: string; createdAt: Date }>(
  em: SqlEntityManager,
  entity: EntityName<T>,
  where: Record<string, unknown>,
  query: ListQuery,
): Promise<{ rows: T[]; hasMore: boolean }> {
  const filter: Record<string, unknown> = { ...where };
  if (query.startingAfter) filter.id = { $lt: query.startingAfter };
  const created: Record<string, Date> = {};
  if (query.createdGte) created.$gte = new Date(query.createdGte);
  if (query.createdLt) created.$lt = new Date(query.createdLt);
  if (Object.keys(created).length) filter.createdAt = created;
  const rows = (await em.fork().find(entity, filter as FilterQuery<T>, { orderBy: { id: 'desc' } as never, limit: query.limit + 1 })) as T[];
  return { rows: rows.slice(0, query.limit), hasMore: rows.length > query.limit };
}
