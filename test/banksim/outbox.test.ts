/**
 * The simulator's outbox: what the bank sends on its own lands there in order, in the rails'
 * formats (ISO messages valid against the official XSDs; NACHA return and COR files that
 * rails/ach/nacha.ts parses), and pages by cursor.
 */
import assert from 'node:assert/strict';
import { parseNacha } from '../../rails/ach/nacha';
import { parseReturnFile } from '../../rails/ach/return-file';
import { parseAchAck } from '../../rails/ach/acknowledgment';
import { parsePacs002 } from '../../rails/iso20022/messages';
import { parsePain002 } from '../../rails/iso20022/pain';
import { parsePacs004 } from '../../rails/iso20022/pacs004';
import { parseCamt054 } from '../../rails/iso20022/camt054';
import { parseCamt053 } from '../../rails/iso20022/camt053';
import { parseCamt029 } from '../../rails/iso20022/recall';
import { startSim, type RunningSim } from '../support/global';
import { assertValidAgainstXsd } from '../support/xsd';
import { IBAN, newReference, payAch, payIso, paySepa, readOutbox, recallSepa, waitFor, wholeOutbox, type OutboxItem } from '../support/sim-payments';

const XSD: Record<string, string> = { 'pacs.002': 'pacs.002.001.11', 'pain.002': 'pain.002.001.11', 'pacs.004': 'pacs.004.001.10', 'camt.054': 'camt.054.001.08', 'camt.029': 'camt.029.001.10', 'camt.053': 'camt.053.001.08' };

