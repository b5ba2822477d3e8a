/**
 * NACHA file format: fixed-width 94-character records, blocked by 10.
 *
 * Records are kept as their raw field strings, so a parsed file re-emits byte for byte; typed
 * values (amounts in cents, counts) are read from those strings where rules need them. Amounts are
 * integers in cents from end to end: there is no floating point anywhere in this module.
 */

export const RECORD_LENGTH = 94;
export const BLOCKING_FACTOR = 10;

type Kind = 'N' | 'AN';
interface FieldDef {
  name: string;
  /** 1-based position, as the NACHA rules number them. */
  start: number;
  length: number;
  kind: Kind;
  /** May be all blanks even when numeric. */
  blankAllowed?: boolean;
}

const f = (name: string, start: number, length: number, kind: Kind, blankAllowed = false): FieldDef => ({
  name,
  start,
  length,
  kind,
  blankAllowed,
});

export const LAYOUTS: Record<RecordType, { name: string; fields: FieldDef[] }> = {
  '1': {
    name: 'File Header',
    fields: [
      f('recordTypeCode', 1, 1, 'N'),
      f('priorityCode', 2, 2, 'N'),
      f('immediateDestination', 4, 10, 'AN'),
      f('immediateOrigin', 14, 10, 'AN'),
      f('fileCreationDate', 24, 6, 'N'),
      f('fileCreationTime', 30, 4, 'N', true),
      f('fileIdModifier', 34, 1, 'AN'),
      f('recordSize', 35, 3, 'N'),
      f('blockingFactor', 38, 2, 'N'),
      f('formatCode', 40, 1, 'N'),
      f('immediateDestinationName', 41, 23, 'AN'),
      f('immediateOriginName', 64, 23, 'AN'),
      f('referenceCode', 87, 8, 'AN'),
    ],
  },
  '5': {
    name: 'Batch Header',
    fields: [
      f('recordTypeCode', 1, 1, 'N'),
      f('serviceClassCode', 2, 3, 'N'),
      f('companyName', 5, 16, 'AN'),
      f('companyDiscretionaryData', 21, 20, 'AN'),
      f('companyIdentification', 41, 10, 'AN'),
      f('standardEntryClassCode', 51, 3, 'AN'),
      f('companyEntryDescription', 54, 10, 'AN'),
      f('companyDescriptiveDate', 64, 6, 'AN'),
      f('effectiveEntryDate', 70, 6, 'N', true),
      f('settlementDate', 76, 3, 'N', true),
      f('originatorStatusCode', 79, 1, 'AN'),
      f('originatingDfiIdentification', 80, 8, 'N'),
      f('batchNumber', 88, 7, 'N'),
    ],
  },
  '6': {
    name: 'Entry Detail',
    fields: [
      f('recordTypeCode', 1, 1, 'N'),
      f('transactionCode', 2, 2, 'N'),
      f('receivingDfiIdentification', 4, 8, 'N'),
      f('checkDigit', 12, 1, 'N'),
      f('dfiAccountNumber', 13, 17, 'AN'),
      f('amount', 30, 10, 'N'),
      f('individualIdentificationNumber', 40, 15, 'AN'),
      f('individualName', 55, 22, 'AN'),
      f('discretionaryData', 77, 2, 'AN'),
      f('addendaRecordIndicator', 79, 1, 'N'),
      f('traceNumber', 80, 15, 'N'),
    ],
  },
  '7': {
    name: 'Addenda',
    fields: [
      f('recordTypeCode', 1, 1, 'N'),
      f('addendaTypeCode', 2, 2, 'N'),
      f('addendaInformation', 4, 84, 'AN'),
      f('entryDetailSequenceNumber', 88, 7, 'N'),
    ],
  },
  '8': {
    name: 'Batch Control',
    fields: [
      f('recordTypeCode', 1, 1, 'N'),
      f('serviceClassCode', 2, 3, 'N'),
      f('entryAddendaCount', 5, 6, 'N'),
      f('entryHash', 11, 10, 'N'),
      f('totalDebitEntryDollarAmount', 21, 12, 'N'),
      f('totalCreditEntryDollarAmount', 33, 12, 'N'),
      f('companyIdentification', 45, 10, 'AN'),
      f('messageAuthenticationCode', 55, 19, 'AN'),
      f('reserved', 74, 6, 'AN'),
      f('originatingDfiIdentification', 80, 8, 'N'),
      f('batchNumber', 88, 7, 'N'),
    ],
  },
  '9': {
    name: 'File Control',
    fields: [
      f('recordTypeCode', 1, 1, 'N'),
      f('batchCount', 2, 6, 'N'),
      f('blockCount', 8, 6, 'N'),
      f('entryAddendaCount', 14, 8, 'N'),
      f('entryHash', 22, 10, 'N'),
      f('totalDebitEntryDollarAmountInFile', 32, 12, 'N'),
      f('totalCreditEntryDollarAmountInFile', 44, 12, 'N'),
      f('reserved', 56, 39, 'AN'),
    ],
  },
};

