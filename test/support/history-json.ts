/**
 * Reads a workflow history in proto JSON (what `temporal workflow show --output json` and the
 * Temporal UI export) into the History type replay takes.
 *
 * The SDK's own `historyFromJSON` (@temporalio/common) parses with its copy of protobufjs, but the
 * History type comes from @temporalio/proto, which npm installed with a second copy; protobufjs
 * then refuses the type as foreign ("type must be a Type"). Parsing with the protobufjs that
 * @temporalio/proto itself resolves keeps type and parser from the same copy, whatever the layout.
 */
import path from 'node:path';
import * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';
import type { History } from '@temporalio/common/lib/proto-utils';

const protoDir = path.dirname(require.resolve('@temporalio/proto/package.json'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { fromJson } = require(require.resolve('protobufjs/ext/protojson', { paths: [protoDir] })) as { fromJson: (type: unknown, json: unknown, options: unknown) => unknown };
const historyType = (patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown }).lookupType('temporal.api.history.v1.History');

export function historyFromProtoJson(json: unknown): History {
  const events = (json as { events?: unknown })?.events;
  if (!Array.isArray(events) || events.length === 0) throw new TypeError('not a history: expected {"events": [...]}');
  const history = fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a history');
  return history as History;
}
