import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_TYPES } from '../core/transfer';

const TYPES = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

/** Registers Railyard's search attributes on a namespace; ones already there are left alone. */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  let known = new Set<string>();
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    known = new Set(Object.keys(existing.customAttributes ?? {}));
  } catch (err) {
    // The time-skipping test server can add attributes but not list them.
    if ((err as { code?: number }).code !== 12 /* UNIMPLEMENTED */) throw err;
  }
  const missing = Object.entries(SEARCH_ATTRIBUTE_TYPES).filter(([name]) => !known.has(name));
  if (missing.length === 0) return [];
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, TYPES[type]])),
  });
  return missing.map(([name]) => name);
}