export type RecordType = '1' | '5' | '6' | '7' | '8' | '9';
export type Fields = Record<string, string>;

export interface NachaRecord {
  type: RecordType;
  fields: Fields;
  /** 1-based line number in the parsed text. */
  line: number;
}

export interface NachaEntry {
  record: NachaRecord;
  addenda: NachaRecord[];
}

export interface NachaBatch {
  header: NachaRecord;
  entries: NachaEntry[];
  control: NachaRecord;
}

export interface NachaFile {
  header: NachaRecord;
  batches: NachaBatch[];
  control: NachaRecord;
  /** Block-filler lines (all 9s) after the file control. */
  fillerLines: number;
  lineEnding: '\n' | '\r\n';
  trailingNewline: boolean;
}

export class NachaError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly record: string,
    readonly field?: string,
  ) {
    super(`line ${line} (${record}${field ? `, field ${field}` : ''}): ${message}`);
    this.name = 'NachaError';
  }
}

export const CREDIT_CODES = new Set(['21', '22', '23', '24', '31', '32', '33', '34', '41', '42', '43', '44', '51', '52', '53', '54']);
export const DEBIT_CODES = new Set(['26', '27', '28', '29', '36', '37', '38', '39', '46', '47', '48', '49', '55', '56']);

/** ABA routing number checksum over the 9 digits: weights 3, 7, 1. */
export function abaChecksumValid(routing: string): boolean {
  if (!/^\d{9}$/.test(routing)) return false;
  const d = [...routing].map(Number);
  const sum = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8]);
  return sum % 10 === 0;
}

export function abaCheckDigit(first8: string): string {
  for (let digit = 0; digit <= 9; digit++) if (abaChecksumValid(first8 + digit)) return String(digit);
  throw new RangeError(`not 8 digits: ${first8}`);
}

function isFillerLine(line: string): boolean {
  return /^9{94}$/.test(line);
}

export interface ParseOptions {
  /**
   * Accept what real banks' files sometimes do: trailing spaces trimmed (lines padded back to 94),
   * missing block padding, and blank trailing lines. Off by default: a bank-bound file must be exact.
   */
  lenient?: boolean;
}

function decodeRecord(text: string, line: number, options: ParseOptions): NachaRecord {
  const type = text[0] as RecordType;
  const layout = LAYOUTS[type];
  if (!layout) throw new NachaError(`unknown record type code ${JSON.stringify(text[0] ?? '')}`, line, 'record', 'recordTypeCode');
  let body = text;
  if (body.length !== RECORD_LENGTH) {
    if (options.lenient && body.length < RECORD_LENGTH) body = body.padEnd(RECORD_LENGTH, ' ');
    else throw new NachaError(`record is ${text.length} characters, expected ${RECORD_LENGTH}`, line, layout.name, 'record length');
  }
  const fields: Fields = {};
  for (const def of layout.fields) {
    const value = body.slice(def.start - 1, def.start - 1 + def.length);
    if (def.kind === 'N' && !/^\d+$/.test(value) && !(def.blankAllowed && value.trim() === '')) {
      throw new NachaError(`must be numeric, got ${JSON.stringify(value)}`, line, layout.name, def.name);
    }
    if (def.kind === 'AN' && !/^[\x20-\x7E]*$/.test(value)) {
      throw new NachaError(`contains a character outside the NACHA character set: ${JSON.stringify(value)}`, line, layout.name, def.name);
    }
    fields[def.name] = value;
  }
  return { type, fields, line };
}

function num(record: NachaRecord, field: string): number {
  const value = Number(record.fields[field]);
  if (!Number.isSafeInteger(value)) throw new NachaError('numeric value out of range', record.line, LAYOUTS[record.type].name, field);
  return value;
}

