/**
 * What every ISO 20022 message module shares: the XML parser (tag values stay strings, so amounts
 * never become floats), field access that names the missing path, the Latin text set and the
 * date-time format banks expect.
 */
import { XMLParser } from 'fast-xml-parser';

export class IsoMessageError extends Error {}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, parseAttributeValue: false, removeNSPrefix: true });

/** Parsed XML is untyped until each field is read through `required` or checked on its own. */
export function parseXml(xml: string): any {
  try {
    return parser.parse(xml, true);
  } catch (err) {
    throw new IsoMessageError(`not well-formed XML: ${(err as Error).message}`);
  }
}

export function required<T>(value: T | undefined, path: string): T {
  if (value === undefined || value === null || value === '') throw new IsoMessageError(`missing ${path}`);
  return value;
}

/** ISO 20022 text fields: Latin characters only, cut to the field's maximum. */
export function isoText(value: string, max: number): string {
  return value.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^A-Za-z0-9 /\-?:().,'+]/g, ' ').slice(0, max).trim() || '-';
}

/** ISODateTime without milliseconds: `2026-11-24T10:00:00Z`. */
export function isoDateTime(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Reads a bank's ISO 20022 answer; an unreadable one is a protocol error, not a payment outcome. */
export async function readIsoAnswer<T>(res: Response, parse: (xml: string) => T, what: string): Promise<T> {
  const text = await res.text();
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof IsoMessageError) throw new Error(`bank sent an unreadable ${what}: ${err.message}`);
    throw err;
  }
}
