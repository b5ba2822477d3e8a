/**
 * ISO 20022 messages Railyard sends and reads: pacs.008.001.09 (FI to FI customer credit transfer)
 * out, pacs.002.001.11 (payment status report) back. Amounts travel as exact decimal strings
 * converted from minor units with the ISO 4217 table; parsing never turns them into floats.
 */
import { createHash } from 'node:crypto';
import { create } from 'xmlbuilder2';
import { decimalToMinor, minorToDecimal } from '../../core/money';
import { IsoMessageError, isoDateTime, isoText, parseXml, required } from './xml';

export { IsoMessageError } from './xml';

export const PACS008 = 'urn:iso:std:iso:20022:tech:xsd:pacs.008.001.09';
export const PACS002 = 'urn:iso:std:iso:20022:tech:xsd:pacs.002.001.11';

/** SWIFT charge bearer: who pays the charges. SHA = shared, OUR = the sender, BEN = the beneficiary. */
export type ChargeBearer = 'SHA' | 'OUR' | 'BEN';
const ISO_CHARGE_BEARER: Record<ChargeBearer, string> = { SHA: 'SHAR', OUR: 'DEBT', BEN: 'CRED' };
const FROM_ISO_CHARGE_BEARER: Record<string, ChargeBearer> = { SHAR: 'SHA', DEBT: 'OUR', CRED: 'BEN' };

/** A UUID v4-shaped UETR derived from the end-to-end reference, so a retry carries the same UETR. */
export function uetrFor(endToEndId: string): string {
  const h = createHash('sha256').update(`uetr:${endToEndId}`).digest('hex').split('');
  h[12] = '4';
  h[16] = '89ab'[parseInt(h[16], 16) % 4];
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}

export interface CreditTransfer {
  messageId: string;
  createdAt: Date;
  endToEndId: string;
  uetr: string;
  amountMinor: number;
  currency: string;
  settlementDate: string;
  chargeBearer: ChargeBearer;
  debtor: { name: string; iban?: string; accountNumber?: string; bic: string };
  /** Without a BIC (SEPA, IBAN only) the creditor agent is given as NOTPROVIDED, as the EPC rules say. */
  /** The creditor agent by BIC, or by US ABA routing number (RTP), else NOTPROVIDED. */
  creditor: { name: string; iban?: string; accountNumber?: string; bic?: string; routingNumber?: string; country: string };
  remittance?: string;
}

const account = (a: { iban?: string; accountNumber?: string }) =>
  a.iban ? { Id: { IBAN: a.iban } } : { Id: { Othr: { Id: a.accountNumber } } };

export function buildPacs008(ct: CreditTransfer): string {
  const amount = minorToDecimal(ct.amountMinor, ct.currency);
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PACS008, 'Document')
    .ele({
      FIToFICstmrCdtTrf: {
        GrpHdr: {
          MsgId: ct.messageId,
          CreDtTm: isoDateTime(ct.createdAt),
          NbOfTxs: '1',
          SttlmInf: { SttlmMtd: 'INDA' },
        },
        CdtTrfTxInf: {
          PmtId: { InstrId: ct.endToEndId, EndToEndId: ct.endToEndId, UETR: ct.uetr },
          IntrBkSttlmAmt: { '@Ccy': ct.currency, '#': amount },
          IntrBkSttlmDt: ct.settlementDate,
          ChrgBr: ISO_CHARGE_BEARER[ct.chargeBearer],
          Dbtr: { Nm: isoText(ct.debtor.name, 140) },
          DbtrAcct: account(ct.debtor),
          DbtrAgt: { FinInstnId: { BICFI: ct.debtor.bic } },
          CdtrAgt: {
            FinInstnId: ct.creditor.bic
              ? { BICFI: ct.creditor.bic }
              : ct.creditor.routingNumber
                ? { ClrSysMmbId: { ClrSysId: { Cd: 'USABA' }, MmbId: ct.creditor.routingNumber } }
                : { Othr: { Id: 'NOTPROVIDED' } },
          },
          Cdtr: { Nm: isoText(ct.creditor.name, 140), PstlAdr: { Ctry: ct.creditor.country } },
          CdtrAcct: account(ct.creditor),
          ...(ct.remittance ? { RmtInf: { Ustrd: isoText(ct.remittance, 140) } } : {}),
        },
      },
    })
    .end({ prettyPrint: true });
}

