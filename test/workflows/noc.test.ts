/**
 * Notifications of change: the simulator's magic accounts pay and then send a COR entry; Railyard
 * records the correction on the transfer once (a stored row and an event) and the payout completes.
 * Time-skipping server, real activities, MariaDB, the simulator over HTTP.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import { AchCorrection, TransferEvent } from '../../db/schema';
import { transferRunner, type TransferRunner } from '../support/workflow-runner';
import { BENEFICIARY, balanceOf, createdTransfer, fundedClient } from '../support/fixtures';
import { describeChange, readCorrectedData } from '../../core/ach-noc';

describe('notifications of change (time-skipping server)', () => {
  let orm: MikroORM;
  let runner: TransferRunner;

  before(async () => {
    runner = await transferRunner();
    ({ orm } = runner);
  });

  const cases: [string, string, string, RegExp][] = [
    ['000666666668', 'C01', '000666666669', /C01 \(Incorrect DFI account number\): corrected accountNumber \*{8}6669; /],
    ['000777777771', 'C02', '021000021', /C02 \(Incorrect routing number\): corrected routingNumber 021000021/],
    ['000888888885', 'C03', '021000021   000888888886', /C03 .*: corrected routingNumber 021000021, accountNumber \*{8}8886; /],
  ];
  for (const [accountNumber, code, correctedData, reason] of cases) {
    it(`${code}: the payout completes and the correction is recorded once`, async () => {
      const clientId = await fundedClient(orm, 5_000);
      const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber });
      const state = await runner.run(input);
      assert.equal(state.status, 'completed');
      assert.deepEqual(await balanceOf(orm, clientId), { currency: 'USD', availableMinor: 4_000, heldMinor: 0 });
      const rows = await orm.em.fork().find(AchCorrection, { transferId: input.transferId });
      assert.deepEqual(rows.map((r) => ({ code: r.code, correctedData: r.correctedData, traceNumber: r.traceNumber })), [{ code, correctedData, traceNumber: state.railReference }]);
      const events = await orm.em.fork().find(TransferEvent, { transferId: input.transferId }, { orderBy: { at: 'asc', id: 'asc' } });
      const noc = events.filter((e) => e.reason?.startsWith('notification of change'));
      assert.equal(noc.length, 1, 'one event, however many looks saw the COR entry');
      // The event carries the transfer's status when the COR arrived: the bank sends it once it has paid.
      assert.ok(['submitted', 'settled', 'completed'].includes(noc[0].status), noc[0].status);
      assert.match(noc[0].reason!, reason);
    });
  }

  it('an ordinary account gets no correction', async () => {
    const clientId = await fundedClient(orm, 5_000);
    const input = await createdTransfer(orm, clientId, 1_000, { ...BENEFICIARY, accountNumber: '700000201' });
    assert.equal((await runner.run(input)).status, 'completed');
    assert.equal(await orm.em.fork().count(AchCorrection, { transferId: input.transferId }), 0);
  });

  it('reads corrected data by its NACHA layout', () => {
    assert.deepEqual(readCorrectedData('C06', '12345678901234567   22'), { accountNumber: '12345678901234567', transactionCode: '22' });
    assert.deepEqual(readCorrectedData('C07', `021000021${'000888888886'.padEnd(17, ' ')}32`), { routingNumber: '021000021', accountNumber: '000888888886', transactionCode: '32' });
    assert.match(describeChange('C99', 'X'), /unknown change code/);
  });
});
