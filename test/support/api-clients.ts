/** Clients made through the ops API of a running stack, as an operator onboards them. */
import assert from 'node:assert/strict';
import { call, type ApiStack } from './api-stack';

export interface ApiClient {
  id: string;
  key: string;
}

/** A new client, with `amountMinor` USD deposited unless it is 0. */
export async function apiClient(stack: ApiStack, name: string, amountMinor: number): Promise<ApiClient> {
  const created = await call(stack.url, 'POST', '/v1/ops/clients', { key: stack.opsKey, body: { name } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  if (amountMinor > 0) {
    const funded = await call(stack.url, 'POST', `/v1/ops/clients/${created.body.id}/deposits`, { key: stack.opsKey, body: { currency: 'USD', amountMinor, reference: 'seed' } });
    assert.equal(funded.status, 201, JSON.stringify(funded.body));
  }
  return { id: created.body.id, key: created.body.apiKey };
}
