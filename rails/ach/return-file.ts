/**
 * NACHA return and notification-of-change (COR) files: what a receiving bank sends back to the
 * originator after settlement, through its ODFI. Each entry is one returned or corrected entry of
 * ours, with one addenda record:
 *
 *   99 (return)  positions 4–6 return reason code (R01…), 7–21 the original entry's trace number,
 *                28–35 the original receiving DFI, 36–79 addenda information, 80–94 trace number
 *   98 (COR)     positions 4–6 change code (C01…), 7–21 the original trace number, 28–35 the
 *                original receiving DFI, 36–64 the corrected data, 80–94 trace number
 *
 * A return entry carries the original amount; a COR entry carries zero and sits in a batch whose
 * standard entry class is COR. Built on the NACHA record layouts of ./nacha, so a written file is
 * read back by parseNacha (with every control total checked). Pure.
 */
import { abaCheckDigit, alpha, BLOCKING_FACTOR, emitNacha, fileHeaderRecord, NachaError, numeric, parseNacha, type Fields, type NachaEntry, type NachaRecord, type RecordType } from './nacha';

export interface ReturnedEntry {
  kind: 'return' | 'correction';
  /** R01… for a return, C01… for a COR. */
  code: string;
  originalTraceNumber: string;
  /** The original entry's receiving bank (9-digit routing number) and account, as the entry carried them. */
  originalRoutingNumber: string;
  accountNumber: string;
  individualName: string;
  /** The returned amount in cents (a COR carries none). */
  amountMinor: number;
  /** COR only: the corrected data, laid out as NACHA defines it per change code (29 positions at most). */
  correctedData?: string;
}

export interface ReturnFileInput {
  /** The receiving bank sending the file, and the ODFI it goes to (9-digit routing numbers). */
  rdfiRouting: string;
  odfiRouting: string;
  createdAt: Date;
  fileIdModifier: string;
  /** Our company as the original entries named it. */
  companyName: string;
  companyId: string;
  entries: ReturnedEntry[];
}

function yymmdd(date: Date): string {
  return date.toISOString().slice(2, 10).replace(/-/g, '');
}

