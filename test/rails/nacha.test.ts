import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from '../support/shared';
import { abaChecksumValid, buildCreditFile, emitNacha, ENTRY_AMOUNT_MINOR_MAX, entryProblem, NachaError, normalizeNacha, parseNacha } from '../../rails/ach/nacha';

const FIXTURES = path.join(SHARED_DIR, 'nacha');

describe('NACHA files', () => {
  const input = {
    originRouting: '123456780',
    originName: 'Railyard',
    destinationRouting: '123456780',
    destinationName: 'Railyard Sim Bank',
    companyName: 'Railyard',
    companyId: '1871234567',
    entryClass: 'PPD' as const,
    entryDescription: 'PAYOUT',
    createdAt: new Date('2026-11-24T15:04:00Z'),
    effectiveDate: new Date('2026-11-25T00:00:00Z'),
    fileIdModifier: 'A',
    entries: [
      { transactionCode: '22' as const, routingNumber: '110000000', accountNumber: '000123456789', amountMinor: 1050, individualId: 'tr_123', individualName: 'Zoë Ångström', traceNumber: '123456780000001' },
      { transactionCode: '32' as const, routingNumber: '123456780', accountNumber: '42', amountMinor: 99_999_999, individualId: 'tr_124', individualName: 'Bob', traceNumber: '123456780000002' },
    ],
  };

  it('checks ABA routing numbers', () => {
    assert.equal(abaChecksumValid('110000000'), true);
    assert.equal(abaChecksumValid('123456780'), true);
    assert.equal(abaChecksumValid('123456789'), false);
    assert.equal(abaChecksumValid('12345678'), false);
  });

  it('builds a credit file that is blocked, balanced, parses strictly and re-emits identically', () => {
    const text = emitNacha(buildCreditFile(input));
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length % 10, 0);
    for (const line of lines) assert.equal(line.length, 94);
    const parsed = parseNacha(text);
    assert.equal(emitNacha(parsed), text);
    const entries = parsed.batches[0].entries.map((e) => e.record.fields);
    assert.equal(entries[0].amount, '0000001050');
    assert.equal(entries[0].individualName, 'ZOE ANGSTROM          ');
    assert.equal(entries[1].transactionCode, '32');
    assert.equal(parsed.control.fields.totalCreditEntryDollarAmountInFile, '000100001049');
    assert.equal(parsed.control.fields.entryHash, String(11000000 + 12345678).padStart(10, '0'));
  });

  it('refuses to build an entry with a bad routing number or amount', () => {
    assert.throws(() => buildCreditFile({ ...input, entries: [{ ...input.entries[0], routingNumber: '110000001' }] }), /ABA checksum/);
    assert.throws(() => buildCreditFile({ ...input, entries: [{ ...input.entries[0], amountMinor: 0 }] }), /not a positive whole number of cents/);
    assert.throws(() => buildCreditFile({ ...input, entries: [{ ...input.entries[0], amountMinor: 10.5 }] }), /not a positive whole number of cents/);
  });

  it('writes the largest amount the 10-digit field holds and names the field for one cent more', () => {
    const max = { ...input.entries[0], amountMinor: ENTRY_AMOUNT_MINOR_MAX };
    assert.equal(ENTRY_AMOUNT_MINOR_MAX, 9_999_999_999);
    assert.equal(parseNacha(emitNacha(buildCreditFile({ ...input, entries: [max] }))).batches[0].entries[0].record.fields.amount, '9999999999');
    assert.equal(entryProblem(max), null);
    assert.match(entryProblem({ ...max, amountMinor: ENTRY_AMOUNT_MINOR_MAX + 1 }) ?? '', /does not fit the 10-digit NACHA amount field/);
    assert.throws(() => buildCreditFile({ ...input, entries: [{ ...max, amountMinor: ENTRY_AMOUNT_MINOR_MAX + 1 }] }), /10-digit NACHA amount field/);
  });

  it('rejects a tampered file whole, naming the record and field', () => {
    const text = emitNacha(buildCreditFile(input));
    const tampered = text.replace('0000001050', '0000001051');
    assert.throws(() => parseNacha(tampered), (err: unknown) => {
      assert.ok(err instanceof NachaError);
      assert.equal(err.record, 'Batch Control');
      assert.equal(err.field, 'totalCreditEntryDollarAmount');
      return true;
    });
  });

  describe('fixture files from ../shared/nacha', () => {
    before(function () {
      if (!existsSync(FIXTURES)) {
        throw new Error(`NACHA fixtures are missing: expected them at ${FIXTURES} (../shared/nacha beside the project, or set RAILYARD_SHARED_DIR)`);
      }
    });

    it('rejects every invalid file whole, naming the record and the field', () => {
      const names = readdirSync(path.join(FIXTURES, 'invalid'));
      assert.ok(names.length > 0);
      for (const name of names) {
        const text = readFileSync(path.join(FIXTURES, 'invalid', name), 'latin1');
        assert.throws(
          () => parseNacha(text),
          (err: unknown) => err instanceof NachaError && err.record.length > 0 && !!err.field && /^line \d+ \(/.test(err.message),
          name,
        );
      }
    });

    it('reads lenient files with normalisation into strict files, or rejects them clearly — never crashes', () => {
      const outcomes: Record<string, string> = {};
      for (const name of readdirSync(path.join(FIXTURES, 'lenient'))) {
        const text = readFileSync(path.join(FIXTURES, 'lenient', name), 'latin1');
        assert.throws(() => parseNacha(text), NachaError, `${name} is not strictly valid`);
        try {
          const strict = emitNacha(normalizeNacha(parseNacha(text, { lenient: true })));
          assert.equal(emitNacha(parseNacha(strict)), strict, name);
          outcomes[name] = 'normalised';
        } catch (err) {
          assert.ok(err instanceof NachaError && err.field, `${name}: ${(err as Error).message}`);
          outcomes[name] = `rejected: ${err.message}`;
        }
      }
      assert.ok(Object.values(outcomes).some((o) => o === 'normalised'), JSON.stringify(outcomes));
    });

    it('parses every valid file and re-emits it byte for byte', () => {
      const names = readdirSync(path.join(FIXTURES, 'valid'));
      assert.ok(names.length > 0);
      for (const name of names) {
        const text = readFileSync(path.join(FIXTURES, 'valid', name), 'latin1');
        assert.equal(emitNacha(parseNacha(text)), text, name);
      }
    });
  });
});