function fail(record: NachaRecord, field: string, message: string): never {
  throw new NachaError(message, record.line, LAYOUTS[record.type].name, field);
}

/** Parses and validates a whole file; a single defect rejects it whole. */
export function parseNacha(text: string, options: ParseOptions = {}): NachaFile {
  const lineEnding: '\n' | '\r\n' = text.includes('\r\n') ? '\r\n' : '\n';
  const trailingNewline = text.endsWith('\n');
  let lines = text.split(/\r?\n/);
  if (trailingNewline) lines = lines.slice(0, -1);
  if (options.lenient) while (lines.length > 0 && lines[lines.length - 1].trim() === '') lines = lines.slice(0, -1);
  if (lines.length === 0) throw new NachaError('file is empty', 1, 'File Header');

  let index = 0;
  const next = (): NachaRecord | undefined => (index < lines.length ? decodeRecord(lines[index], ++index, options) : undefined);
  const peekType = (): string | undefined => lines[index]?.[0];

  const header = next()!;
  if (header.type !== '1') fail(header, 'recordTypeCode', 'file must start with a File Header (1) record');
  if (header.fields.recordSize !== '094') fail(header, 'recordSize', `must be 094, got ${header.fields.recordSize}`);
  if (header.fields.blockingFactor !== '10') fail(header, 'blockingFactor', `must be 10, got ${header.fields.blockingFactor}`);
  if (header.fields.formatCode !== '1') fail(header, 'formatCode', `must be 1, got ${header.fields.formatCode}`);
  for (const field of ['immediateDestination', 'immediateOrigin']) {
    if (!/^( \d{9}|\d{10})$/.test(header.fields[field])) fail(header, field, `must be a blank and a 9-digit routing number, or 10 digits; got ${JSON.stringify(header.fields[field])}`);
  }

  const batches: NachaBatch[] = [];
  while (peekType() === '5') {
    const batchHeader = next()!;
    const entries: NachaEntry[] = [];
    while (peekType() === '6') {
      const entry = next()!;
      const addenda: NachaRecord[] = [];
      while (peekType() === '7') addenda.push(next()!);
      entries.push({ record: entry, addenda });
    }
    const control = index < lines.length ? next()! : undefined;
    if (!control || control.type !== '8') {
      throw new NachaError('batch is not closed by a Batch Control (8) record', control?.line ?? index, 'Batch Control', 'recordTypeCode');
    }
    const batch = { header: batchHeader, entries, control };
    validateBatch(batch);
    batches.push(batch);
  }

  const control = index < lines.length ? next()! : undefined;
  if (!control || control.type !== '9') {
    throw new NachaError('expected a File Control (9) record', control?.line ?? index + 1, 'File Control', 'recordTypeCode');
  }
  let fillerLines = 0;
  while (index < lines.length) {
    if (!isFillerLine(lines[index])) {
      throw new NachaError('only block-filler lines (94 nines) may follow the File Control', index + 1, 'File Control');
    }
    index++;
    fillerLines++;
  }
  const file: NachaFile = { header, batches, control, fillerLines, lineEnding, trailingNewline };
  validateFileControl(file, lines.length, options);
  return file;
}