describe('bank simulator outbox', () => {
  let bank: RunningSim;
  before(async () => {
    // A settlement "day" of 200 ms: SEPA and SWIFT settle within a second.
    bank = await startSim(200);
  });
  afterEach(async () => {
    await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
  });

  const rule = (body: unknown) => fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  /** The outbox's messages about `reference` (ISO messages name it; ACH files carry the trace number), statements aside. */
  const about = async (rail: string, reference: string) => (await wholeOutbox(bank.url, rail)).filter((m) => m.type !== 'camt.053' && m.raw.includes(reference));
  const types = (ms: OutboxItem[]) => ms.map((m) => m.type);
  async function valid(messages: OutboxItem[]): Promise<void> {
    for (const m of messages) if (XSD[m.type]) await assertValidAgainstXsd(m.raw, XSD[m.type]);
  }

  it('RTP: a payment settled on the spot sends pacs.002 ACCC, then a camt.054 debit of what was booked', async () => {
    const ref = newReference('RTP');
    assert.equal((await payIso(bank.url, 'rtp', ref, 12_345)).status, 200);
    const messages = await waitFor('the settlement messages', async () => {
      const ms = await about('rtp', ref);
      return ms.length >= 2 && ms;
    });
    assert.deepEqual(types(messages), ['pacs.002', 'camt.054']);
    await valid(messages);
    assert.equal(parsePacs002(messages[0].raw).status, 'ACCC');
    assert.equal(parsePacs002(messages[0].raw).messageId, messages[0].id, 'the message carries its outbox ID');
    const [notification] = parseCamt054(messages[1].raw);
    assert.deepEqual(
      notification.entries.map((e) => [e.endToEndId, e.direction, e.amountMinor]),
      [[ref, 'DBIT', 12_345]],
    );
    assert.equal(notification.accountId, 'RAILYARD-RTP-USD');
  });

  it('SWIFT: accepted (ACSP), then settled after the delay (ACCC and camt.054), in that order', async () => {
    const ref = newReference('SWF');
    await payIso(bank.url, 'swift', ref, 50_000);
    const messages = await waitFor('settlement', async () => {
      const ms = await about('swift', ref);
      return ms.length >= 3 && ms;
    });
    assert.deepEqual(types(messages), ['pacs.002', 'pacs.002', 'camt.054']);
    assert.deepEqual(messages.slice(0, 2).map((m) => parsePacs002(m.raw).status), ['ACSP', 'ACCC']);
    await valid(messages);
  });

  it('a rejection sends the status report RJCT with the rail code, and nothing else', async () => {
    await rule({ match: { iban: 'DE75512108001245126199' }, behavior: 'reject', code: 'AC04' });
    const ref = newReference('REJ');
    await paySepa(bank.url, ref, 1_000, 'DE75512108001245126199');
    const messages = await about('sepa', ref);
    assert.deepEqual(types(messages), ['pain.002']);
    assert.deepEqual([parsePain002(messages[0].raw).status, parsePain002(messages[0].raw).reasonCode], ['RJCT', 'AC04']);
    await valid(messages);
  });

  it('hold then release: PDNG, then on release settlement (ACSC, camt.054)', async () => {
    await rule({ match: { iban: 'DE02100100100006820101' }, behavior: 'hold' });
    const ref = newReference('HLD');
    await paySepa(bank.url, ref, 2_000, 'DE02100100100006820101');
    assert.deepEqual((await about('sepa', ref)).map((m) => parsePain002(m.raw).status), ['PDNG']);
    assert.equal((await fetch(`${bank.url}/sim/payments/${ref}/release`, { method: 'POST' })).status, 200);
    const messages = await waitFor('settlement after release', async () => {
      const ms = await about('sepa', ref);
      return ms.length >= 3 && ms;
    });
    assert.deepEqual(types(messages), ['pain.002', 'pain.002', 'camt.054']);
    assert.equal(parsePain002(messages[1].raw).status, 'ACSC');
    await valid(messages);
  });

  it('return_after_settlement and POST /sim/payments/:reference/return send a pacs.004 with the code and amount', async () => {
    await rule({ match: { amountMinor: 3_333 }, behavior: 'return_after_settlement', code: 'AC04', delayMs: 100 });
    const later = newReference('RTA');
    await paySepa(bank.url, later, 3_333);
    const now = newReference('RTN');
    await payIso(bank.url, 'rtp', now, 4_444);
    await waitFor('the RTP payment settled', async () => (await about('rtp', now)).length >= 2);
    assert.equal((await fetch(`${bank.url}/sim/payments/${now}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'AC06' }) })).status, 200);
    for (const [rail, ref, code, amount] of [['sepa', later, 'AC04', 3_333], ['rtp', now, 'AC06', 4_444]] as const) {
      const messages = await waitFor(`the ${rail} return`, async () => {
        const ms = await about(rail, ref);
        return ms.some((m) => m.type === 'pacs.004') && ms;
      });
      assert.equal(messages[messages.length - 1].type, 'pacs.004', 'the return comes after the settlement');
      const r = parsePacs004(messages[messages.length - 1].raw);
      assert.deepEqual([r.endToEndId, r.reasonCode, r.returnedAmountMinor], [ref, code, amount]);
      await valid(messages);
    }
  });

  it('ACH: a file acknowledgment gives every entry its fate; settlement a camt.054; a NOC and a return come as NACHA files', async () => {
    // An ordinary entry, the magic R03 rejection, the magic C01 notification of change.
    const { status, traces } = await payAch(bank.url, [
      { accountNumber: '000123456780', amountMinor: 10_000 },
      { accountNumber: '000111111116', amountMinor: 20_000 },
      { accountNumber: '000666666668', amountMinor: 30_000 },
    ]);
    assert.equal(status, 202);
    const ack = (await wholeOutbox(bank.url, 'ach')).find((m) => m.type === 'ach.file_ack' && traces.every((t) => m.raw.includes(t)))!;
    assert.ok(ack, 'the file is acknowledged');
    assert.deepEqual(
      parseAchAck(ack.raw).entries.map((e) => [e.traceNumber, e.status, e.code]),
      [[traces[0], 'accepted', null], [traces[1], 'rejected', 'R03'], [traces[2], 'accepted', null]],
    );
    const cor = await waitFor('the COR file', async () => (await about('ach', traces[2])).find((m) => m.type === 'nacha.return'));
    parseNacha(cor.raw);
    assert.deepEqual(parseReturnFile(cor.raw), [{ kind: 'correction', code: 'C01', originalTraceNumber: traces[2], amountMinor: 0, correctedData: '000666666669' }]);
    const settled = await about('ach', traces[0]);
    assert.deepEqual(types(settled), ['ach.file_ack', 'camt.054']);
    await valid(settled);

    assert.equal((await fetch(`${bank.url}/sim/payments/${traces[0]}/return`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'R01' }) })).status, 200);
    const ret = await waitFor('the return file', async () => (await about('ach', traces[0])).find((m) => m.type === 'nacha.return'));
    parseNacha(ret.raw);
    assert.deepEqual(parseReturnFile(ret.raw), [{ kind: 'return', code: 'R01', originalTraceNumber: traces[0], amountMinor: 10_000 }]);
    assert.equal((await about('ach', traces[1])).length, 1, 'the rejected entry: its acknowledgment only');
  });

  it('ACH reject_file: the acknowledgment refuses the file whole, each entry rejected as file_rejected', async () => {
    await rule({ match: { accountNumber: '000999000111' }, behavior: 'reject_file' });
    const { status, traces } = await payAch(bank.url, [{ accountNumber: '000999000111', amountMinor: 500 }]);
    assert.equal(status, 400);
    const ack = (await wholeOutbox(bank.url, 'ach')).find((m) => m.type === 'ach.file_ack' && m.raw.includes(traces[0]))!;
    const read = parseAchAck(ack.raw);
    assert.equal(read.status, 'rejected');
    assert.deepEqual(read.entries, [{ traceNumber: traces[0], status: 'rejected', code: 'file_rejected' }]);
  });

  it('a SEPA recall answer (camt.029) is sent as given', async () => {
    await rule({ match: { iban: 'DE91100000000123456789' }, behavior: 'hold' });
    const ref = newReference('RCL');
    await paySepa(bank.url, ref, 7_000, 'DE91100000000123456789');
    const answer = await recallSepa(bank.url, ref, 7_000);
    assert.equal(answer.status, 200);
    const messages = await about('sepa', ref);
    assert.deepEqual(types(messages), ['pain.002', 'camt.029']);
    assert.equal(messages[1].raw, answer.body);
    assert.equal(parseCamt029(messages[1].raw).confirmation, 'CNCL');
    await valid(messages);
  });

  it('statements: a camt.053 per rail account whose day has new entries, valid and with our payments on it', async () => {
    const ref = newReference('STM');
    await payIso(bank.url, 'sepa_instant', ref, 9_900, IBAN);
    const statement = await waitFor('a statement with the payment', async () => (await wholeOutbox(bank.url, 'sepa_instant')).find((m) => m.type === 'camt.053' && m.raw.includes(ref)), 10_000);
    await assertValidAgainstXsd(statement.raw, XSD['camt.053']);
    const [parsed] = parseCamt053(statement.raw);
    assert.equal(parsed.accountId, 'RAILYARD-SEPA_INSTANT-EUR');
    assert.deepEqual(parsed.entries.filter((e) => e.endToEndId === ref).map((e) => [e.direction, e.amountMinor]), [['DBIT', 9_900]]);
  });

  it('pages by cursor: small pages walk the same messages, in the same order, as one big page', async () => {
    const all = await wholeOutbox(bank.url);
    assert.ok(all.length > 5, `the earlier tests left messages (${all.length})`);
    const walked: OutboxItem[] = [];
    let after: string | undefined;
    for (let page = 0; page < 1_000; page++) {
      const { status, body } = await readOutbox(bank.url, { limit: '2', ...(after ? { after } : {}) });
      assert.equal(status, 200);
      assert.ok(body.data.length <= 2);
      walked.push(...body.data);
      if (body.data.length < 2) break;
      after = body.next;
    }
    assert.deepEqual(walked.slice(0, all.length).map((m) => m.id), all.map((m) => m.id));
    assert.equal(new Set(all.map((m) => m.id)).size, all.length, 'IDs are unique');
    // By rail: only that rail's messages, in the same relative order.
    const sepa = await wholeOutbox(bank.url, 'sepa');
    assert.deepEqual(sepa.map((m) => m.id), walked.filter((m) => m.rail === 'sepa').map((m) => m.id));
    // After the last cursor: nothing new, and the same cursor back.
    const last = await readOutbox(bank.url, { after: all[all.length - 1].cursor, rail: 'swift' });
    assert.ok(last.body.data.every((m: OutboxItem) => m.rail === 'swift'));
  });

  it('refuses bad parameters with 400 naming the parameter', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ rail: 'bitcoin' }, 'rail'],
      [{ after: 'abc' }, 'after'],
      [{ after: '-1' }, 'after'],
      [{ after: '99999999' }, 'after'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '501' }, 'limit'],
      [{ limit: 'ten' }, 'limit'],
    ];
    for (const [query, param] of cases) {
      const { status, body } = await readOutbox(bank.url, query);
      assert.equal(status, 400, JSON.stringify(query));
      assert.equal(body.error.param, param, JSON.stringify(query));
    }
  });
});
