/** The clients' verification helper: genuine deliveries pass; tampering, staleness and replays do not. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ReplayGuard, signatureHeader, verifyWebhookSignature, WebhookVerificationError } from '../../webhooks/verify';

describe('webhooks: verifyWebhookSignature and ReplayGuard', () => {
  const secret = 'whsec_test_secret';
  const body = JSON.stringify({ id: 'whev_1', type: 'transfer.updated', createdAt: '2026-11-26T09:00:00.000Z', data: { transfer: { id: 'tr_1', status: 'completed', updatedAt: '2026-11-26T09:00:00.000Z' } } });
  const now = Date.UTC(2026, 10, 26, 9, 0, 0);
  const t = Math.floor(now / 1000);
  const rejects = (code: string, fn: () => unknown) => assert.throws(fn, (err: unknown) => err instanceof WebhookVerificationError && err.code === code);

  it('accepts a genuine delivery and returns the event', () => {
    const event = verifyWebhookSignature(body, signatureHeader(secret, t, body), secret, { now });
    assert.equal(event.id, 'whev_1');
    assert.equal(event.data.transfer.status, 'completed');
    // Bytes work as well as strings, and any one of several v1 signatures may match (secret rotation).
    verifyWebhookSignature(Buffer.from(body), `t=${t},v1=${'0'.repeat(64)},${signatureHeader(secret, t, body).split(',')[1]}`, secret, { now });
  });

  it('matches the SPEC formula: hex HMAC-SHA256(secret, "<t>.<raw body>")', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    assert.equal(signatureHeader(secret, t, body), `t=${t},v1=${expected}`);
  });

  it('during a rotation: one v1= per live secret, and a receiver holding either secret, or both, accepts', () => {
    const next = 'whsec_next_secret';
    const header = signatureHeader([next, secret], t, body);
    const hmac = (key: string) => createHmac('sha256', key).update(`${t}.${body}`).digest('hex');
    assert.equal(header, `t=${t},v1=${hmac(next)},v1=${hmac(secret)}`);
    for (const held of [secret, next, [secret, next], [next, 'whsec_unrelated']]) verifyWebhookSignature(body, header, held, { now });
    rejects('bad_signature', () => verifyWebhookSignature(body, header, ['whsec_unrelated', 'whsec_other'], { now }));
    // A receiver that already switched refuses what only the old secret signed.
    rejects('bad_signature', () => verifyWebhookSignature(body, signatureHeader(secret, t, body), next, { now }));
    assert.throws(() => verifyWebhookSignature(body, header, [], { now }), /at least one secret/);
  });

  it('rejects a tampered signature, a tampered body, a wrong secret', () => {
    const header = signatureHeader(secret, t, body);
    const flipped = header.slice(0, -1) + (header.endsWith('0') ? '1' : '0');
    rejects('bad_signature', () => verifyWebhookSignature(body, flipped, secret, { now }));
    rejects('bad_signature', () => verifyWebhookSignature(body.replace('completed', 'failed'), header, secret, { now }));
    rejects('bad_signature', () => verifyWebhookSignature(body, header, 'whsec_other', { now }));
    // A timestamp changed to look fresh breaks the signature too.
    rejects('bad_signature', () => verifyWebhookSignature(body, header.replace(`t=${t}`, `t=${t + 1}`), secret, { now }));
  });

  it('rejects a stale or far-future timestamp, within tolerance accepts', () => {
    rejects('stale_timestamp', () => verifyWebhookSignature(body, signatureHeader(secret, t - 301, body), secret, { now }));
    rejects('stale_timestamp', () => verifyWebhookSignature(body, signatureHeader(secret, t + 301, body), secret, { now }));
    verifyWebhookSignature(body, signatureHeader(secret, t - 299, body), secret, { now });
    rejects('stale_timestamp', () => verifyWebhookSignature(body, signatureHeader(secret, t - 11, body), secret, { now, toleranceSeconds: 10 }));
  });

  it('rejects a missing or malformed header', () => {
    rejects('missing_signature', () => verifyWebhookSignature(body, undefined, secret, { now }));
    rejects('malformed_signature', () => verifyWebhookSignature(body, 'v1=abc', secret, { now }));
    rejects('malformed_signature', () => verifyWebhookSignature(body, `t=${t}`, secret, { now }));
    rejects('malformed_signature', () => verifyWebhookSignature(body, `t=${t},v0=${'a'.repeat(64)}`, secret, { now }));
  });

  it('ReplayGuard refuses an event ID seen within the window and forgets it after', () => {
    const guard = new ReplayGuard({ windowSeconds: 300 });
    guard.check('whev_1', now);
    guard.check('whev_2', now);
    rejects('replayed_event', () => guard.check('whev_1', now + 1_000));
    guard.check('whev_1', now + 301_000);
    const small = new ReplayGuard({ maxEntries: 2 });
    small.check('a', now);
    small.check('b', now);
    small.check('c', now);
    small.check('a', now); // evicted as the oldest beyond maxEntries
    rejects('replayed_event', () => small.check('c', now));
  });
});
