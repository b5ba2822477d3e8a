/**
 * Recalling a SEPA credit transfer: a camt.056.001.09 (FIToFIPaymentCancellationRequest) to the
 * bank, naming the original payment by its message and end-to-end IDs, and a camt.029.001.10
 * (ResolutionOfInvestigation) back: `CNCL` the payment was canceled and will not be paid, `RJCR`
 * the recall was refused (the payment settled, say), with the bank's reason. One transaction per
 * message. The cancellation ID is the request's idempotency key: the bank answers a repeated one
 * with its first resolution.
 */
import { create } from 'xmlbuilder2';
import { decimalToMinor, minorToDecimal } from '../../core/money';
import { IsoMessageError, isoDateTime, isoText, parseXml, required } from './xml';

export const CAMT056 = 'urn:iso:std:iso:20022:tech:xsd:camt.056.001.09';
export const CAMT029 = 'urn:iso:std:iso:20022:tech:xsd:camt.029.001.10';

/** ExternalCancellationReason1Code values Railyard sends: the client asked, or a duplicate payment. */
export const RECALL_REASONS = ['CUST', 'DUPL'] as const;
export type RecallReason = (typeof RECALL_REASONS)[number];

export interface CancellationRequest {
  /** Assignment ID and cancellation ID (Max35Text): the same for one recall, resent unchanged. */
  cancellationId: string;
  createdAt: Date;
  assignerBic: string;
  assigneeBic: string;
  originalMessageId: string;
  originalMessageName: string;
  originalEndToEndId: string;
  amountMinor: number;
  currency: string;
  reason: RecallReason;
  additionalInfo?: string;
}

export interface ResolutionOfInvestigation {
  messageId: string;
  createdAt: Date;
  /** The cancellation request this resolves. */
  cancellationId: string;
  originalEndToEndId: string;
  /** CNCL: canceled as asked; RJCR: the recall was refused. */
  confirmation: 'CNCL' | 'RJCR';
  /** On RJCR, the ExternalPaymentCancellationRejection1Code (e.g. ARDT, NOOR, CUST) and its text. */
  reasonCode?: string;
  reasonText?: string;
}

const agent = (bic: string) => ({ Agt: { FinInstnId: { BICFI: bic } } });

function max35(value: string, field: string): string {
  if (value.length === 0 || value.length > 35) throw new RangeError(`${field} must be 1–35 characters, got ${value.length}`);
  return value;
}

