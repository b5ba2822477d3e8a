/**
 * Turning a bank's ISO 20022 answer into the rail interface's words, the same way on every
 * ISO rail: 400 is a message the bank refused whole, 200 carries a status report for our reference,
 * anything else is a protocol error (5xx and timeouts never get here: bankFetch throws them).
 */
import type { PaymentStatusAnswer, SubmitAnswer } from '../bank-http';
import { readIsoAnswer } from './xml';

interface StatusReport {
  endToEndId: string;
  status: string;
  reasonCode?: string;
}

export async function submitAnswer(
  res: Response,
  parse: (xml: string) => StatusReport,
  what: string,
  reference: string,
  /** Reason codes meaning "could not reach the beneficiary, nothing paid": another rail may try. */
  fallbackCodes: ReadonlySet<string> = new Set(),
): Promise<SubmitAnswer> {
  if (res.status === 400) {
    const body = (await res.json()) as { error?: { message: string } };
    return { kind: 'rejected', code: 'message_rejected', message: body.error?.message ?? 'message rejected' };
  }
  if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to a payment message`);
  const report = await readIsoAnswer(res, parse, what);
  if (report.endToEndId !== reference) throw new Error(`${what} answers ${report.endToEndId}, not ${reference}`);
  if (report.status !== 'RJCT') return { kind: 'accepted' };
  const code = report.reasonCode ?? 'RJCT';
  return { kind: 'rejected', code, message: `rejected by the bank with ${code}`, fallback: fallbackCodes.has(code) };
}

export async function inquiryAnswer(
  res: Response,
  parse: (xml: string) => StatusReport,
  what: string,
  statuses: Record<string, PaymentStatusAnswer['status']>,
): Promise<PaymentStatusAnswer> {
  if (res.status === 404) {
    await res.body?.cancel();
    return { status: 'not_found', code: null };
  }
  if (res.status !== 200) throw new Error(`unexpected bank answer ${res.status} to an inquiry`);
  const report = await readIsoAnswer(res, parse, what);
  const status = statuses[report.status];
  if (!status) throw new Error(`${what} carries an unexpected status ${report.status}`);
  return { status, code: report.reasonCode ?? null };
}
