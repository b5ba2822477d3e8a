/**
 * One webhook POST over node:http(s), refusing private destinations unless allowed: an endpoint URL
 * is chosen by a client, so without this check the dispatcher could be pointed at the cloud
 * metadata service or at internal hosts (SSRF). The address is checked where the connection is
 * made — for a name, on the addresses DNS returned for this very connection — so a name that
 * resolves differently between a check and the request cannot slip through.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

const PRIVATE = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const) {
  PRIVATE.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 127],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  PRIVATE.addSubnet(prefix, bits, 'ipv6');
}

export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return PRIVATE.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    return mapped ? PRIVATE.check(mapped[1], 'ipv4') : PRIVATE.check(address, 'ipv6');
  }
  return true; // not an address at all: refuse rather than guess
}

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
}

/** The URL's host does not resolve (at creation, a typo or a name not yet published). */
export class UnresolvedHostError extends Error {
  readonly code = 'ENOTFOUND';
}

/**
 * At an endpoint's creation: refuses a URL whose host is, or resolves to, a private address, so a
 * client learns at once (400) instead of from deliveries that never go out. Delivery checks again
 * on every connection (`guardedLookup`): a name may resolve elsewhere later. A lookup that takes
 * longer than `timeoutMs` rejects with a plain Error (the caller answers 503: try again).
 */
export async function checkPublicDestination(url: string, timeoutMs: number): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(host)) {
    if (isPrivateAddress(host)) throw new PrivateAddressError(`${host} is a private address`);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`looking up ${host} took more than ${timeoutMs} ms`)), timeoutMs);
  });
  let addresses: dns.LookupAddress[];
  try {
    addresses = await Promise.race([dns.promises.lookup(host, { all: true }), timeout]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new UnresolvedHostError(`${host} does not resolve`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const refused = addresses.find((a) => isPrivateAddress(a.address));
  if (refused) throw new PrivateAddressError(`${host} resolves to the private address ${refused.address}`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

function guardedLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) return callback(new PrivateAddressError(`${hostname} resolves to the private address ${refused.address}`), []);
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}

/** POSTs `body` and resolves with the answer's status code; rejects on no connection or no answer in time. */
export function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowPrivateAddresses: boolean },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
    // An IP literal is connected to directly, without a lookup: check it here.
    if (!options.allowPrivateAddresses && net.isIP(host) && isPrivateAddress(host)) {
      return reject(new PrivateAddressError(`${host} is a private address`));
    }
    const send = target.protocol === 'https:' ? https.request : http.request;
    const req = send(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(options.allowPrivateAddresses ? {} : { lookup: guardedLookup as unknown as typeof dns.lookup }),
      },
      (res) => {
        res.resume(); // the answer's body is not read: only the status counts
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
