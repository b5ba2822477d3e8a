/**
 * The NACHA files of a cut-off window: credits-only (220) batches per SEC code and effective entry
 * date, entries in trace-number order within each batch, batches numbered from 1 in each file, and
 * each file control's counts, entry hash and totals summed from its batch controls.
 *
 * A window can hold more than one file's worth: a batch is closed before its entry count or its
 * credit total would outgrow the batch control's fields, and a file before its own control's
 * fields (batch count, block count, entry count, totals) would overflow. `planWindowFiles` splits a
 * window's entries into files that fit; `buildWindowFile` builds one of them.
 */
import { BLOCKING_FACTOR, buildCreditFile, numeric, type CreditEntryInput, type CreditFileInput, type NachaBatch, type NachaFile } from './nacha';

export interface WindowEntry extends CreditEntryInput {
  entryClass: 'PPD' | 'CCD';
  /** YYYY-MM-DD */
  effectiveDate: string;
}

export type WindowFileInput = Omit<CreditFileInput, 'entryClass' | 'effectiveDate' | 'entries'> & { entries: WindowEntry[] };

/** What one batch and one file may hold, from the widths of the control records' fields. */
export interface FileLimits {
  /** Batch Control entry/addenda count: 6 digits (our entries carry no addenda). */
  batchEntriesMax: number;
  /** Batch Control total credit amount: 12 digits of cents. */
  batchTotalMinorMax: number;
  /** File Control entry/addenda count: 8 digits; may be set lower to bound a file's size. */
  fileEntriesMax: number;
  /** File Control total credit amount: 12 digits of cents. */
  fileTotalMinorMax: number;
  /** File Control batch count: 6 digits. */
  fileBatchesMax: number;
  /** File Control block count: 6 digits of 10-record blocks. */
  fileBlocksMax: number;
}

export const NACHA_FILE_LIMITS: FileLimits = {
  batchEntriesMax: 999_999,
  batchTotalMinorMax: 999_999_999_999,
  fileEntriesMax: 99_999_999,
  fileTotalMinorMax: 999_999_999_999,
  fileBatchesMax: 999_999,
  fileBlocksMax: 999_999,
};

const recordsOf = (batches: number, entries: number) => 2 + 2 * batches + entries;

/** The entries in batches: one run per SEC code and effective date, cut where a batch control would overflow. */
function batchesOf(entries: WindowEntry[], limits: FileLimits): WindowEntry[][] {
  const groups = new Map<string, WindowEntry[]>();
  for (const e of entries) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.effectiveDate)) throw new RangeError(`bad effective date ${e.effectiveDate}`);
    const key = `${e.entryClass}|${e.effectiveDate}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(e);
  }
  const batches: WindowEntry[][] = [];
  for (const [, group] of [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let batch: WindowEntry[] = [];
    let totalMinor = 0;
    for (const e of [...group].sort((a, b) => (a.traceNumber < b.traceNumber ? -1 : 1))) {
      if (e.amountMinor > limits.batchTotalMinorMax) throw new RangeError(`entry ${e.traceNumber} alone is more than a batch can total`);
      if (batch.length > 0 && (batch.length === limits.batchEntriesMax || totalMinor + e.amountMinor > limits.batchTotalMinorMax)) {
        batches.push(batch);
        batch = [];
        totalMinor = 0;
      }
      batch.push(e);
      totalMinor += e.amountMinor;
    }
    batches.push(batch);
  }
  return batches;
}

/**
 * A window's entries split into files, each within every control field's width: batches go into
 * a file in order until the next one would overflow the file's counts or totals. Deterministic:
 * the same entries give the same files.
 */
export function planWindowFiles(entries: WindowEntry[], limits: FileLimits = NACHA_FILE_LIMITS): WindowEntry[][] {
  if (entries.length === 0) return [];
  const traces = new Set(entries.map((e) => e.traceNumber));
  if (traces.size !== entries.length) throw new RangeError('a trace number appears twice in the window');
  const files: WindowEntry[][] = [];
  let file: WindowEntry[] = [];
  let batchCount = 0;
  let totalMinor = 0;
  for (const batch of batchesOf(entries, limits)) {
    // A batch bigger than a file's entry bound is cut into pieces that each start a batch of their own.
    for (let from = 0; from < batch.length; ) {
      const roomEntries = Math.min(limits.fileEntriesMax - file.length, limits.fileBlocksMax * BLOCKING_FACTOR - recordsOf(batchCount + 1, file.length));
      let take = 0;
      let takeMinor = 0;
      while (from + take < batch.length && take < roomEntries && totalMinor + takeMinor + batch[from + take].amountMinor <= limits.fileTotalMinorMax) {
        takeMinor += batch[from + take].amountMinor;
        take++;
      }
      if (take === 0 || batchCount === limits.fileBatchesMax) {
        if (file.length === 0) throw new RangeError(`entry ${batch[from].traceNumber} does not fit an empty file`);
        files.push(file);
        file = [];
        batchCount = 0;
        totalMinor = 0;
        continue;
      }
      file = file.concat(batch.slice(from, from + take));
      batchCount++;
      totalMinor += takeMinor;
      from += take;
    }
  }
  if (file.length > 0) files.push(file);
  return files;
}

/** One file of a window (a plan from planWindowFiles); throws when the entries do not fit one file. */
export function buildWindowFile(input: WindowFileInput, limits: FileLimits = NACHA_FILE_LIMITS): NachaFile {
  if (input.entries.length === 0) throw new RangeError('a window file needs at least one entry');
  const traces = new Set(input.entries.map((e) => e.traceNumber));
  if (traces.size !== input.entries.length) throw new RangeError('a trace number appears twice in the window');
  const batches: NachaBatch[] = batchesOf(input.entries, limits).map((entries, i) => {
    const { entryClass, effectiveDate } = entries[0];
    const [batch] = buildCreditFile({ ...input, entryClass, effectiveDate: new Date(`${effectiveDate}T00:00:00Z`), entries }).batches;
    const batchNumber = numeric(i + 1, 7);
    batch.header.fields.batchNumber = batchNumber;
    batch.control.fields.batchNumber = batchNumber;
    return batch;
  });
  const sum = (field: string) => batches.reduce((acc, b) => acc + Number(b.control.fields[field]), 0);
  const entryCount = sum('entryAddendaCount');
  const totalMinor = sum('totalCreditEntryDollarAmount');
  const recordCount = recordsOf(batches.length, entryCount);
  const blocks = Math.ceil(recordCount / BLOCKING_FACTOR);
  if (batches.length > limits.fileBatchesMax || entryCount > limits.fileEntriesMax || totalMinor > limits.fileTotalMinorMax || blocks > limits.fileBlocksMax) {
    throw new RangeError(`${entryCount} entries totalling ${totalMinor} cents in ${batches.length} batches do not fit one file; plan the window's files first`);
  }
  const shell = buildCreditFile({ ...input, entryClass: 'PPD', effectiveDate: new Date(0), entries: [input.entries[0]] });
  shell.control.fields = {
    ...shell.control.fields,
    batchCount: numeric(batches.length, 6),
    blockCount: numeric(blocks, 6),
    entryAddendaCount: numeric(entryCount, 8),
    entryHash: numeric(sum('entryHash') % 1e10, 10),
    totalDebitEntryDollarAmountInFile: numeric(sum('totalDebitEntryDollarAmount'), 12),
    totalCreditEntryDollarAmountInFile: numeric(totalMinor, 12),
  };
  return { ...shell, batches, fillerLines: blocks * BLOCKING_FACTOR - recordCount };
}
