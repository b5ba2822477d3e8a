/**
 * SEPA credit transfer initiation: pain.001.001.10 to the bank, pain.002.001.11 back.
 * One payment per message (one PmtInf, one CdtTrfTxInf); amounts exact from minor units.
 */
import { create } from 'xmlbuilder2';
import { decimalToMinor, minorToDecimal } from '../../core/money';
import { IsoMessageError, isoDateTime, isoText, parseXml, required } from './xml';

export const PAIN001 = 'urn:iso:std:iso:20022:tech:xsd:pain.001.001.10';
export const PAIN002 = 'urn:iso:std:iso:20022:tech:xsd:pain.002.001.11';

export interface SepaCreditTransfer {
  messageId: string;
  createdAt: Date;
  endToEndId: string;
  amountMinor: number;
  currency: 'EUR';
  executionDate: string;
  debtor: { name: string; iban: string; bic: string };
  creditor: { name: string; iban: string; bic?: string };
  remittance?: string;
}

export function buildPain001(ct: SepaCreditTransfer): string {
  const amount = minorToDecimal(ct.amountMinor, ct.currency);
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PAIN001, 'Document')
    .ele({
      CstmrCdtTrfInitn: {
        GrpHdr: { MsgId: ct.messageId, CreDtTm: isoDateTime(ct.createdAt), NbOfTxs: '1', CtrlSum: amount, InitgPty: { Nm: isoText(ct.debtor.name, 140) } },
        PmtInf: {
          PmtInfId: ct.messageId,
          PmtMtd: 'TRF',
          NbOfTxs: '1',
          CtrlSum: amount,
          PmtTpInf: { SvcLvl: { Cd: 'SEPA' } },
          ReqdExctnDt: { Dt: ct.executionDate },
          Dbtr: { Nm: isoText(ct.debtor.name, 140) },
          DbtrAcct: { Id: { IBAN: ct.debtor.iban } },
          DbtrAgt: { FinInstnId: { BICFI: ct.debtor.bic } },
          ChrgBr: 'SLEV',
          CdtTrfTxInf: {
            PmtId: { EndToEndId: ct.endToEndId },
            Amt: { InstdAmt: { '@Ccy': ct.currency, '#': amount } },
            ...(ct.creditor.bic ? { CdtrAgt: { FinInstnId: { BICFI: ct.creditor.bic } } } : {}),
            Cdtr: { Nm: isoText(ct.creditor.name, 140) },
            CdtrAcct: { Id: { IBAN: ct.creditor.iban } },
            ...(ct.remittance ? { RmtInf: { Ustrd: isoText(ct.remittance, 140) } } : {}),
          },
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parsePain001(xml: string): SepaCreditTransfer {
  const root = required(parseXml(xml)?.Document?.CstmrCdtTrfInitn, 'Document/CstmrCdtTrfInitn');
  const pmt = required(root.PmtInf, 'PmtInf');
  if (Array.isArray(pmt) || Array.isArray(pmt.CdtTrfTxInf)) throw new IsoMessageError('only one payment per message is accepted');
  const tx = required(pmt.CdtTrfTxInf, 'PmtInf/CdtTrfTxInf');
  const amt = required(tx.Amt?.InstdAmt, 'CdtTrfTxInf/Amt/InstdAmt');
  const currency = required(amt['@Ccy'], 'CdtTrfTxInf/Amt/InstdAmt/@Ccy');
  if (currency !== 'EUR') throw new IsoMessageError(`CdtTrfTxInf/Amt/InstdAmt/@Ccy: SEPA carries EUR only, got ${currency}`);
  let amountMinor: number;
  try {
    amountMinor = decimalToMinor(required(amt['#text'], 'CdtTrfTxInf/Amt/InstdAmt'), currency);
  } catch (err) {
    throw new IsoMessageError(`CdtTrfTxInf/Amt/InstdAmt: ${(err as Error).message}`);
  }
  return {
    messageId: required(root.GrpHdr?.MsgId, 'GrpHdr/MsgId'),
    createdAt: new Date(required(root.GrpHdr?.CreDtTm, 'GrpHdr/CreDtTm')),
    endToEndId: required(tx.PmtId?.EndToEndId, 'CdtTrfTxInf/PmtId/EndToEndId'),
    amountMinor,
    currency: 'EUR',
    executionDate: required(pmt.ReqdExctnDt?.Dt, 'PmtInf/ReqdExctnDt/Dt'),
    debtor: { name: pmt.Dbtr?.Nm ?? '', iban: required(pmt.DbtrAcct?.Id?.IBAN, 'PmtInf/DbtrAcct/Id/IBAN'), bic: pmt.DbtrAgt?.FinInstnId?.BICFI ?? '' },
    creditor: { name: required(tx.Cdtr?.Nm, 'CdtTrfTxInf/Cdtr/Nm'), iban: required(tx.CdtrAcct?.Id?.IBAN, 'CdtTrfTxInf/CdtrAcct/Id/IBAN'), bic: tx.CdtrAgt?.FinInstnId?.BICFI },
  };
}

/** ACTC technically accepted, ACSP settlement in process, ACSC settled, RJCT rejected. */
/** CANC: canceled on a recall (camt.056) before settlement. */
export type PainStatus = 'ACTC' | 'ACSP' | 'ACSC' | 'RJCT' | 'PDNG' | 'CANC';

export interface PainStatusReport {
  messageId: string;
  createdAt: Date;
  originalMessageId: string;
  endToEndId: string;
  status: PainStatus;
  reasonCode?: string;
}

export function buildPain002(r: PainStatusReport): string {
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PAIN002, 'Document')
    .ele({
      CstmrPmtStsRpt: {
        GrpHdr: { MsgId: r.messageId, CreDtTm: isoDateTime(r.createdAt) },
        OrgnlGrpInfAndSts: { OrgnlMsgId: r.originalMessageId, OrgnlMsgNmId: 'pain.001.001.10' },
        OrgnlPmtInfAndSts: {
          OrgnlPmtInfId: r.originalMessageId,
          TxInfAndSts: {
            OrgnlEndToEndId: r.endToEndId,
            TxSts: r.status,
            ...(r.reasonCode ? { StsRsnInf: { Rsn: { Cd: r.reasonCode } } } : {}),
          },
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parsePain002(xml: string): PainStatusReport {
  const root = required(parseXml(xml)?.Document?.CstmrPmtStsRpt, 'Document/CstmrPmtStsRpt');
  const tx = required(root.OrgnlPmtInfAndSts?.TxInfAndSts, 'OrgnlPmtInfAndSts/TxInfAndSts');
  const status = required(tx.TxSts, 'TxInfAndSts/TxSts') as PainStatus;
  if (!['ACTC', 'ACSP', 'ACSC', 'RJCT', 'PDNG', 'CANC'].includes(status)) throw new IsoMessageError(`TxInfAndSts/TxSts: unknown status ${status}`);
  return {
    messageId: required(root.GrpHdr?.MsgId, 'GrpHdr/MsgId'),
    createdAt: new Date(required(root.GrpHdr?.CreDtTm, 'GrpHdr/CreDtTm')),
    originalMessageId: root.OrgnlGrpInfAndSts?.OrgnlMsgId ?? '',
    endToEndId: required(tx.OrgnlEndToEndId, 'TxInfAndSts/OrgnlEndToEndId'),
    status,
    reasonCode: tx.StsRsnInf?.Rsn?.Cd,
  };
}
