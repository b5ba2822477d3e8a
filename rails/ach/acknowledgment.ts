/**
 * ACH file acknowledgment: the ODFI's answer to a file it received, sent on its own after the
 * file's edits ran. NACHA defines no acknowledgment format (each ODFI has its own report); the
 * simulated ODFI sends this JSON document, identifying the file as ODFIs de-duplicate files (origin,
 * creation date and time, File ID Modifier) and giving each entry's fate by trace number:
 * `accepted`, or `rejected` with the rail's code. A file refused whole says `rejected` at the top
 * and lists the entries it carried, each `rejected` with code `file_rejected` (none was taken).
 */

export const ACH_ACK_TYPE = 'ach.file_ack.v1';

export interface AchFileAck {
  type: typeof ACH_ACK_TYPE;
  /** The acknowledgment's own ID (unique per ODFI). */
  id: string;
  createdAt: string;
  file: { immediateOrigin: string; creationDate: string; creationTime: string; idModifier: string };
  status: 'accepted' | 'rejected';
  entryCount: number;
  totalCreditMinor: number;
  entries: { traceNumber: string; status: 'accepted' | 'rejected'; code: string | null }[];
}

/** The code an entry of a file refused whole carries. */
export const FILE_REJECTED_CODE = 'file_rejected';

export function buildAchAck(ack: Omit<AchFileAck, 'type'>): string {
  for (const e of ack.entries) if (!/^\d{15}$/.test(e.traceNumber)) throw new RangeError(`trace number ${e.traceNumber} is not 15 digits`);
  return JSON.stringify({ type: ACH_ACK_TYPE, ...ack });
}

export class AchAckError extends Error {}

/** Reads an acknowledgment; anything not in this shape is an AchAckError naming the field. */
export function parseAchAck(raw: string): AchFileAck {
  let doc: any;
  try {
    doc = JSON.parse(raw);
  } catch {
    throw new AchAckError('not JSON');
  }
  if (doc?.type !== ACH_ACK_TYPE) throw new AchAckError(`type: expected ${ACH_ACK_TYPE}`);
  if (typeof doc.id !== 'string' || doc.id === '') throw new AchAckError('id: required');
  if (doc.status !== 'accepted' && doc.status !== 'rejected') throw new AchAckError('status: accepted or rejected');
  if (!Array.isArray(doc.entries)) throw new AchAckError('entries: required');
  doc.entries.forEach((e: any, i: number) => {
    if (typeof e?.traceNumber !== 'string' || !/^\d{15}$/.test(e.traceNumber)) throw new AchAckError(`entries[${i}].traceNumber: 15 digits`);
    if (e.status !== 'accepted' && e.status !== 'rejected') throw new AchAckError(`entries[${i}].status: accepted or rejected`);
    if (e.code !== null && (typeof e.code !== 'string' || !/^[A-Za-z0-9_]{2,16}$/.test(e.code))) throw new AchAckError(`entries[${i}].code: a rail code or null`);
  });
  return doc as AchFileAck;
}
