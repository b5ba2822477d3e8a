/**
 * One NACHA file for a cut-off window: a credits-only (220) batch per SEC code and effective entry
 * date, entries in trace-number order within each batch, batches numbered from 1, and the file
 * control's counts, entry hash and totals summed from the batch controls.
 */
import { BLOCKING_FACTOR, buildCreditFile, numeric, type CreditEntryInput, type CreditFileInput, type NachaBatch, type NachaFile } from './nacha';

export interface WindowEntry extends CreditEntryInput {
  entryClass: 'PPD' | 'CCD';
  /** YYYY-MM-DD */
  effectiveDate: string;
}

export type WindowFileInput = Omit<CreditFileInput, 'entryClass' | 'effectiveDate' | 'entries'> & { entries: WindowEntry[] };

export function buildWindowFile(input: WindowFileInput): NachaFile {
  if (input.entries.length === 0) throw new RangeError('a window file needs at least one entry');
  const traces = new Set(input.entries.map((e) => e.traceNumber));
  if (traces.size !== input.entries.length) throw new RangeError('a trace number appears twice in the window');
  const groups = new Map<string, WindowEntry[]>();
  for (const e of input.entries) {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(e.effectiveDate)) throw new RangeError(`bad effective date ${e.effectiveDate}`);
    const key = `${e.entryClass}|${e.effectiveDate}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  const batches: NachaBatch[] = [...groups.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([, entries], i) => {
      const { entryClass, effectiveDate } = entries[0];
      const sorted = [...entries].sort((a, b) => (a.traceNumber < b.traceNumber ? -1 : 1));
      const [batch] = buildCreditFile({ ...input, entryClass, effectiveDate: new Date(`${effectiveDate}T00:00:00Z`), entries: sorted }).batches;
      const batchNumber = numeric(i + 1, 7);
      batch.header.fields.batchNumber = batchNumber;
      batch.control.fields.batchNumber = batchNumber;
      return batch;
    });
  const sum = (field: string) => batches.reduce((acc, b) => acc + Number(b.control.fields[field]), 0);
  const entryCount = sum('entryAddendaCount');
  const recordCount = 2 + batches.length * 2 + entryCount;
  const blocks = Math.ceil(recordCount / BLOCKING_FACTOR);
  const shell = buildCreditFile({ ...input, entryClass: 'PPD', effectiveDate: new Date(0), entries: [input.entries[0]] });
  shell.control.fields = {
    ...shell.control.fields,
    batchCount: numeric(batches.length, 6),
    blockCount: numeric(blocks, 6),
    entryAddendaCount: numeric(entryCount, 8),
    entryHash: numeric(sum('entryHash') % 1e10, 10),
    totalDebitEntryDollarAmountInFile: numeric(sum('totalDebitEntryDollarAmount'), 12),
    totalCreditEntryDollarAmountInFile: numeric(sum('totalCreditEntryDollarAmount'), 12),
  };
  return { ...shell, batches, fillerLines: blocks * BLOCKING_FACTOR - recordCount };
}
