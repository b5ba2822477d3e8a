/**
 * The outbox on both databases: a status change and its webhook event (with one delivery per
 * subscribed endpoint) commit together or not at all, and the backlog counts what is undelivered.
 */
import assert from 'node:assert/strict';
import type { MikroORM } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { newId } from '../../core/ids';
import { Transfer, WebhookDelivery, WebhookEndpoint, WebhookEvent } from '../../db/schema';
import { inTransaction } from '../../ledger/ledger';
import { moveStatus } from '../../transfers/status';
import { sweepWebhookOutbox, WEBHOOK_RETENTION_MS, webhookBacklog } from '../../webhooks/outbox';
import { createdTransfer } from '../support/fixtures';
import { mariadbOrm } from '../support/global';
import { sqliteOrm } from '../support/sqlite';

for (const dialect of ['mariadb', 'sqlite'] as const) {
  describe(`webhook outbox on ${dialect}`, () => {
    let orm: MikroORM;
    let close: () => Promise<void> = async () => undefined;

    before(async () => {
      if (dialect === 'mariadb') orm = await mariadbOrm();
      else ({ orm, close } = await sqliteOrm());
    });

    const endpointsMade: string[] = [];
    // Nothing is left for another suite's dispatcher: these endpoints are not real receivers.
    after(async () => {
      await orm.em.fork().nativeUpdate(WebhookDelivery, { endpointId: { $in: endpointsMade }, status: 'pending' }, { status: 'dead', lastError: 'test over' });
      await close();
    });

    async function subscribedTransfer(): Promise<{ transferId: string; endpointIds: string[] }> {
      const clientId = newId('cl');
      const em = orm.em.fork() as SqlEntityManager;
      const endpointIds = [newId('we'), newId('we')];
      endpointsMade.push(...endpointIds);
      for (const id of endpointIds) await em.insert(WebhookEndpoint, { id, clientId, url: 'https://example.com/hook', events: ['transfer.updated'], secret: 'whsec_x', createdAt: new Date() });
      const input = await createdTransfer(orm, clientId, 100);
      return { transferId: input.transferId, endpointIds };
    }

    it('a committed change writes one event and a pending delivery per endpoint', async () => {
      const { transferId, endpointIds } = await subscribedTransfer();
      const before = await webhookBacklog(orm.em);
      await inTransaction(orm.em.fork(), (tx) => moveStatus(tx, transferId, 'canceled', 'test'));
      const [event, ...more] = await orm.em.fork().find(WebhookEvent, { transferId });
      assert.equal(more.length, 0);
      const body = JSON.parse(event.payload);
      assert.equal(body.id, event.id);
      assert.equal(body.type, 'transfer.updated');
      assert.equal(body.data.transfer.status, 'canceled');
      assert.equal(body.data.transfer.beneficiary.accountNumber, '********6789');
      const deliveries = await orm.em.fork().find(WebhookDelivery, { eventId: event.id });
      assert.deepEqual(deliveries.map((d) => d.endpointId).sort(), [...endpointIds].sort());
      assert.ok(deliveries.every((d) => d.status === 'pending' && d.attempts === 0));
      assert.equal(await webhookBacklog(orm.em), before + 2);
    });

    it('a rolled-back change leaves neither status, event nor delivery', async () => {
      const { transferId, endpointIds } = await subscribedTransfer();
      await assert.rejects(
        inTransaction(orm.em.fork(), async (tx) => {
          await moveStatus(tx, transferId, 'funds_held', 'held');
          throw new Error('the step fails after the status change');
        }),
        /the step fails/,
      );
      const em = orm.em.fork();
      assert.equal((await em.findOneOrFail(Transfer, { id: transferId })).status, 'created');
      assert.equal(await em.count(WebhookEvent, { transferId }), 0);
      assert.equal(await em.count(WebhookDelivery, { endpointId: { $in: endpointIds } }), 0);
      // Leave nothing in `created` for the API's recovery sweep to start.
      await inTransaction(orm.em.fork(), (tx) => moveStatus(tx, transferId, 'canceled', 'test over'));
    });

    it('a step an earlier run took, taken again after a Reset, writes nothing; a move backwards to a status never held is refused', async () => {
      const { transferId } = await subscribedTransfer();
      for (const to of ['funds_held', 'submitted', 'settled', 'completed'] as const) await inTransaction(orm.em.fork(), (tx) => moveStatus(tx, transferId, to, to));
      const events = await orm.em.fork().count(WebhookEvent, { transferId });
      await inTransaction(orm.em.fork(), (tx) => moveStatus(tx, transferId, 'settled', 'settled again by the reset run'));
      const em = orm.em.fork();
      assert.equal((await em.findOneOrFail(Transfer, { id: transferId })).status, 'completed', 'never backwards');
      assert.equal(await em.count(WebhookEvent, { transferId }), events, 'no event, no webhook');
      await assert.rejects(inTransaction(orm.em.fork(), (tx) => moveStatus(tx, transferId, 'unknown', 'never was')), /cannot move from completed to unknown/);
    });
  });
}

describe('webhook outbox retention', () => {
  it('deletes finished events past 30 days with their deliveries, and keeps any still owed', async () => {
    const orm = await mariadbOrm();
    const em = orm.em.fork();
    const nowMs = Date.now();
    const old = new Date(nowMs - WEBHOOK_RETENTION_MS - 60_000);
    const recent = new Date(nowMs - 60_000);
    const clientId = newId('cl');
    const make = async (createdAt: Date, status: 'delivered' | 'dead' | 'pending') => {
      const id = newId('whev');
      await em.insert(WebhookEvent, { id, clientId, type: 'transfer.updated', transferId: null, payload: '{}', createdAt });
      await em.insert(WebhookDelivery, { id: newId('whdl'), eventId: id, endpointId: newId('we'), status, attempts: 1, nextAttemptAt: createdAt, lastAttemptAt: null, lastError: null, deliveredAt: null, createdAt });
      return id;
    };
    const delivered = await make(old, 'delivered');
    const dead = await make(old, 'dead');
    const owed = await make(old, 'pending');
    const young = await make(recent, 'delivered');
    assert.equal(await sweepWebhookOutbox(orm.em, nowMs), 2);
    const left = (await orm.em.fork().find(WebhookEvent, { clientId })).map((e) => e.id).sort();
    assert.deepEqual(left, [owed, young].sort());
    assert.equal(await orm.em.fork().count(WebhookDelivery, { eventId: { $in: [delivered, dead] } }), 0);
    assert.equal(await orm.em.fork().count(WebhookDelivery, { eventId: owed }), 1);
    await orm.em.fork().nativeUpdate(WebhookDelivery, { eventId: owed }, { status: 'dead' });
  });
});