/** Reads the fields a bank needs from a pacs.008; a missing or malformed field is an error naming it. */
export function parsePacs008(xml: string): CreditTransfer {
  const doc = parseXml(xml);
  const root = required(doc?.Document?.FIToFICstmrCdtTrf, 'Document/FIToFICstmrCdtTrf');
  const tx = required(root.CdtTrfTxInf, 'CdtTrfTxInf');
  if (Array.isArray(tx)) throw new IsoMessageError('only one CdtTrfTxInf per message is accepted');
  const amt = required(tx.IntrBkSttlmAmt, 'CdtTrfTxInf/IntrBkSttlmAmt');
  const currency = required(amt['@Ccy'], 'CdtTrfTxInf/IntrBkSttlmAmt/@Ccy');
  let amountMinor: number;
  try {
    amountMinor = decimalToMinor(required(amt['#text'], 'CdtTrfTxInf/IntrBkSttlmAmt'), currency);
  } catch (err) {
    throw new IsoMessageError(`CdtTrfTxInf/IntrBkSttlmAmt: ${(err as Error).message}`);
  }
  const acct = (a: { Id?: { IBAN?: string; Othr?: { Id?: string } } } | undefined, path: string) => {
    const id = required(a?.Id, `${path}/Id`);
    return id.IBAN ? { iban: id.IBAN } : { accountNumber: required(id.Othr?.Id, `${path}/Id/Othr/Id`) };
  };
  const chargeBearer = FROM_ISO_CHARGE_BEARER[required(tx.ChrgBr, 'CdtTrfTxInf/ChrgBr')];
  if (!chargeBearer) throw new IsoMessageError(`CdtTrfTxInf/ChrgBr: unsupported ${tx.ChrgBr}`);
  return {
    messageId: required(root.GrpHdr?.MsgId, 'GrpHdr/MsgId'),
    createdAt: new Date(required(root.GrpHdr?.CreDtTm, 'GrpHdr/CreDtTm')),
    endToEndId: required(tx.PmtId?.EndToEndId, 'CdtTrfTxInf/PmtId/EndToEndId'),
    uetr: required(tx.PmtId?.UETR, 'CdtTrfTxInf/PmtId/UETR'),
    amountMinor,
    currency,
    settlementDate: tx.IntrBkSttlmDt ?? '',
    chargeBearer,
    debtor: { name: tx.Dbtr?.Nm ?? '', bic: required(tx.DbtrAgt?.FinInstnId?.BICFI, 'CdtTrfTxInf/DbtrAgt/FinInstnId/BICFI'), ...acct(tx.DbtrAcct, 'CdtTrfTxInf/DbtrAcct') },
    creditor: {
      name: required(tx.Cdtr?.Nm, 'CdtTrfTxInf/Cdtr/Nm'),
      country: tx.Cdtr?.PstlAdr?.Ctry ?? '',
      bic: tx.CdtrAgt?.FinInstnId?.BICFI,
      routingNumber: tx.CdtrAgt?.FinInstnId?.ClrSysMmbId?.MmbId,
      ...acct(tx.CdtrAcct, 'CdtTrfTxInf/CdtrAcct'),
    },
  };
}

/** ACSP accepted, settlement in process; ACCC settled on the creditor's account; RJCT rejected. */
export type TxStatus = 'ACSP' | 'ACCC' | 'RJCT' | 'PDNG';

export interface StatusReport {
  messageId: string;
  createdAt: Date;
  originalMessageId: string;
  endToEndId: string;
  uetr: string;
  status: TxStatus;
  reasonCode?: string;
}

export function buildPacs002(r: StatusReport): string {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PACS002, 'Document')
    .ele({
      FIToFIPmtStsRpt: {
        GrpHdr: { MsgId: r.messageId, CreDtTm: isoDateTime(r.createdAt) },
        OrgnlGrpInfAndSts: { OrgnlMsgId: r.originalMessageId, OrgnlMsgNmId: 'pacs.008.001.09' },
        TxInfAndSts: {
          OrgnlEndToEndId: r.endToEndId,
          OrgnlUETR: r.uetr,
          TxSts: r.status,
          ...(r.reasonCode ? { StsRsnInf: { Rsn: { Cd: r.reasonCode } } } : {}),
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parsePacs002(xml: string): StatusReport {
  const doc = parseXml(xml);
  const root = required(doc?.Document?.FIToFIPmtStsRpt, 'Document/FIToFIPmtStsRpt');
  const tx = required(root.TxInfAndSts, 'TxInfAndSts');
  const status = required(tx.TxSts, 'TxInfAndSts/TxSts') as TxStatus;
  if (!['ACSP', 'ACCC', 'RJCT', 'PDNG'].includes(status)) throw new IsoMessageError(`TxInfAndSts/TxSts: unknown status ${status}`);
  return {
    messageId: required(root.GrpHdr?.MsgId, 'GrpHdr/MsgId'),
    createdAt: new Date(required(root.GrpHdr?.CreDtTm, 'GrpHdr/CreDtTm')),
    originalMessageId: root.OrgnlGrpInfAndSts?.OrgnlMsgId ?? '',
    endToEndId: required(tx.OrgnlEndToEndId, 'TxInfAndSts/OrgnlEndToEndId'),
    uetr: tx.OrgnlUETR ?? '',
    status,
    reasonCode: tx.StsRsnInf?.Rsn?.Cd,
  };
}

export const PACS028 = 'urn:iso:std:iso:20022:tech:xsd:pacs.028.001.04';

/** pacs.028.001.04: "where is my payment?" — asked when a pacs.002 does not come in time. */
export function buildPacs028(r: { messageId: string; createdAt: Date; originalMessageId: string; endToEndId: string; uetr: string }): string {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PACS028, 'Document')
    .ele({
      FIToFIPmtStsReq: {
        GrpHdr: { MsgId: r.messageId, CreDtTm: isoDateTime(r.createdAt) },
        TxInf: {
          OrgnlGrpInf: { OrgnlMsgId: r.originalMessageId, OrgnlMsgNmId: 'pacs.008.001.09' },
          OrgnlEndToEndId: r.endToEndId,
          OrgnlUETR: r.uetr,
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parsePacs028(xml: string): { endToEndId: string } {
  const doc = parseXml(xml);
  const tx = required(doc?.Document?.FIToFIPmtStsReq?.TxInf, 'FIToFIPmtStsReq/TxInf');
  if (Array.isArray(tx)) throw new IsoMessageError('one TxInf per request');
  return { endToEndId: required(tx.OrgnlEndToEndId, 'TxInf/OrgnlEndToEndId') };
}

