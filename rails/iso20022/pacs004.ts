/**
 * pacs.004.001.10, the payment return: how a SEPA bank tells the debtor's bank that a settled
 * credit transfer came back, with the returned amount and the reason (an ExternalReturnReason1Code
 * such as AC04 closed account or MD07 deceased). One transaction per message here.
 */
import { create } from 'xmlbuilder2';
import { decimalToMinor, minorToDecimal } from '../../core/money';
import { IsoMessageError, isoDateTime, parseXml, required } from './xml';

export const PACS004 = 'urn:iso:std:iso:20022:tech:xsd:pacs.004.001.10';

export interface PaymentReturn {
  messageId: string;
  createdAt: Date;
  /** The returned payment's message and end-to-end reference. */
  originalMessageId: string;
  originalMessageName: string;
  endToEndId: string;
  returnedAmountMinor: number;
  currency: string;
  settlementDate: string;
  reasonCode: string;
}

export function buildPacs004(r: PaymentReturn): string {
  const amount = minorToDecimal(r.returnedAmountMinor, r.currency);
  return create({ version: '1.0', encoding: 'UTF-8' })
    .ele(PACS004, 'Document')
    .ele({
      PmtRtr: {
        GrpHdr: { MsgId: r.messageId, CreDtTm: isoDateTime(r.createdAt), NbOfTxs: '1', SttlmInf: { SttlmMtd: 'CLRG' } },
        TxInf: {
          RtrId: `RTR-${r.endToEndId}`.slice(0, 35),
          OrgnlGrpInf: { OrgnlMsgId: r.originalMessageId, OrgnlMsgNmId: r.originalMessageName },
          OrgnlEndToEndId: r.endToEndId,
          RtrdIntrBkSttlmAmt: { '@Ccy': r.currency, '#': amount },
          IntrBkSttlmDt: r.settlementDate,
          RtrRsnInf: { Rsn: { Cd: r.reasonCode } },
        },
      },
    })
    .end({ prettyPrint: true });
}

export function parsePacs004(xml: string): PaymentReturn {
  const root = required(parseXml(xml)?.Document?.PmtRtr, 'Document/PmtRtr');
  const tx = required(root.TxInf, 'PmtRtr/TxInf');
  if (Array.isArray(tx)) throw new IsoMessageError('PmtRtr/TxInf: one returned transaction per message');
  const amount = required(tx.RtrdIntrBkSttlmAmt, 'TxInf/RtrdIntrBkSttlmAmt');
  const currency = required(amount['@Ccy'], 'TxInf/RtrdIntrBkSttlmAmt/@Ccy') as string;
  let returnedAmountMinor: number;
  try {
    returnedAmountMinor = decimalToMinor(required(amount['#text'], 'TxInf/RtrdIntrBkSttlmAmt'), currency);
  } catch (err) {
    if (err instanceof IsoMessageError) throw err;
    throw new IsoMessageError(`TxInf/RtrdIntrBkSttlmAmt: ${(err as Error).message}`);
  }
  return {
    messageId: required(root.GrpHdr?.MsgId, 'GrpHdr/MsgId'),
    createdAt: new Date(required(root.GrpHdr?.CreDtTm, 'GrpHdr/CreDtTm')),
    originalMessageId: tx.OrgnlGrpInf?.OrgnlMsgId ?? '',
    originalMessageName: tx.OrgnlGrpInf?.OrgnlMsgNmId ?? '',
    endToEndId: required(tx.OrgnlEndToEndId, 'TxInf/OrgnlEndToEndId'),
    returnedAmountMinor,
    currency,
    settlementDate: tx.IntrBkSttlmDt ?? '',
    reasonCode: required(tx.RtrRsnInf?.Rsn?.Cd, 'TxInf/RtrRsnInf/Rsn/Cd'),
  };
}

/** True when an ISO 20022 document is a payment return rather than a status report. */
export function isPaymentReturn(xml: string): boolean {
  return /<(?:\w+:)?PmtRtr[\s>]/.test(xml);
}