/** One return file: a batch of returns (PPD) and/or a batch of notifications of change (COR). */
export function buildReturnFile(input: ReturnFileInput): string {
  if (input.entries.length === 0) throw new RangeError('a return file needs at least one entry');
  const rec = (type: RecordType, fields: Fields): NachaRecord => ({ type, fields, line: 0 });
  const rdfi8 = input.rdfiRouting.slice(0, 8);
  const odfi8 = input.odfiRouting.slice(0, 8);
  const groups = (['return', 'correction'] as const).map((kind) => input.entries.filter((e) => e.kind === kind)).filter((g) => g.length > 0);
  let sequence = 0;
  const batches = groups.map((group, b) => {
    const cor = group[0].kind === 'correction';
    const batchNumber = numeric(b + 1, 7);
    const header = rec('5', {
      recordTypeCode: '5',
      serviceClassCode: '220',
      companyName: alpha(input.companyName, 16),
      companyDiscretionaryData: alpha('', 20),
      companyIdentification: alpha(input.companyId, 10),
      standardEntryClassCode: cor ? 'COR' : 'PPD',
      companyEntryDescription: alpha(cor ? 'NOC' : 'RETURN', 10),
      companyDescriptiveDate: alpha('', 6),
      effectiveEntryDate: yymmdd(input.createdAt),
      settlementDate: '   ',
      originatorStatusCode: '1',
      originatingDfiIdentification: rdfi8,
      batchNumber,
    });
    let hash = 0;
    let credits = 0;
    const entries: NachaEntry[] = group.map((e) => {
      if (!/^\d{15}$/.test(e.originalTraceNumber)) throw new RangeError(`original trace number ${e.originalTraceNumber} is not 15 digits`);
      if (!/^[A-Z0-9]{3}$/.test(e.code)) throw new RangeError(`code ${e.code} is not a NACHA return or change code`);
      const amount = cor ? 0 : e.amountMinor;
      if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError(`amount ${amount} is not a whole number of cents`);
      const trace = `${rdfi8}${numeric(++sequence, 7)}`;
      hash += Number(odfi8);
      credits += amount;
      const info = cor
        ? `${e.code}${e.originalTraceNumber}${' '.repeat(6)}${e.originalRoutingNumber.slice(0, 8)}${alpha(e.correctedData ?? '', 29)}${' '.repeat(15)}${trace.slice(0, 8)}`
        : `${e.code}${e.originalTraceNumber}${' '.repeat(6)}${e.originalRoutingNumber.slice(0, 8)}${' '.repeat(44)}${trace.slice(0, 8)}`;
      return {
        record: rec('6', {
          recordTypeCode: '6',
          // 21: automated return or notification of change for a checking credit.
          transactionCode: '21',
          receivingDfiIdentification: odfi8,
          checkDigit: abaCheckDigit(odfi8),
          dfiAccountNumber: e.accountNumber.toUpperCase().padEnd(17, ' ').slice(0, 17),
          amount: numeric(amount, 10),
          individualIdentificationNumber: alpha('', 15),
          individualName: alpha(e.individualName, 22),
          discretionaryData: '  ',
          addendaRecordIndicator: '1',
          traceNumber: trace,
        }),
        addenda: [rec('7', { recordTypeCode: '7', addendaTypeCode: cor ? '98' : '99', addendaInformation: info, entryDetailSequenceNumber: trace.slice(8) })],
      };
    });
    const control = rec('8', {
      recordTypeCode: '8',
      serviceClassCode: '220',
      entryAddendaCount: numeric(entries.length * 2, 6),
      entryHash: numeric(hash % 1e10, 10),
      totalDebitEntryDollarAmount: numeric(0, 12),
      totalCreditEntryDollarAmount: numeric(credits, 12),
      companyIdentification: alpha(input.companyId, 10),
      messageAuthenticationCode: ' '.repeat(19),
      reserved: ' '.repeat(6),
      originatingDfiIdentification: rdfi8,
      batchNumber,
    });
    return { header, entries, control, hash, credits };
  });
  const recordCount = 2 + batches.reduce((n, b) => n + 2 + b.entries.length * 2, 0);
  const blocks = Math.ceil(recordCount / BLOCKING_FACTOR);
  const header = fileHeaderRecord({ destinationRouting: input.odfiRouting, originRouting: input.rdfiRouting, destinationName: 'ODFI', originName: 'RDFI', createdAt: input.createdAt, fileIdModifier: input.fileIdModifier });
  const hash = batches.reduce((n, b) => n + b.hash, 0);
  const credits = batches.reduce((n, b) => n + b.credits, 0);
  const control = rec('9', {
    recordTypeCode: '9',
    batchCount: numeric(batches.length, 6),
    blockCount: numeric(blocks, 6),
    entryAddendaCount: numeric(batches.reduce((n, b) => n + b.entries.length * 2, 0), 8),
    entryHash: numeric(hash % 1e10, 10),
    totalDebitEntryDollarAmountInFile: numeric(0, 12),
    totalCreditEntryDollarAmountInFile: numeric(credits, 12),
    reserved: ' '.repeat(39),
  });
  return emitNacha({
    header,
    batches: batches.map(({ header, entries, control }) => ({ header, entries, control })),
    control,
    fillerLines: blocks * BLOCKING_FACTOR - recordCount,
    lineEnding: '\n',
    trailingNewline: true,
  });
}

/** What Railyard reads from a return or COR entry: never the account number or name. */
export interface ReadReturn {
  kind: 'return' | 'correction';
  code: string;
  originalTraceNumber: string;
  amountMinor: number;
  /** COR only: the corrected data (account or routing numbers: keep it out of logs and payloads). */
  correctedData?: string;
}

/** Reads a return/COR file (parseNacha checks every record and total); an entry without a 98/99 addenda is a NachaError. */
export function parseReturnFile(text: string): ReadReturn[] {
  const file = parseNacha(text);
  return file.batches.flatMap((batch) =>
    batch.entries.map(({ record, addenda }) => {
      const a = addenda[0];
      const type = a?.fields.addendaTypeCode;
      if (type !== '98' && type !== '99') throw new NachaError('a return or COR entry needs a 98 or 99 addenda', a?.line ?? record.line, 'Addenda', 'addendaTypeCode');
      const info = a.fields.addendaInformation;
      const originalTraceNumber = info.slice(3, 18);
      if (!/^\d{15}$/.test(originalTraceNumber)) throw new NachaError('the original entry trace number must be 15 digits', a.line, 'Addenda', 'originalEntryTraceNumber');
      const code = info.slice(0, 3);
      return type === '99'
        ? { kind: 'return' as const, code, originalTraceNumber, amountMinor: Number(record.fields.amount) }
        : { kind: 'correction' as const, code, originalTraceNumber, amountMinor: 0, correctedData: info.slice(32, 61).trimEnd() };
    }),
  );
}