function validateBatch(batch: NachaBatch): void {
  const { header, control, entries } = batch;
  const serviceClass = header.fields.serviceClassCode;
  if (!['200', '220', '225', '280'].includes(serviceClass)) fail(header, 'serviceClassCode', `unknown service class ${serviceClass}`);
  if (control.fields.serviceClassCode !== serviceClass) fail(control, 'serviceClassCode', `does not match the batch header (${serviceClass})`);
  if (control.fields.batchNumber !== header.fields.batchNumber) fail(control, 'batchNumber', `does not match the batch header (${header.fields.batchNumber})`);

  let count = 0;
  let hash = 0;
  let debits = 0;
  let credits = 0;
  for (const { record, addenda } of entries) {
    count += 1 + addenda.length;
    const code = record.fields.transactionCode;
    const rdfi = record.fields.receivingDfiIdentification;
    if (!abaChecksumValid(rdfi + record.fields.checkDigit)) fail(record, 'checkDigit', `does not match routing number ${rdfi}`);
    const isCredit = CREDIT_CODES.has(code);
    const isDebit = DEBIT_CODES.has(code);
    if (!isCredit && !isDebit) fail(record, 'transactionCode', `unknown transaction code ${code}`);
    if (serviceClass === '220' && !isCredit) fail(record, 'transactionCode', `debit ${code} in a credits-only (220) batch`);
    if (serviceClass === '225' && !isDebit) fail(record, 'transactionCode', `credit ${code} in a debits-only (225) batch`);
    const expectsAddenda = record.fields.addendaRecordIndicator === '1';
    if (expectsAddenda !== addenda.length > 0) {
      fail(record, 'addendaRecordIndicator', `says ${expectsAddenda ? 'addenda follow' : 'no addenda'} but ${addenda.length} follow`);
    }
    hash += Number(rdfi);
    const amount = num(record, 'amount');
    if (isCredit) credits += amount;
    else debits += amount;
  }
  if (num(control, 'entryAddendaCount') !== count) fail(control, 'entryAddendaCount', `says ${num(control, 'entryAddendaCount')}, batch has ${count}`);
  if (num(control, 'entryHash') !== hash % 1e10) fail(control, 'entryHash', `says ${control.fields.entryHash}, computed ${hash % 1e10}`);
  if (num(control, 'totalDebitEntryDollarAmount') !== debits) fail(control, 'totalDebitEntryDollarAmount', `says ${num(control, 'totalDebitEntryDollarAmount')}, entries sum to ${debits}`);
  if (num(control, 'totalCreditEntryDollarAmount') !== credits) fail(control, 'totalCreditEntryDollarAmount', `says ${num(control, 'totalCreditEntryDollarAmount')}, entries sum to ${credits}`);
}

function validateFileControl(file: NachaFile, lineCount: number, options: ParseOptions): void {
  const { control, batches } = file;
  let count = 0;
  let hash = 0;
  let debits = 0;
  let credits = 0;
  for (const batch of batches) {
    count += num(batch.control, 'entryAddendaCount');
    hash += num(batch.control, 'entryHash');
    debits += num(batch.control, 'totalDebitEntryDollarAmount');
    credits += num(batch.control, 'totalCreditEntryDollarAmount');
  }
  if (num(control, 'batchCount') !== batches.length) fail(control, 'batchCount', `says ${num(control, 'batchCount')}, file has ${batches.length}`);
  if (num(control, 'entryAddendaCount') !== count) fail(control, 'entryAddendaCount', `says ${num(control, 'entryAddendaCount')}, batches total ${count}`);
  if (num(control, 'entryHash') !== hash % 1e10) fail(control, 'entryHash', `says ${control.fields.entryHash}, computed ${hash % 1e10}`);
  if (num(control, 'totalDebitEntryDollarAmountInFile') !== debits) fail(control, 'totalDebitEntryDollarAmountInFile', `says ${num(control, 'totalDebitEntryDollarAmountInFile')}, batches total ${debits}`);
  if (num(control, 'totalCreditEntryDollarAmountInFile') !== credits) fail(control, 'totalCreditEntryDollarAmountInFile', `says ${num(control, 'totalCreditEntryDollarAmountInFile')}, batches total ${credits}`);
  const blocks = Math.ceil(lineCount / BLOCKING_FACTOR);
  if (!options.lenient && lineCount % BLOCKING_FACTOR !== 0) {
    fail(control, 'blockCount', `file has ${lineCount} records, not a multiple of ${BLOCKING_FACTOR}`);
  }
  if (!options.lenient && num(control, 'blockCount') !== blocks) fail(control, 'blockCount', `says ${num(control, 'blockCount')}, file has ${blocks} blocks`);
}

/**
 * A leniently parsed file made strict: every record 94 characters (done by the lenient parse),
 * blocked by 10 with filler lines, the block count corrected, LF endings with a final newline.
 */
export function normalizeNacha(file: NachaFile): NachaFile {
  const records = 2 + file.batches.reduce((n, b) => n + 2 + b.entries.reduce((m, e) => m + 1 + e.addenda.length, 0), 0);
  const blocks = Math.ceil(records / BLOCKING_FACTOR);
  return {
    ...file,
    control: { ...file.control, fields: { ...file.control.fields, blockCount: numeric(blocks, 6) } },
    fillerLines: blocks * BLOCKING_FACTOR - records,
    lineEnding: '\n',
    trailingNewline: true,
  };
}

