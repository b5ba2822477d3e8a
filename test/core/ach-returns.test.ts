/**
 * The NACHA return reason table and the return windows checked against the Fed calendar.
 */
import assert from 'node:assert/strict';
import { ACH_RETURN_CODES, achReturnCode, assessAchReturn, returnDeadline } from '../../core/ach-returns';
import { easternInstant } from '../../core/calendar';

describe('ACH return reason codes and windows', () => {
  it('lists every defined code from R01 to R85 once, with a title and a window', () => {
    const codes = ACH_RETURN_CODES.map((c) => c.code);
    assert.equal(new Set(codes).size, codes.length);
    assert.equal(codes[0], 'R01');
    assert.equal(codes[codes.length - 1], 'R85');
    for (const n of [1, 2, 3, 4, 5, 10, 11, 29, 51, 53, 61, 68, 77, 80, 85]) assert.ok(achReturnCode(`R${String(n).padStart(2, '0')}`), `R${n}`);
    for (const absent of ['R00', 'R48', 'R49', 'R54', 'R60', 'R78', 'R86', 'C01']) assert.equal(achReturnCode(absent), undefined, absent);
    for (const c of ACH_RETURN_CODES) assert.ok(c.title.length > 3, c.code);
  });

  it('gives the unauthorized family 60 calendar days and the rest 2 banking days', () => {
    const sixty = ACH_RETURN_CODES.filter((c) => c.window.kind === 'calendar_days').map((c) => c.code);
    assert.deepEqual(sixty, ['R05', 'R07', 'R10', 'R11', 'R33', 'R37', 'R38', 'R51', 'R52', 'R53']);
    assert.deepEqual(achReturnCode('R01')!.window, { kind: 'banking_days', days: 2 });
    assert.deepEqual(achReturnCode('R29')!.window, { kind: 'banking_days', days: 2 });
    assert.deepEqual(achReturnCode('R06')!.window, { kind: 'by_agreement' });
  });

  const cases: [string, string, string | undefined][] = [
    // settled, code, deadline (2026-11-26 is Thanksgiving; 2026-12-25 Christmas)
    ['2026-11-24', 'R01', '2026-11-27'],
    ['2026-11-25', 'R03', '2026-11-30'],
    ['2026-12-23', 'R02', '2026-12-28'],
    ['2026-11-24', 'R10', '2027-01-23'],
    ['2026-11-24', 'R05', '2027-01-23'],
    ['2026-11-24', 'R29', '2026-11-27'],
    ['2026-11-24', 'R06', undefined],
    ['2026-11-24', 'R99', undefined],
  ];
  for (const [settled, code, deadline] of cases) {
    it(`${code} settled ${settled}: deadline ${deadline ?? 'none'}`, () => assert.equal(returnDeadline(settled, code), deadline));
  }

  const at = (date: string, time = '12:00') => easternInstant(date, time).getTime();

  it('takes a return on or before its deadline date and flags one after it, naming the late return', () => {
    const settled = at('2026-11-24', '08:30');
    assert.equal(assessAchReturn('R01', settled, at('2026-11-27', '23:59')).timely, true);
    const late = assessAchReturn('R01', settled, at('2026-11-30', '06:00'));
    assert.equal(late.timely, false);
    assert.match(late.timely ? '' : late.reason, /late return R01 \(Insufficient funds\) received 2026-11-30; the entry settled 2026-11-24 and its return deadline was 2026-11-27/);
    // R10 on day 59 and day 60 is timely; day 61 is not.
    assert.equal(assessAchReturn('R10', settled, at('2027-01-22')).timely, true);
    assert.equal(assessAchReturn('R10', settled, at('2027-01-23')).timely, true);
    assert.equal(assessAchReturn('R10', settled, at('2027-01-24')).timely, false);
    // No NACHA window: taken whenever it comes.
    assert.equal(assessAchReturn('R06', settled, at('2027-06-01')).timely, true);
  });

  it('puts codes that are not returns of an original entry before an operator', () => {
    const settled = at('2026-11-24');
    const dishonor = assessAchReturn('R68', settled, settled + 1000);
    assert.equal(dishonor.timely, false);
    assert.match(dishonor.timely ? '' : dishonor.reason, /answers a return/);
    const unknown = assessAchReturn('R99', settled, settled + 1000);
    assert.match(unknown.timely ? '' : unknown.reason, /not a NACHA return reason code/);
    assert.throws(() => assessAchReturn('R01', settled, settled - 1), RangeError);
  });
});
