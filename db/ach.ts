/**
 * ACH: the file windows entries queue in, the entries, the NACHA files as sent, and the notifications
 * of change (COR) received on paid entries.
 */
import { BigIntType, EntitySchema } from '@mikro-orm/core';
import { at, id } from './columns';

/** An ACH file window: entries queue in it until its cut-off, then go out in one file, once. */
export interface AchWindowRow {
  /** `ach-YYYYMMDDTHHMMZ` or `ach-demo-<ms>` (core/ach-windows.ts). */
  id: string;
  cutoffAt: Date;
  /** open → closed (no more entries; the file is being sent) → sent. */
  status: 'open' | 'closed' | 'sent';
  /** The window's first file (ach_files), fixed before anything is sent. */
  fileId: string | null;
  entryCount: number;
  createdAt: Date;
  updatedAt: Date;
}
export const AchWindow = new EntitySchema<AchWindowRow>({
  name: 'AchWindow',
  tableName: 'ach_windows',
  properties: {
    id: { type: 'string', length: 40, primary: true },
    cutoffAt: at(),
    status: { type: 'string', length: 12 },
    fileId: { type: 'string', length: 40, nullable: true },
    entryCount: { type: 'integer' },
    createdAt: at(),
    updatedAt: at(),
  },
});

/** One payout's entry in an ACH window: the intent, written before the file, unique per attempt. */
export interface AchEntryRow {
  attemptId: string;
  transferId: string;
  traceNumber: string;
  windowId: string;
  entryClass: 'PPD' | 'CCD';
  amountMinor: number;
  /**
   * queued → in_file → accepted | rejected (with the bank's code) | file_refused (the bank refused
   * the whole file); queued → canceled (withdrawn before its window closed); queued → refused
   * (Railyard could not write it into a NACHA file: `refusal` says why; nothing was sent). A retry
   * after a refused file moves the entry, same trace number, back to queued in a later window; an
   * entry whose file's fate is unknown stays in that file, which is sent again byte for byte.
   */
  status: 'queued' | 'in_file' | 'accepted' | 'rejected' | 'file_refused' | 'canceled' | 'refused';
  code: string | null;
  effectiveDate: string | null;
  /** The file (ach_files) that carries the entry, set when its window's files are planned. */
  fileId: string | null;
  refusal: string | null;
  createdAt: Date;
  updatedAt: Date;
}
export const AchEntry = new EntitySchema<AchEntryRow>({
  name: 'AchEntry',
  tableName: 'ach_entries',
  indexes: [{ properties: ['windowId', 'status'] }],
  properties: {
    attemptId: { type: 'string', length: 40, primary: true },
    transferId: { type: 'string', length: 40 },
    // Unique per ODFI and file date, not for all time: lookups by trace number take the newest entry.
    traceNumber: { type: 'string', length: 15, index: true },
    windowId: { type: 'string', length: 40 },
    entryClass: { type: 'string', length: 3 },
    amountMinor: { type: new BigIntType('number') },
    status: { type: 'string', length: 12 },
    code: { type: 'string', length: 8, nullable: true },
    effectiveDate: { type: 'string', length: 10, nullable: true },
    fileId: { type: 'string', length: 40, nullable: true },
    refusal: { type: 'string', length: 200, nullable: true },
    createdAt: at(),
    updatedAt: at(),
  },
});

/**
 * One NACHA file of a window, stored as sent: every resend after a lost answer posts these same
 * bytes under the same identity (origin, creation date and time, File ID Modifier), which is what
 * a bank de-duplicates files by, so a file whose answer was lost can never be paid twice.
 */
export interface AchFileRow {
  /** `<windowId>-<seq>`. */
  id: string;
  windowId: string;
  /** 1, 2, …: the window's files in the order they are sent. */
  seq: number;
  /** The file header's creation date (YYMMDD) and time (HHMM), UTC, and File ID Modifier. */
  creationDate: string;
  creationTime: string;
  idModifier: string;
  /** built (not yet answered) → accepted (the bank answered each entry) | refused (the file whole). */
  status: 'built' | 'accepted' | 'refused';
  refusal: string | null;
  entryCount: number;
  totalMinor: number;
  content: string;
  createdAt: Date;
  updatedAt: Date;
}
export const AchFile = new EntitySchema<AchFileRow>({
  name: 'AchFile',
  tableName: 'ach_files',
  indexes: [{ properties: ['windowId'] }],
  uniques: [{ properties: ['creationDate', 'creationTime', 'idModifier'] }],
  properties: {
    id: { type: 'string', length: 40, primary: true },
    windowId: { type: 'string', length: 40 },
    seq: { type: 'integer' },
    creationDate: { type: 'string', length: 6 },
    creationTime: { type: 'string', length: 4 },
    idModifier: { type: 'string', length: 1 },
    status: { type: 'string', length: 12 },
    refusal: { type: 'string', length: 500, nullable: true },
    entryCount: { type: 'integer' },
    totalMinor: { type: new BigIntType('number') },
    // Up to ACH_FILE_ENTRIES_MAX records of 95 bytes: more than MySQL's TEXT holds.
    content: { type: 'text', columnType: 'mediumtext' },
    createdAt: at(),
    updatedAt: at(),
  },
});

/** A notification of change (NACHA COR entry) on a paid ACH entry: kept once per transfer, trace number and code. */
export interface AchCorrectionRow {
  id: string;
  transferId: string;
  traceNumber: string;
  code: string;
  /** The COR addenda's corrected data, as the bank sent it (29 positions at most). */
  correctedData: string;
  receivedAt: Date;
}
export const AchCorrection = new EntitySchema<AchCorrectionRow>({
  name: 'AchCorrection',
  tableName: 'ach_corrections',
  indexes: [{ properties: ['transferId'] }],
  uniques: [{ properties: ['transferId', 'traceNumber', 'code'] }],
  properties: {
    id: id(),
    transferId: { type: 'string', length: 40 },
    traceNumber: { type: 'string', length: 15 },
    code: { type: 'string', length: 3 },
    correctedData: { type: 'string', length: 29 },
    receivedAt: at(),
  },
});
