/**
 * The payload codec on its own: what it writes hides the payload, decodes back to the exact
 * payload, rotates keys, refuses what it cannot authenticate, and lets plain payloads through.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { codecKeys, loadConfig } from '../../core/config';
import { ENCODING_ENCRYPTED, EncryptionCodec, METADATA_KEY_ID, generateCodecKey, parseCodecKeys } from '../../core/payload-codec';

const jsonPayload = (value: unknown): Payload => ({ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(JSON.stringify(value)) });
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('payload codec (AES-256-GCM, key IDs)', () => {
  const beneficiary = { name: 'Katherine Johnson', accountNumber: '000123456789' };

  it('encrypts: the stored bytes hold neither the value nor its encoding, and name the key', async () => {
    const codec = new EncryptionCodec(parseCodecKeys(key('k-2026')));
    const [encoded] = await codec.encode([jsonPayload(beneficiary)]);
    assert.equal(text(encoded.metadata!.encoding), ENCODING_ENCRYPTED);
    assert.equal(text(encoded.metadata![METADATA_KEY_ID]), 'k-2026');
    assert.deepEqual(Object.keys(encoded.metadata!).sort(), ['encoding', METADATA_KEY_ID].sort());
    const raw = Buffer.from(encoded.data!).toString('latin1');
    for (const secret of ['Katherine', '000123456789', 'json/plain']) assert.ok(!raw.includes(secret), `${secret} is readable in the ciphertext`);
    const [again] = await codec.encode([jsonPayload(beneficiary)]);
    assert.notDeepEqual(Buffer.from(again.data!), Buffer.from(encoded.data!), 'a fresh IV per payload');
  });

  it('decodes back to the exact payload, metadata included', async () => {
    const codec = new EncryptionCodec(parseCodecKeys(key('k1')));
    const original: Payload = { metadata: { encoding: Buffer.from('json/plain'), messageType: Buffer.from('x') }, data: Buffer.from('{"a":1}') };
    const [decoded] = await codec.decode(await codec.encode([original]));
    assert.equal(text(decoded.data), '{"a":1}');
    assert.equal(text(decoded.metadata!.encoding), 'json/plain');
    assert.equal(text(decoded.metadata!.messageType), 'x');
    assert.deepEqual(await codec.encode([]), []);
  });

  it('lets plain payloads through (what `temporal workflow signal --input` sends)', async () => {
    const codec = new EncryptionCodec(parseCodecKeys(key('k1')));
    const plain = jsonPayload({ reason: 'bank back up', operator: 'alice' });
    const [decoded] = await codec.decode([plain]);
    assert.equal(decoded, plain);
  });

  it('rotates: a payload from the old key decodes while that key is configured, and fails naming it once removed', async () => {
    const oldKey = key('k-old');
    const newKey = key('k-new');
    const [fromOld] = await new EncryptionCodec(parseCodecKeys(oldKey)).encode([jsonPayload(beneficiary)]);
    const rotated = new EncryptionCodec(parseCodecKeys(`${newKey},${oldKey}`));
    assert.deepEqual(JSON.parse(text((await rotated.decode([fromOld]))[0].data)), beneficiary);
    const [fromNew] = await rotated.encode([jsonPayload(beneficiary)]);
    assert.equal(text(fromNew.metadata![METADATA_KEY_ID]), 'k-new', 'the first key is the current one');
    const retired = new EncryptionCodec(parseCodecKeys(newKey));
    await assert.rejects(retired.decode([fromOld]), /payload encrypted with key "k-old", which is not in PAYLOAD_CODEC_KEYS \(configured: k-new\)/);
    assert.deepEqual(JSON.parse(text((await retired.decode([fromNew]))[0].data)), beneficiary);
  });

  it('refuses a payload that was altered, relabelled with another key ID, or encrypted under another key with the same ID', async () => {
    const keys = `${key('a')},${key('b')}`;
    const codec = new EncryptionCodec(parseCodecKeys(keys));
    const [encoded] = await codec.encode([jsonPayload(beneficiary)]);
    const flipped = Buffer.from(encoded.data!);
    flipped[20] ^= 1;
    await assert.rejects(codec.decode([{ ...encoded, data: flipped }]), /key "a" does not authenticate/);
    await assert.rejects(codec.decode([{ ...encoded, metadata: { ...encoded.metadata, [METADATA_KEY_ID]: Buffer.from('b') } }]), /key "b" does not authenticate/);
    const impostor = new EncryptionCodec(parseCodecKeys(key('a')));
    await assert.rejects(impostor.decode([encoded]), /key "a" does not authenticate/);
    await assert.rejects(codec.decode([{ metadata: { encoding: Buffer.from(ENCODING_ENCRYPTED) }, data: Buffer.from('x') }]), /without encryption-key-id/);
    await assert.rejects(codec.decode([{ ...encoded, data: Buffer.alloc(10) }]), /too short/);
  });

  it('parses PAYLOAD_CODEC_KEYS strictly, and never echoes a key in its messages', () => {
    const secret = randomBytes(16).toString('base64');
    const cases: [string, RegExp][] = [
      [`k1:${secret}`, /key "k1" must be 32 bytes \(AES-256\), it is 16/],
      ['k1', /entry 1 must be keyId:base64key/],
      [`:${randomBytes(32).toString('base64')}`, /entry 1 must be keyId:base64key/],
      ['k1:not base64!', /key "k1" is not base64/],
      [`${key('k1')},${key('k1')}`, /key ID "k1" appears twice/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseCodecKeys(value), message, value);
      assert.throws(() => loadConfig({ PAYLOAD_CODEC_KEYS: value }), (err: Error) => err.message.includes('PAYLOAD_CODEC_KEYS: ') && !err.message.includes(secret), value);
    }
    const generated = generateCodecKey('local-1');
    assert.equal(parseCodecKeys(generated)[0].id, 'local-1');
    assert.equal(codecKeys(loadConfig({ PAYLOAD_CODEC_KEYS: generated }))[0].key.length, 32);
  });

  it('is required by the processes that talk to Temporal: unset, codecKeys() names the variable', () => {
    assert.throws(() => codecKeys(loadConfig({})), /PAYLOAD_CODEC_KEYS must be set/);
  });

  it('validates CODEC_CORS_ORIGINS', () => {
    assert.deepEqual(loadConfig({}).CODEC_CORS_ORIGINS, 'http://127.0.0.1:8233,http://localhost:8233');
    assert.throws(() => loadConfig({ CODEC_CORS_ORIGINS: '*' }), /CODEC_CORS_ORIGINS: must be a comma-separated list of origins/);
  });
});