export function buildCamt056(r: CancellationRequest): string {
  if (!RECALL_REASONS.includes(r.reason)) throw new RangeError(`unsupported recall reason ${r.reason}`);
  const amount = minorToDecimal(r.amountMinor, r.currency);
  const id = max35(r.cancellationId, 'cancellationId');
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(CAMT056, 'Document')
    .ele({
      FIToFIPmtCxlReq: {
        Assgnmt: { Id: id, Assgnr: agent(r.assignerBic), Assgne: agent(r.assigneeBic), CreDtTm: isoDateTime(r.createdAt) },
        Undrlyg: {
          TxInf: {
            CxlId: id,
            OrgnlGrpInf: { OrgnlMsgId: max35(r.originalMessageId, 'originalMessageId'), OrgnlMsgNmId: r.originalMessageName },
            OrgnlEndToEndId: max35(r.originalEndToEndId, 'originalEndToEndId'),
            OrgnlIntrBkSttlmAmt: { '@Ccy': r.currency, '#': amount },
            CxlRsnInf: { Rsn: { Cd: r.reason }, ...(r.additionalInfo ? { AddtlInf: isoText(r.additionalInfo, 105) } : {}) },
          },
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parseCamt056(xml: string): CancellationRequest {
  const root = required(parseXml(xml)?.Document?.FIToFIPmtCxlReq, 'Document/FIToFIPmtCxlReq');
  const undrlyg = required(root.Undrlyg, 'FIToFIPmtCxlReq/Undrlyg');
  if (Array.isArray(undrlyg)) throw new IsoMessageError('FIToFIPmtCxlReq/Undrlyg: one underlying transaction per message');
  const tx = required(undrlyg.TxInf, 'Undrlyg/TxInf');
  if (Array.isArray(tx)) throw new IsoMessageError('Undrlyg/TxInf: one transaction per message');
  const amount = required(tx.OrgnlIntrBkSttlmAmt, 'TxInf/OrgnlIntrBkSttlmAmt');
  const currency = required(amount['@Ccy'], 'TxInf/OrgnlIntrBkSttlmAmt/@Ccy') as string;
  let amountMinor: number;
  try {
    amountMinor = decimalToMinor(required(amount['#text'], 'TxInf/OrgnlIntrBkSttlmAmt'), currency);
  } catch (err) {
    if (err instanceof IsoMessageError) throw err;
    throw new IsoMessageError(`TxInf/OrgnlIntrBkSttlmAmt: ${(err as Error).message}`);
  }
  const reason = required(tx.CxlRsnInf?.Rsn?.Cd, 'TxInf/CxlRsnInf/Rsn/Cd') as string;
  if (!RECALL_REASONS.includes(reason as RecallReason)) throw new IsoMessageError(`TxInf/CxlRsnInf/Rsn/Cd: ${reason} is not a recall reason this bank takes (${RECALL_REASONS.join(', ')})`);
  return {
    cancellationId: required(tx.CxlId, 'TxInf/CxlId'),
    createdAt: new Date(required(root.Assgnmt?.CreDtTm, 'Assgnmt/CreDtTm')),
    assignerBic: required(root.Assgnmt?.Assgnr?.Agt?.FinInstnId?.BICFI, 'Assgnmt/Assgnr/Agt/FinInstnId/BICFI'),
    assigneeBic: required(root.Assgnmt?.Assgne?.Agt?.FinInstnId?.BICFI, 'Assgnmt/Assgne/Agt/FinInstnId/BICFI'),
    originalMessageId: required(tx.OrgnlGrpInf?.OrgnlMsgId, 'TxInf/OrgnlGrpInf/OrgnlMsgId'),
    originalMessageName: required(tx.OrgnlGrpInf?.OrgnlMsgNmId, 'TxInf/OrgnlGrpInf/OrgnlMsgNmId'),
    originalEndToEndId: required(tx.OrgnlEndToEndId, 'TxInf/OrgnlEndToEndId'),
    amountMinor,
    currency,
    reason: reason as RecallReason,
    ...(tx.CxlRsnInf?.AddtlInf ? { additionalInfo: String(tx.CxlRsnInf.AddtlInf) } : {}),
  };
}

export function buildCamt029(r: ResolutionOfInvestigation & { assignerBic: string; assigneeBic: string }): string {
  if (r.confirmation === 'RJCR' && !r.reasonCode) throw new RangeError('a refused recall (RJCR) carries a reason code');
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(CAMT029, 'Document')
    .ele({
      RsltnOfInvstgtn: {
        Assgnmt: { Id: max35(r.messageId, 'messageId'), Assgnr: agent(r.assignerBic), Assgne: agent(r.assigneeBic), CreDtTm: isoDateTime(r.createdAt) },
        Sts: { Conf: r.confirmation },
        CxlDtls: {
          TxInfAndSts: {
            CxlStsId: max35(r.cancellationId, 'cancellationId'),
            OrgnlEndToEndId: max35(r.originalEndToEndId, 'originalEndToEndId'),
            // Per transaction: ACCR accepted, RJCR rejected (CancellationIndividualStatus1Code).
            TxCxlSts: r.confirmation === 'CNCL' ? 'ACCR' : 'RJCR',
            ...(r.reasonCode ? { CxlStsRsnInf: { Rsn: { Cd: r.reasonCode }, ...(r.reasonText ? { AddtlInf: isoText(r.reasonText, 105) } : {}) } } : {}),
          },
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parseCamt029(xml: string): ResolutionOfInvestigation {
  const root = required(parseXml(xml)?.Document?.RsltnOfInvstgtn, 'Document/RsltnOfInvstgtn');
  const confirmation = required(root.Sts?.Conf, 'RsltnOfInvstgtn/Sts/Conf') as string;
  if (confirmation !== 'CNCL' && confirmation !== 'RJCR') throw new IsoMessageError(`RsltnOfInvstgtn/Sts/Conf: expected CNCL or RJCR, got ${confirmation}`);
  const details = required(root.CxlDtls, 'RsltnOfInvstgtn/CxlDtls');
  if (Array.isArray(details)) throw new IsoMessageError('RsltnOfInvstgtn/CxlDtls: one resolved transaction per message');
  const tx = required(details.TxInfAndSts, 'CxlDtls/TxInfAndSts');
  if (Array.isArray(tx)) throw new IsoMessageError('CxlDtls/TxInfAndSts: one resolved transaction per message');
  const txStatus = tx.TxCxlSts as string | undefined;
  // The group confirmation and the transaction's status must agree, or the answer is unreadable.
  if (txStatus !== undefined && txStatus !== (confirmation === 'CNCL' ? 'ACCR' : 'RJCR')) throw new IsoMessageError(`CxlDtls/TxInfAndSts/TxCxlSts ${txStatus} contradicts Sts/Conf ${confirmation}`);
  const reasonCode = (tx.CxlStsRsnInf?.Rsn?.Cd as string | undefined) || undefined;
  if (confirmation === 'RJCR' && !reasonCode) throw new IsoMessageError('CxlDtls/TxInfAndSts/CxlStsRsnInf/Rsn/Cd: a refused recall carries a reason');
  const reasonText = (tx.CxlStsRsnInf?.AddtlInf as string | undefined) || undefined;
  return {
    messageId: required(root.Assgnmt?.Id, 'Assgnmt/Id'),
    createdAt: new Date(required(root.Assgnmt?.CreDtTm, 'Assgnmt/CreDtTm')),
    cancellationId: required(tx.CxlStsId, 'TxInfAndSts/CxlStsId'),
    originalEndToEndId: required(tx.OrgnlEndToEndId, 'TxInfAndSts/OrgnlEndToEndId'),
    confirmation,
    ...(reasonCode ? { reasonCode } : {}),
    ...(reasonText ? { reasonText } : {}),
  };
}