function encodeRecord(record: Pick<NachaRecord, 'type' | 'fields'>): string {
  const layout = LAYOUTS[record.type];
  const chars = Array<string>(RECORD_LENGTH).fill(' ');
  for (const def of layout.fields) {
    const value = record.fields[def.name] ?? '';
    if (value.length !== def.length) {
      throw new RangeError(`${layout.name}.${def.name} must be ${def.length} characters, got ${JSON.stringify(value)}`);
    }
    for (let i = 0; i < def.length; i++) chars[def.start - 1 + i] = value[i];
  }
  return chars.join('');
}

/** Emits the file; a parsed file comes back byte for byte. */
export function emitNacha(file: NachaFile): string {
  const lines = [encodeRecord(file.header)];
  for (const batch of file.batches) {
    lines.push(encodeRecord(batch.header));
    for (const entry of batch.entries) {
      lines.push(encodeRecord(entry.record));
      for (const addenda of entry.addenda) lines.push(encodeRecord(addenda));
    }
    lines.push(encodeRecord(batch.control));
  }
  lines.push(encodeRecord(file.control));
  for (let i = 0; i < file.fillerLines; i++) lines.push('9'.repeat(RECORD_LENGTH));
  return lines.join(file.lineEnding) + (file.trailingNewline ? file.lineEnding : '');
}

// --- Typed builder for the files Railyard originates ---------------------------------------------

/** Upper-case, NACHA's alphanumeric set only, cut or padded to width. */
export function alpha(value: string, length: number): string {
  const clean = value
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9 .,&'/()\-]/g, ' ');
  return clean.slice(0, length).padEnd(length, ' ');
}

export function numeric(value: number | string, length: number): string {
  const text = String(value);
  if (!/^\d+$/.test(text) || text.length > length) throw new RangeError(`${text} does not fit ${length} digits`);
  return text.padStart(length, '0');
}

function yymmdd(date: Date): string {
  return date.toISOString().slice(2, 10).replace(/-/g, '');
}

export interface CreditEntryInput {
  /** 22 checking credit, 32 savings credit. */
  transactionCode: '22' | '32';
  routingNumber: string;
  accountNumber: string;
  amountMinor: number;
  individualId: string;
  individualName: string;
  traceNumber: string;
}

export interface CreditFileInput {
  originRouting: string;
  originName: string;
  destinationRouting: string;
  destinationName: string;
  companyName: string;
  companyId: string;
  entryClass: 'PPD' | 'CCD';
  entryDescription: string;
  createdAt: Date;
  effectiveDate: Date;
  fileIdModifier: string;
  entries: CreditEntryInput[];
}

/** The NACHA Entry Detail amount field is 10 digits of cents: USD 99,999,999.99 at most. */
export const ENTRY_AMOUNT_MINOR_MAX = 9_999_999_999;

/**
 * Why this entry cannot be written into a file, or null when it can. The file builder refuses
 * such an entry; a window's sender asks first, so that one bad entry is refused on its own and
 * never takes its file (and everyone else's payment in it) down with it.
 */
export function entryProblem(e: CreditEntryInput): string | null {
  if (!Number.isSafeInteger(e.amountMinor) || e.amountMinor <= 0) return `amount ${e.amountMinor} is not a positive whole number of cents`;
  if (e.amountMinor > ENTRY_AMOUNT_MINOR_MAX) return `amount ${e.amountMinor} does not fit the 10-digit NACHA amount field (at most ${ENTRY_AMOUNT_MINOR_MAX} cents)`;
  if (!abaChecksumValid(e.routingNumber)) return 'the routing number fails the ABA checksum';
  if (!/^[0-9A-Za-z-]{1,17}$/.test(e.accountNumber)) return 'the account number is not 1-17 letters, digits or hyphens';
  if (!/^\d{15}$/.test(e.traceNumber)) return `trace number ${e.traceNumber} is not 15 digits`;
  return null;
}

/** What a file header (record 1) names: who sends to whom, when, and the file ID modifier. */
export interface FileHeaderInput {
  destinationRouting: string;
  originRouting: string;
  destinationName: string;
  originName: string;
  createdAt: Date;
  fileIdModifier: string;
}

