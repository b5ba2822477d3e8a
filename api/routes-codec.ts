/**
 * The codec server: Temporal's remote codec protocol, so the Temporal UI and the `temporal` CLI
 * (`--codec-endpoint <api>/codec --codec-auth 'Bearer <ops key>'`) show payloads decoded to the
 * people holding the operator key.
 *
 *   POST /codec/decode  {payloads: [{metadata: {name: base64}, data: base64}]} → {payloads: [...]}
 *   POST /codec/encode  the same, the other way (the UI encodes what an operator types, e.g. a signal's input)
 *
 * Header `X-Namespace` names the namespace the payloads come from; one key set serves the API's
 * namespace, so it is accepted and not otherwise used. These routes are outside the JSON API: they
 * speak Temporal's protocol, not Railyard's, and are not in the OpenAPI document.
 *
 * CORS: the browser calls from the UI's origin, so the origins in CODEC_CORS_ORIGINS get
 * credentialed CORS answers (the UI's "include cross-origin credentials"); preflights carry no key
 * and answer without one.
 */
import { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { invalid } from '../core/errors';
import type { EncryptionCodec } from '../core/payload-codec';
import { parse } from './schemas';

export const CODEC_PATHS = ['/codec/decode', '/codec/encode'] as const;

/** The Temporal UI sends one request per event's payloads; a batch larger than this is not the UI. */
const PAYLOADS_PER_REQUEST_MAX = 1_000;

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const codecBody = z.object({
  // Protobuf JSON leaves an empty list out: the CLI sends `{}` for an event without payloads.
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
    .max(PAYLOADS_PER_REQUEST_MAX, `must hold at most ${PAYLOADS_PER_REQUEST_MAX} payloads`)
    .default([]),
});
type JsonPayload = z.infer<typeof codecBody>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function codecRoutes(deps: { codec: EncryptionCodec; corsOrigins: string[]; authenticateOps: RequestHandler; localUiDecode?: boolean }): Router {
  const router = Router();
  const allowed = new Set(deps.corsOrigins);

  const cors = (req: Request, res: Response, next: NextFunction) => {
    const origin = req.get('Origin');
    if (origin && allowed.has(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, X-Namespace');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.vary('Origin');
    next();
  };

  for (const path of CODEC_PATHS) {
    // A preflight never carries credentials, so it is answered before authentication.
    router.options(path, cors, (_req, res) => void res.status(204).end());
    // On a single-person machine (CODEC_LOCAL_UI_DECODE, loopback only) the local Temporal UI may
    // decode without the key, since it cannot send one; encoding always needs the operator key.
    const authenticate: RequestHandler = (req, res, next) => {
      const origin = req.get('Origin');
      if (deps.localUiDecode && path === '/codec/decode' && !req.get('Authorization') && origin && allowed.has(origin)) return next();
      return deps.authenticateOps(req, res, next);
    };
    router.post(path, cors, authenticate, async (req, res) => {
      const body = parse(codecBody, req.body);
      const payloads = body.payloads.map(fromJson);
      let out: Payload[];
      try {
        out = path === '/codec/decode' ? await deps.codec.decode(payloads) : await deps.codec.encode(payloads);
      } catch (err) {
        // An unknown key ID or a payload that does not authenticate: the caller's input, said plainly.
        throw invalid('payloads', (err as Error).message);
      }
      res.json({ payloads: out.map(toJson) });
    });
  }
  return router;
}
