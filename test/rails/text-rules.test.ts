/**
 * Each rail's character set and field lengths: text a rail cannot carry is refused, naming the
 * field and the rule; nothing is rewritten.
 */
import assert from 'node:assert/strict';
import type { Rail } from '../../core/transfer';
import { railTextRefusal } from '../../rails/text-rules';

describe('rail text rules', () => {
  const cases: [Rail, { name: string; reference?: string }, string | undefined, RegExp?][] = [
    // NACHA: printable ASCII, 22-position individual name; no addenda, so the reference is not carried.
    ['ach', { name: 'Ada Lovelace & Co #1' }, undefined],
    ['ach', { name: 'A'.repeat(22) }, undefined],
    ['ach', { name: 'A'.repeat(23) }, 'beneficiary.name', /at most 22/],
    ['ach', { name: 'Zoë Müller' }, 'beneficiary.name', /"ë".*NACHA alphanumeric set/],
    ['ach', { name: 'Ada\u00A0Lovelace' }, 'beneficiary.name', /NACHA/],
    ['ach', { name: 'Ada', reference: 'Rëchnung' }, undefined],
    // SEPA and SEPA Instant: the EPC basic Latin set, Max70 name, Max140 remittance.
    ['sepa', { name: "O'Neil (Ltd.) +/-?:,", reference: 'Invoice 7/2026' }, undefined],
    ['sepa', { name: 'Émilie du Châtelet' }, 'beneficiary.name', /"É".*SEPA Latin character set/],
    ['sepa_instant', { name: 'Smith & Sons' }, 'beneficiary.name', /"&"/],
    ['sepa', { name: 'N'.repeat(70) }, undefined],
    ['sepa', { name: 'N'.repeat(71) }, 'beneficiary.name', /at most 70/],
    ['sepa', { name: 'Ok', reference: 'R'.repeat(141) }, 'reference', /at most 140/],
    ['sepa_instant', { name: 'Ok', reference: 'Order #7' }, 'reference', /"#"/],
    ['sepa', { name: 'Ok', reference: 'R'.repeat(140) }, undefined],
    // SWIFT: the X set, Max140, no leading ':' or '-'.
    ['swift', { name: 'N'.repeat(140), reference: 'Invoice 7' }, undefined],
    ['swift', { name: 'N'.repeat(141) }, 'beneficiary.name', /at most 140/],
    ['swift', { name: 'Seki_Takakazu' }, 'beneficiary.name', /"_".*SWIFT X character set/],
    ['swift', { name: ':59 Seki' }, 'beneficiary.name', /must not start with ":"/],
    ['swift', { name: 'Seki', reference: '-invoice' }, 'reference', /must not start with "-"/],
    ['swift', { name: 'Seki', reference: 'Fee 5€' }, 'reference', /"€"/],
    // RTP: ISO 20022 Latin text, Max140.
    ['rtp', { name: 'N'.repeat(140) }, undefined],
    ['rtp', { name: 'Ada@Lovelace' }, 'beneficiary.name', /"@"/],
  ];

  for (const [rail, text, param, message] of cases) {
    it(`${rail}: ${JSON.stringify(text).slice(0, 60)} → ${param ?? 'carried'}`, () => {
      const refusal = railTextRefusal(rail, text);
      assert.equal(refusal?.param, param, JSON.stringify(refusal));
      if (message) assert.match(refusal!.message, message);
    });
  }
});
