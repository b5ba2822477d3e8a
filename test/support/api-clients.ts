/** Clients made through the ops API of a running stack, as an operator onboards them. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
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

export interface ApiOperator {
  id: string;
  /** The name the audit log shows: `name` with a suffix, since a name is never reused. */
  name: string;
  key: string;
}

/** A new named operator with `role`, created by the bootstrap admin through the ops API. */
export async function apiOperator(stack: { url: string; opsKey: string }, name: string, role: 'viewer' | 'operator' | 'admin'): Promise<ApiOperator> {
  const created = await call(stack.url, 'POST', '/v1/ops/operators', { key: stack.opsKey, body: { name: `${name}-${randomBytes(4).toString('hex')}`, role } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.id, name: created.body.name, key: created.body.apiKey };
}
