/**
 * A window's NACHA files: one batch per SEC code and effective date, trace numbers per entry,
 * batch and file control totals that the strict parser (and the simulator) accept; batches and
 * files split before a count or total outgrows its control field.
 */
import assert from 'node:assert/strict';
import { emitNacha, parseNacha } from '../../rails/ach/nacha';
import { buildWindowFile, NACHA_FILE_LIMITS, planWindowFiles, type FileLimits, type WindowEntry } from '../../rails/ach/window-file';
import { ACH_ORIGINATOR } from '../../workers/deps';
import { startSim } from '../support/global';

const entry = (n: number, over: Partial<WindowEntry> = {}): WindowEntry => ({
  transactionCode: '22',
  routingNumber: n % 2 ? '110000000' : '021000021',
  accountNumber: `70000${String(n).padStart(4, '0')}`,
  amountMinor: 1_000 * n,
  individualId: `tr_${n}`,
  individualName: `Payee ${n}`,
  traceNumber: `12345678${String(100 - n).padStart(7, '0')}`,
  entryClass: 'PPD',
  effectiveDate: '2026-11-27',
  ...over,
});

describe('NACHA window files', () => {
  const entries = [
    entry(1),
    entry(2),
    entry(3, { entryClass: 'CCD' }),
    entry(4, { effectiveDate: '2026-11-30' }),
    entry(5),
  ];
  const build = () => buildWindowFile({ ...ACH_ORIGINATOR, entryDescription: 'PAYOUT', createdAt: new Date('2026-11-27T15:29:00Z'), fileIdModifier: 'A', entries });

  it('puts each SEC code and effective date in its own batch, entries in trace order, with exact controls', () => {
    const file = parseNacha(emitNacha(build()));
    const shape = file.batches.map((b) => ({
      sec: b.header.fields.standardEntryClassCode,
      effective: b.header.fields.effectiveEntryDate,
      batchNumber: b.header.fields.batchNumber,
      traces: b.entries.map((e) => e.record.fields.traceNumber),
      credits: Number(b.control.fields.totalCreditEntryDollarAmount),
      count: Number(b.control.fields.entryAddendaCount),
    }));
    assert.deepEqual(shape, [
      { sec: 'CCD', effective: '261127', batchNumber: '0000001', traces: ['123456780000097'], credits: 3_000, count: 1 },
      { sec: 'PPD', effective: '261127', batchNumber: '0000002', traces: ['123456780000095', '123456780000098', '123456780000099'], credits: 8_000, count: 3 },
      { sec: 'PPD', effective: '261130', batchNumber: '0000003', traces: ['123456780000096'], credits: 4_000, count: 1 },
    ]);
    const c = file.control.fields;
    assert.equal(c.batchCount, '000003');
    assert.equal(c.entryAddendaCount, '00000005');
    assert.equal(Number(c.totalCreditEntryDollarAmountInFile), 15_000);
    assert.equal(Number(c.totalDebitEntryDollarAmountInFile), 0);
    // Routing numbers' first eight digits: 11000000 three times, 02100002 twice.
    assert.equal(Number(c.entryHash), 3 * 11000000 + 2 * 2100002);
    // 1 header + 3×(header+control) + 5 entries + 1 control = 13 records → 2 blocks of 10.
    assert.equal(c.blockCount, '000002');
    assert.equal(file.fillerLines, 7);
  });

  it('is taken whole by the simulator, every entry answered under its trace number', async () => {
    const bank = await startSim(0);
    const res = await fetch(`${bank.url}/ach/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: emitNacha(build()) });
    assert.equal(res.status, 202);
    const body = (await res.json()) as { entries: { reference: string; status: string }[] };
    assert.deepEqual(body.entries.map((e) => e.status), ['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
    assert.deepEqual(new Set(body.entries.map((e) => e.reference)), new Set(entries.map((e) => e.traceNumber)));
  });

  it('refuses an empty window, a trace number twice, and a bad effective date', () => {
    const base = { ...ACH_ORIGINATOR, entryDescription: 'PAYOUT', createdAt: new Date(), fileIdModifier: 'A' };
    assert.throws(() => buildWindowFile({ ...base, entries: [] }), /at least one entry/);
    assert.throws(() => buildWindowFile({ ...base, entries: [entry(1), entry(1, { amountMinor: 5 })] }), /trace number appears twice/);
    assert.throws(() => buildWindowFile({ ...base, entries: [entry(1, { effectiveDate: '27/11/2026' })] }), /bad effective date/);
  });

  describe('splitting', () => {
    const base = { ...ACH_ORIGINATOR, entryDescription: 'PAYOUT', createdAt: new Date('2026-11-27T15:29:00Z'), fileIdModifier: 'A' };
    /** Every planned file builds, parses strictly, and together they carry each entry once. */
    function checkPlan(all: WindowEntry[], limits: FileLimits = NACHA_FILE_LIMITS) {
      const plan = planWindowFiles(all, limits);
      const parsed = plan.map((entries) => parseNacha(emitNacha(buildWindowFile({ ...base, entries }, limits))));
      const traces = parsed.flatMap((f) => f.batches.flatMap((b) => b.entries.map((e) => e.record.fields.traceNumber)));
      assert.deepEqual([...traces].sort(), all.map((e) => e.traceNumber).sort());
      for (const f of parsed) {
        assert.ok(Number(f.control.fields.totalCreditEntryDollarAmountInFile) <= limits.fileTotalMinorMax);
        assert.ok(Number(f.control.fields.entryAddendaCount) <= limits.fileEntriesMax);
        assert.ok(Number(f.control.fields.batchCount) <= limits.fileBatchesMax);
        assert.ok(Number(f.control.fields.blockCount) <= limits.fileBlocksMax);
        for (const b of f.batches) {
          assert.ok(Number(b.control.fields.totalCreditEntryDollarAmount) <= limits.batchTotalMinorMax);
          assert.ok(Number(b.control.fields.entryAddendaCount) <= limits.batchEntriesMax);
        }
      }
      return parsed;
    }
    const big = (n: number) => entry(n, { amountMinor: 9_999_999_999, traceNumber: `12345678${String(n).padStart(7, '0')}` });

    it('splits 101 entries of USD 99,999,999.99 into two files: 12-digit batch and file totals hold 100 each', () => {
      const all = Array.from({ length: 101 }, (_, i) => big(i + 1));
      const parsed = checkPlan(all);
      assert.deepEqual(parsed.map((f) => Number(f.control.fields.entryAddendaCount)), [100, 1]);
      assert.equal(parsed[0].control.fields.totalCreditEntryDollarAmountInFile, '999999999900');
    });

    it('closes a batch at its entry count and a file at its batch, entry and block counts', () => {
      const all = Array.from({ length: 57 }, (_, i) => entry(1, { traceNumber: `12345678${String(i).padStart(7, '0')}`, effectiveDate: i % 2 ? '2026-11-27' : '2026-11-30' }));
      const tight = { ...NACHA_FILE_LIMITS, batchEntriesMax: 4, fileBatchesMax: 3 };
      const parsed = checkPlan(all, tight);
      assert.ok(parsed.length >= 5, `${parsed.length} files`);
      checkPlan(all, { ...NACHA_FILE_LIMITS, fileEntriesMax: 10 });
      // 3 blocks are 30 records: header, control, one batch's two records and 26 entries at most.
      const blocks = checkPlan(all, { ...NACHA_FILE_LIMITS, fileBlocksMax: 3 });
      assert.ok(blocks.every((f) => Number(f.control.fields.entryAddendaCount) <= 26));
    });

    it('refuses to build one file that would overflow its control, pointing at the plan', () => {
      const all = Array.from({ length: 101 }, (_, i) => big(i + 1));
      assert.throws(() => buildWindowFile({ ...base, entries: all }), /do not fit one file; plan the window's files first/);
    });

    it('is taken by the simulator file by file', async () => {
      const bank = await startSim(0);
      const all = Array.from({ length: 101 }, (_, i) => big(i + 1));
      const plan = planWindowFiles(all);
      for (const [i, entries] of plan.entries()) {
        const res = await fetch(`${bank.url}/ach/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: emitNacha(buildWindowFile({ ...base, fileIdModifier: 'AB'[i], entries })) });
        assert.equal(res.status, 202);
      }
    });
  });
});
