/**
 * XSD validation of generated ISO 20022 messages against the official schemas in
 * ../shared/iso20022/xsd, with libxml2 (WebAssembly). The schemas are read in place, never copied.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SHARED_DIR } from './shared';

export const XSD_DIR = path.join(SHARED_DIR, 'iso20022', 'xsd');

// libxml2-wasm is an ES module with top-level await: load it with a native import(), which the
// TypeScript-to-CommonJS transform would otherwise turn into require().
const nativeImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<typeof import('libxml2-wasm')>;

/** Throws with libxml2's messages unless `xml` is valid against `<message>.xsd`. */
export async function assertValidAgainstXsd(xml: string, message: string): Promise<void> {
  const file = path.join(XSD_DIR, `${message}.xsd`);
  if (!existsSync(file)) throw new Error(`ISO 20022 schema missing: expected ${file} (../shared/iso20022/xsd, or set RAILYARD_SHARED_DIR)`);
  const { XmlDocument, XsdValidator } = await nativeImport('libxml2-wasm');
  const schema = XmlDocument.fromBuffer(readFileSync(file));
  const validator = XsdValidator.fromDoc(schema);
  const doc = XmlDocument.fromString(xml);
  try {
    validator.validate(doc);
  } catch (err) {
    const details = (err as { details?: { message: string; line?: number }[] }).details;
    throw new Error(`${message} message is not schema-valid:\n${details?.map((d) => `  line ${d.line}: ${d.message.trim()}`).join('\n') ?? (err as Error).message}`);
  } finally {
    doc.dispose();
    validator.dispose();
    schema.dispose();
  }
}
