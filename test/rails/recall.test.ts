/**
 * SEPA recall messages and the simulator's recall endpoint: camt.056.001.09 and camt.029.001.10
 * built, validated against the official XSDs (read from ../shared), parsed back, malformed ones
 * refused; the bank cancels a payment it has not settled, refuses a settled or unknown one,
 * answers a repeated cancellation ID with its first resolution, and refuses nothing it cannot
 * answer (503 while down, booking nothing). The SEPA rail's recall() against it.
 */
import assert from 'node:assert/strict';
import { buildCamt029, buildCamt056, parseCamt029, parseCamt056, type CancellationRequest } from '../../rails/iso20022/recall';
import { parsePain002 } from '../../rails/iso20022/pain';
import { IsoMessageError } from '../../rails/iso20022/xml';
import { createSepaRail } from '../../rails/sepa/rail';
import { SEPA_ORIGINATOR } from '../../workers/deps';
import { assertValidAgainstXsd } from '../support/xsd';
import { startSim, type RunningSim } from '../support/global';

const REQUEST: CancellationRequest = {
  cancellationId: 'tr_01m864vsjjnxaswbs75djjqf6w:rcl',
  createdAt: new Date('2026-11-26T10:00:00.123Z'),
  assignerBic: 'RAILDEFFXXX',
  assigneeBic: 'SIMBDEFFXXX',
  originalMessageId: 'att_01m864vsjjnxaswbs75djjqf6w',
  originalMessageName: 'pain.001.001.10',
  originalEndToEndId: 'att_01m864vsjjnxaswbs75djjqf6w',
  amountMinor: 123_456,
  currency: 'EUR',
  reason: 'CUST',
  additionalInfo: 'client asked: paid the wrong supplier (é)',
};

