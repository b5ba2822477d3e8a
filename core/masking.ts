/**
 * How an account number is shown to anyone but the bank: its last four digits. Responses, events
 * and webhooks a client can read carry account numbers only like this.
 */
export function maskAccount(value: string): string {
  return value.length <= 4 ? '****' : `${'*'.repeat(Math.min(value.length - 4, 8))}${value.slice(-4)}`;
}
