/**
 * Payload encryption for everything Railyard sends through Temporal: workflow inputs (the
 * beneficiary's name and account), signal and Update arguments (operator names and reasons),
 * activity inputs and results, query and Update results, memos and the UI summaries. Temporal
 * stores what the codec produces, so the server, its database and anyone with read access to the
 * namespace see ciphertext; Railyard's clients and workers (and the codec server, for the UI)
 * decode it. Search attributes never pass through a codec: they carry no personal data (SPEC §6).
 *
 * AES-256-GCM, a fresh 96-bit IV per payload. The encrypted payload keeps the original Payload
 * (metadata and data) as the protobuf bytes it was, so decoding gives back exactly what was encoded.
 * The key ID travels in the metadata and is bound into the authentication tag, so keys rotate:
 * encode with the first (current) key, decode with whichever configured key the payload names.
 * Payloads that are not encrypted (sent by `temporal workflow signal --input …`, or written before
 * encryption) are decoded as they are.
 *
 * Not for workflow code: it runs outside the workflow sandbox, in clients and workers.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCODING_ENCRYPTED = 'binary/encrypted';
export const METADATA_KEY_ID = 'encryption-key-id';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** More keys than anyone rotates through; a bound so a pasted mistake cannot grow without limit. */
const KEYS_MAX = 16;

export interface CodecKey {
  id: string;
  key: Buffer;
}

/** The configured keys, the current (encoding) key first. */
export type CodecKeys = readonly [CodecKey, ...CodecKey[]];

export class PayloadCodecError extends Error {}

/**
 * Parses `PAYLOAD_CODEC_KEYS`: `keyId:base64key[,keyId:base64key…]`, each key 32 bytes, IDs unique,
 * the first one current. Throws with what is wrong, never echoing a key.
 */
export function parseCodecKeys(text: string): CodecKeys {
  const entries = text.split(',').map((s) => s.trim());
  if (entries.length > KEYS_MAX) throw new PayloadCodecError(`at most ${KEYS_MAX} keys`);
  const keys: CodecKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    const encoded = colon < 0 ? '' : entry.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) throw new PayloadCodecError(`entry ${index + 1} must be keyId:base64key, the key ID 1–64 of A-Z a-z 0-9 _ . -`);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new PayloadCodecError(`key "${id}" is not base64`);
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== KEY_BYTES) throw new PayloadCodecError(`key "${id}" must be ${KEY_BYTES} bytes (AES-256), it is ${key.length}`);
    if (keys.some((k) => k.id === id)) throw new PayloadCodecError(`key ID "${id}" appears twice`);
    keys.push({ id, key });
  }
  return keys as unknown as CodecKeys;
}

/** A new key in the `PAYLOAD_CODEC_KEYS` form, e.g. for `npm start`'s first run. */
export function generateCodecKey(id: string): string {
  if (!KEY_ID_PATTERN.test(id)) throw new PayloadCodecError(`bad key ID "${id}"`);
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

export class EncryptionCodec implements PayloadCodec {
  private readonly current: CodecKey;
  private readonly byId: Map<string, Buffer>;

  constructor(keys: CodecKeys) {
    if (keys.length === 0) throw new PayloadCodecError('at least one key is needed');
    this.current = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      // The key ID is authenticated: a payload relabelled with another key's ID fails to decode.
      cipher.setAAD(Buffer.from(this.current.id, 'utf8'));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: Buffer.from(ENCODING_ENCRYPTED, 'utf8'),
          [METADATA_KEY_ID]: Buffer.from(this.current.id, 'utf8'),
        },
        data: sealed,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString('utf8') : undefined;
      // Plain payloads (the CLI's --input, anything written before encryption) pass as they are.
      if (encoding !== ENCODING_ENCRYPTED) return payload;
      const rawId = payload.metadata?.[METADATA_KEY_ID];
      if (!rawId) throw new PayloadCodecError(`an encrypted payload without ${METADATA_KEY_ID} metadata`);
      const id = Buffer.from(rawId).toString('utf8');
      const key = this.byId.get(id);
      if (!key) throw new PayloadCodecError(`payload encrypted with key "${id}", which is not in PAYLOAD_CODEC_KEYS (configured: ${[...this.byId.keys()].join(', ')})`);
      const sealed = Buffer.from(payload.data ?? new Uint8Array());
      if (sealed.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError(`an encrypted payload (key "${id}") too short to be one`);
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(id, 'utf8'));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      } catch (err) {
        throw new PayloadCodecError(`payload encrypted with key "${id}" does not authenticate: altered, or a different key under that ID`, { cause: err });
      }
      return temporal.api.common.v1.Payload.decode(plain) as Payload;
    });
  }
}

/**
 * The one data converter of every Temporal client and worker in Railyard (API, worker, npm start,
 * tests, the histories recorder and replayer).
 */
export function createDataConverter(keys: CodecKeys): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keys)] };
}

/**
 * The codec a client was built with. The codec server uses the API's own client's codec, so it
 * decodes exactly what the API encodes; a client built without it is a wiring bug, caught here.
 */
export function encryptionCodecOf(client: { options: { loadedDataConverter: { payloadCodecs: PayloadCodec[] } } }): EncryptionCodec {
  const codec = client.options.loadedDataConverter.payloadCodecs.find((c): c is EncryptionCodec => c instanceof EncryptionCodec);
  if (!codec) throw new PayloadCodecError('the Temporal client has no payload codec: build it with createDataConverter()');
  return codec;
}
