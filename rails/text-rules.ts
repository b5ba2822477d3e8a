/**
 * What text each rail can carry, character by character and by length. A beneficiary name or a
 * remittance reference the rail cannot carry is refused when the transfer is requested, naming the
 * field and the rule: the file and message builders would otherwise have to change the text, and a
 * payment whose name was silently altered is one the beneficiary's bank may reject or misapply.
 *
 * Pure: used by the API's transfer validation once routing has chosen the rail.
 */
import type { Rail } from '../core/transfer';

export interface TextRule {
  /** Named in the refusal so a client can see which standard it broke. */
  name: string;
  allowed: RegExp;
  /** The characters allowed, in words, for the error message. */
  allowedText: string;
  nameMaxLength: number;
  /** undefined when the rail carries no remittance text (the reference stays with Railyard). */
  referenceMaxLength?: number;
  /** Characters a line may not start with (SWIFT: `:` and `-` delimit fields and messages). */
  forbiddenFirst?: RegExp;
}

/**
 * NACHA's alphanumeric fields take the printable ASCII set (0x20–0x7E); the Individual Name of a
 * PPD/CCD entry is 22 positions. Railyard sends no addenda, so the reference is not carried.
 */
const NACHA: TextRule = {
  name: 'NACHA alphanumeric set',
  allowed: /^[\x20-\x7E]*$/,
  allowedText: 'printable ASCII letters, digits, space and punctuation',
  nameMaxLength: 22,
};

/** The EPC's SEPA basic Latin set; creditor name Max70 (EPC rulebook), unstructured remittance Max140. */
const SEPA: TextRule = {
  name: 'SEPA Latin character set',
  allowed: /^[A-Za-z0-9/\-?:().,'+ ]*$/,
  allowedText: "a-z A-Z 0-9 / - ? : ( ) . , ' + and space",
  nameMaxLength: 70,
  referenceMaxLength: 140,
};

/**
 * SWIFT's X character set (the FIN set every correspondent in the chain can carry); pacs.008 name
 * Max140Text and remittance Max140Text; no line may start with `:` or `-`.
 */
const SWIFT: TextRule = {
  name: 'SWIFT X character set',
  allowed: /^[A-Za-z0-9/\-?:().,'+ ]*$/,
  allowedText: "a-z A-Z 0-9 / - ? : ( ) . , ' + and space",
  nameMaxLength: 140,
  referenceMaxLength: 140,
  forbiddenFirst: /^[:-]/,
};

/** RTP carries ISO 20022 Latin text: Max140 names and remittance. */
const RTP: TextRule = { ...SEPA, name: 'RTP ISO 20022 Latin character set', nameMaxLength: 140 };

export const RAIL_TEXT_RULES: Record<Rail, TextRule> = { ach: NACHA, sepa: SEPA, sepa_instant: SEPA, swift: SWIFT, rtp: RTP };

export interface TextRefusal {
  param: 'beneficiary.name' | 'reference';
  message: string;
}

function check(rail: Rail, rule: TextRule, param: TextRefusal['param'], value: string, maxLength: number): TextRefusal | undefined {
  const bad = [...value].find((ch) => !rule.allowed.test(ch));
  if (bad !== undefined) {
    return { param, message: `${param} contains ${JSON.stringify(bad)}, which rail ${rail} cannot carry (${rule.name}: ${rule.allowedText})` };
  }
  if (value.length > maxLength) return { param, message: `${param} is ${value.length} characters; rail ${rail} carries at most ${maxLength}` };
  if (rule.forbiddenFirst?.test(value)) return { param, message: `${param} must not start with ${JSON.stringify(value[0])} on rail ${rail} (${rule.name})` };
  return undefined;
}

/** The first field the rail cannot carry as given, or undefined when it can carry all of them. */
export function railTextRefusal(rail: Rail, text: { name: string; reference?: string | null }): TextRefusal | undefined {
  const rule = RAIL_TEXT_RULES[rail];
  const name = check(rail, rule, 'beneficiary.name', text.name, rule.nameMaxLength);
  if (name) return name;
  if (rule.referenceMaxLength !== undefined && text.reference) return check(rail, rule, 'reference', text.reference, rule.referenceMaxLength);
  return undefined;
}