/** The file header record, the same for every file this project writes (payout files, the bank's return/COR files). */
export function fileHeaderRecord(input: FileHeaderInput): NachaRecord {
  return {
    type: '1',
    line: 0,
    fields: {
      recordTypeCode: '1',
      priorityCode: '01',
      immediateDestination: ` ${numeric(input.destinationRouting, 9)}`,
      immediateOrigin: ` ${numeric(input.originRouting, 9)}`,
      fileCreationDate: yymmdd(input.createdAt),
      fileCreationTime: input.createdAt.toISOString().slice(11, 16).replace(':', ''),
      fileIdModifier: alpha(input.fileIdModifier, 1),
      recordSize: '094',
      blockingFactor: '10',
      formatCode: '1',
      immediateDestinationName: alpha(input.destinationName, 23),
      immediateOriginName: alpha(input.originName, 23),
      referenceCode: alpha('', 8),
    },
  };
}

/** One credits-only (220) batch: the shape of a payout file. */
export function buildCreditFile(input: CreditFileInput): NachaFile {
  if (input.entries.length === 0) throw new RangeError('a file needs at least one entry');
  const odfi = input.originRouting.slice(0, 8);
  const rec = (type: RecordType, fields: Fields, line = 0): NachaRecord => ({ type, fields, line });
  const header = fileHeaderRecord(input);
  const batchHeader = rec('5', {
    recordTypeCode: '5',
    serviceClassCode: '220',
    companyName: alpha(input.companyName, 16),
    companyDiscretionaryData: alpha('', 20),
    companyIdentification: alpha(input.companyId, 10),
    standardEntryClassCode: input.entryClass,
    companyEntryDescription: alpha(input.entryDescription, 10),
    companyDescriptiveDate: alpha('', 6),
    effectiveEntryDate: yymmdd(input.effectiveDate),
    settlementDate: '   ',
    originatorStatusCode: '1',
    originatingDfiIdentification: odfi,
    batchNumber: numeric(1, 7),
  });
  let hash = 0;
  let credits = 0;
  const entries: NachaEntry[] = input.entries.map((e) => {
    const problem = entryProblem(e);
    if (problem) throw new RangeError(`entry ${e.traceNumber}: ${problem}`);
    hash += Number(e.routingNumber.slice(0, 8));
    credits += e.amountMinor;
    return {
      record: rec('6', {
        recordTypeCode: '6',
        transactionCode: e.transactionCode,
        receivingDfiIdentification: e.routingNumber.slice(0, 8),
        checkDigit: e.routingNumber[8],
        dfiAccountNumber: e.accountNumber.toUpperCase().padEnd(17, ' '),
        amount: numeric(e.amountMinor, 10),
        individualIdentificationNumber: alpha(e.individualId, 15),
        individualName: alpha(e.individualName, 22),
        discretionaryData: '  ',
        addendaRecordIndicator: '0',
        traceNumber: numeric(e.traceNumber, 15),
      }),
      addenda: [],
    };
  });
  const batchControl = rec('8', {
    recordTypeCode: '8',
    serviceClassCode: '220',
    entryAddendaCount: numeric(entries.length, 6),
    entryHash: numeric(hash % 1e10, 10),
    totalDebitEntryDollarAmount: numeric(0, 12),
    totalCreditEntryDollarAmount: numeric(credits, 12),
    companyIdentification: alpha(input.companyId, 10),
    messageAuthenticationCode: ' '.repeat(19),
    reserved: ' '.repeat(6),
    originatingDfiIdentification: odfi,
    batchNumber: numeric(1, 7),
  });
  const recordCount = 4 + entries.length;
  const blocks = Math.ceil(recordCount / BLOCKING_FACTOR);
  const fileControl = rec('9', {
    recordTypeCode: '9',
    batchCount: numeric(1, 6),
    blockCount: numeric(blocks, 6),
    entryAddendaCount: numeric(entries.length, 8),
    entryHash: numeric(hash % 1e10, 10),
    totalDebitEntryDollarAmountInFile: numeric(0, 12),
    totalCreditEntryDollarAmountInFile: numeric(credits, 12),
    reserved: ' '.repeat(39),
  });
  return {
    header,
    batches: [{ header: batchHeader, entries, control: batchControl }],
    control: fileControl,
    fillerLines: blocks * BLOCKING_FACTOR - recordCount,
    lineEnding: '\n',
    trailingNewline: true,
  };
}