describe('camt.056 / camt.029 (SEPA recall messages)', () => {
  it('builds a schema-valid camt.056.001.09 and reads it back exactly, amount in minor units', async () => {
    const xml = buildCamt056(REQUEST);
    await assertValidAgainstXsd(xml, 'camt.056.001.09');
    assert.match(xml, /<OrgnlIntrBkSttlmAmt Ccy="EUR">1234.56<\/OrgnlIntrBkSttlmAmt>/);
    const back = parseCamt056(xml);
    assert.deepEqual(back, { ...REQUEST, createdAt: new Date('2026-11-26T10:00:00Z'), additionalInfo: 'client asked: paid the wrong supplier (e)' });
    await assertValidAgainstXsd(buildCamt056({ ...REQUEST, reason: 'DUPL', additionalInfo: undefined, amountMinor: 1 }), 'camt.056.001.09');
  });

  it('refuses to build what the schema would not take: IDs over 35 characters, unknown reasons', () => {
    assert.throws(() => buildCamt056({ ...REQUEST, cancellationId: `${'x'.repeat(36)}` }), /cancellationId must be 1–35 characters/);
    assert.throws(() => buildCamt056({ ...REQUEST, reason: 'FRAD' as 'CUST' }), /unsupported recall reason FRAD/);
    assert.throws(() => buildCamt029({ messageId: 'm', createdAt: new Date(), cancellationId: 'c', originalEndToEndId: 'e', confirmation: 'RJCR', assignerBic: 'SIMBDEFFXXX', assigneeBic: 'RAILDEFFXXX' }), /carries a reason code/);
  });

  it('builds schema-valid camt.029.001.10 resolutions, CNCL and RJCR with its reason, and parses them', async () => {
    const cncl = buildCamt029({ messageId: 'SIM-RSL-1', createdAt: new Date('2026-11-26T10:00:01Z'), cancellationId: REQUEST.cancellationId, originalEndToEndId: REQUEST.originalEndToEndId, confirmation: 'CNCL', assignerBic: 'SIMBDEFFXXX', assigneeBic: 'RAILDEFFXXX' });
    await assertValidAgainstXsd(cncl, 'camt.029.001.10');
    assert.deepEqual(parseCamt029(cncl), { messageId: 'SIM-RSL-1', createdAt: new Date('2026-11-26T10:00:01Z'), cancellationId: REQUEST.cancellationId, originalEndToEndId: REQUEST.originalEndToEndId, confirmation: 'CNCL' });
    const rjcr = buildCamt029({ messageId: 'SIM-RSL-2', createdAt: new Date('2026-11-26T10:00:01Z'), cancellationId: REQUEST.cancellationId, originalEndToEndId: REQUEST.originalEndToEndId, confirmation: 'RJCR', reasonCode: 'ARDT', reasonText: 'already settled on 2026-11-25', assignerBic: 'SIMBDEFFXXX', assigneeBic: 'RAILDEFFXXX' });
    await assertValidAgainstXsd(rjcr, 'camt.029.001.10');
    const parsed = parseCamt029(rjcr);
    assert.equal(parsed.confirmation, 'RJCR');
    assert.equal(parsed.reasonCode, 'ARDT');
    assert.equal(parsed.reasonText, 'already settled on 2026-11-25');
  });

  it('refuses malformed or contradictory answers as protocol errors, never as a cancellation', () => {
    const cncl = buildCamt029({ messageId: 'm', createdAt: new Date(), cancellationId: 'c', originalEndToEndId: 'e', confirmation: 'CNCL', assignerBic: 'SIMBDEFFXXX', assigneeBic: 'RAILDEFFXXX' });
    assert.throws(() => parseCamt029(cncl.replace('<Conf>CNCL</Conf>', '<Conf>PECR</Conf>')), /expected CNCL or RJCR, got PECR/);
    assert.throws(() => parseCamt029(cncl.replace('<TxCxlSts>ACCR</TxCxlSts>', '<TxCxlSts>RJCR</TxCxlSts>')), /contradicts Sts\/Conf CNCL/);
    assert.throws(() => parseCamt029(cncl.replace(/<CxlDtls>[\s\S]*<\/CxlDtls>/, '')), /missing RsltnOfInvstgtn\/CxlDtls/);
    const rjcrWithoutReason = cncl.replace('<Conf>CNCL</Conf>', '<Conf>RJCR</Conf>').replace('<TxCxlSts>ACCR</TxCxlSts>', '<TxCxlSts>RJCR</TxCxlSts>');
    assert.throws(() => parseCamt029(rjcrWithoutReason), /a refused recall carries a reason/);
    assert.throws(() => parseCamt029('<Document><RsltnOfInvstgtn>'), IsoMessageError);
    assert.throws(() => parseCamt056(buildCamt056(REQUEST).replace('<Cd>CUST</Cd>', '<Cd>FRAD</Cd>')), /FRAD is not a recall reason/);
    assert.throws(() => parseCamt056(buildCamt056(REQUEST).replace(/<OrgnlEndToEndId>[^<]*<\/OrgnlEndToEndId>/, '')), /missing TxInf\/OrgnlEndToEndId/);
  });
});

describe('the simulator takes SEPA recalls at /sepa/camt056', () => {
  let bank: RunningSim;
  let seq = 0;

  before(async () => {
    bank = await startSim(60_000);
  });
  afterEach(() => fetch(`${bank.url}/sim/rules`, { method: 'DELETE' }));

  const rail = () => createSepaRail(bank.url, SEPA_ORIGINATOR);

  async function paid(iban = 'DE89370400440532013000'): Promise<string> {
    const reference = `att_recall_${Date.now()}_${++seq}`;
    const answer = await rail().submit({ reference, transferId: `tr_${seq}`, amountMinor: 2_500, currency: 'EUR', beneficiary: { name: 'Emilie du Chatelet', iban, bic: 'COBADEFFXXX' }, remittance: null, createdAt: new Date() });
    assert.deepEqual(answer, { kind: 'accepted' });
    return reference;
  }

  const recallOf = (reference: string, recallId = `${reference}:rcl`.slice(-35)) => ({ recallId, reference, amountMinor: 2_500, currency: 'EUR', reason: 'CUST' as const });
  const sent = (reference: string) => bank.sim.submissions.filter((s) => s.reference === reference && s.status.startsWith('recall_'));

  it('cancels a pending payment (CNCL): it inquires as CANC and never settles; the same ID is answered the same', async () => {
    const reference = await paid();
    const request = recallOf(reference);
    assert.deepEqual(await rail().recall!(request), { kind: 'canceled' });
    const [first] = sent(reference);
    assert.equal(first.status, 'recall_accepted');
    await assertValidAgainstXsd(first.raw, 'camt.056.001.09');
    assert.equal(parseCamt056(first.raw).originalEndToEndId, reference);
    assert.equal(bank.sim.payments.get(reference)!.status, 'canceled');
    assert.equal(bank.sim.payments.get(reference)!.settleAtMs, null, 'a canceled payment never settles');
    assert.deepEqual(await rail().inquire(reference), { status: 'canceled', code: null });
    const report = await (await fetch(`${bank.url}/sepa/payments/${reference}`)).text();
    assert.equal(parsePain002(report).status, 'CANC');

    assert.deepEqual(await rail().recall!(request), { kind: 'canceled' }, 'a repeated cancellation ID gets the first resolution');
    assert.deepEqual(sent(reference).map((s) => [s.status, s.duplicate]), [['recall_accepted', false], ['recall_duplicate', true]]);
    const submissions = (await (await fetch(`${bank.url}/sim/submissions?reference=${reference}`)).json()) as { counts: Record<string, number>; duplicateCount: number };
    assert.equal(submissions.counts[reference], 1, 'recalls are not counted as payments');
    assert.equal(submissions.duplicateCount, 0);
  });

  it('cancels a held payment too, and answers CNCL in a schema-valid camt.029', async () => {
    const iban = 'DE02120300000000202051';
    await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { iban }, behavior: 'hold' }) });
    const reference = await paid(iban);
    assert.equal(bank.sim.payments.get(reference)!.status, 'held');
    const res = await fetch(`${bank.url}/sepa/camt056`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: buildCamt056({ ...REQUEST, cancellationId: `rcl-${seq}`, originalEndToEndId: reference, originalMessageId: reference, amountMinor: 2_500 }) });
    assert.equal(res.status, 200);
    const xml = await res.text();
    await assertValidAgainstXsd(xml, 'camt.029.001.10');
    assert.equal(parseCamt029(xml).confirmation, 'CNCL');
    assert.equal(bank.sim.payments.get(reference)!.status, 'canceled');
    assert.equal((await fetch(`${bank.url}/sim/payments/${reference}/release`, { method: 'POST' })).status, 409, 'a canceled payment cannot be released to settle');
  });

  it('refuses (RJCR ARDT) a payment already settled, and (RJCR NOOR) one it never received or for another amount', async () => {
    const reference = await paid();
    bank.sim.payments.get(reference)!.settleAtMs = Date.now() - 1;
    const refused = await rail().recall!(recallOf(reference));
    assert.equal(refused.kind, 'refused');
    assert.equal(refused.kind === 'refused' && refused.code, 'ARDT');
    assert.match(refused.kind === 'refused' ? refused.message : '', /refused the recall \(ARDT: .*already settled on \d{4}-\d{2}-\d{2}\)/);
    assert.equal(bank.sim.payments.get(reference)!.status, 'settled');

    const unknown = await rail().recall!(recallOf('att_never_sent'));
    assert.equal(unknown.kind === 'refused' && unknown.code, 'NOOR');
    const other = await paid();
    const wrongAmount = await rail().recall!({ ...recallOf(other), amountMinor: 2_501 });
    assert.equal(wrongAmount.kind === 'refused' && wrongAmount.code, 'NOOR');
    assert.equal(bank.sim.payments.get(other)!.status, 'pending', 'a recall that does not match the payment cancels nothing');
  });

  it('while down it answers 503 and books nothing; a malformed request is 400', async () => {
    const iban = 'DE75512108001245126199';
    const reference = await paid(iban);
    await fetch(`${bank.url}/sim/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: { iban }, behavior: 'unavailable' }) });
    await assert.rejects(rail().recall!(recallOf(reference)), { name: 'BankUnavailableError', message: /bank answered 503/ });
    assert.equal(bank.sim.payments.get(reference)!.status, 'pending');
    await fetch(`${bank.url}/sim/rules`, { method: 'DELETE' });
    assert.deepEqual(await rail().recall!(recallOf(reference)), { kind: 'canceled' }, 'the same ID after the outage is a first resolution');

    const bad = await fetch(`${bank.url}/sepa/camt056`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<Document><FIToFIPmtCxlReq/></Document>' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'message_rejected');
  });
});
