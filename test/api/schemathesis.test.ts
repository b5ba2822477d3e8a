/**
 * Schemathesis (property-based API testing from PyPI) against the running API with every check it
 * has (`--checks all`): requests the document allows are accepted, requests it forbids are refused,
 * answers match their documented status, headers and schema, auth is not ignored, undeclared
 * methods are 405 with an Allow header. It finds what the document says and the server does not
 * enforce (or the reverse).
 *
 * Schemathesis is installed, pinned, into the git-ignored `.venv-schemathesis/` the first time
 * (from PyPI, about a minute); a failed install fails the test with the command to run by hand.
 * Client routes run with a client key, `/v1/ops/*` with the operator key; test/api/schemathesis.toml
 * says which documented refusals count as answers to a valid request.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../core/config';
import { startApiServer, type ApiServer } from '../../api/server';
import type { SqlEntityManager } from '@mikro-orm/knex';
import { Operator } from '../../db/schema';
import { BOOTSTRAP_OPERATOR, createOperator } from '../../services/operators';
import { apiStack, type ApiStack } from '../support/api-stack';
import { apiClient, type ApiClient } from '../support/api-clients';

const ROOT = path.resolve(__dirname, '../..');
const VENV = path.join(ROOT, '.venv-schemathesis');
const ST = path.join(VENV, 'bin', 'st');
const SCHEMATHESIS_VERSION = '4.32.5';
/** Test cases per operation and phase: enough to find the classes of problem, bounded for 2 CPUs. */
const MAX_EXAMPLES = 30;

function installedVersion(): string | undefined {
  if (!existsSync(ST)) return undefined;
  try {
    return /version (\S+)/.exec(execFileSync(ST, ['--version'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

function ensureSchemathesis(): void {
  if (installedVersion() === SCHEMATHESIS_VERSION) return;
  const howTo = `python3 -m venv .venv-schemathesis && .venv-schemathesis/bin/pip install schemathesis==${SCHEMATHESIS_VERSION}`;
  try {
    if (!existsSync(path.join(VENV, 'bin', 'pip'))) execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'pipe' });
    execFileSync(path.join(VENV, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`], { stdio: 'pipe', timeout: 300_000 });
  } catch (err) {
    assert.fail(`schemathesis ${SCHEMATHESIS_VERSION} is not installed and installing it from PyPI failed (${(err as Error).message.split('\n')[0]}). Install it by hand, from the repository root:\n  ${howTo}`);
  }
  assert.equal(installedVersion(), SCHEMATHESIS_VERSION, `schemathesis did not install; run: ${howTo}`);
}

/** Runs `st run` and resolves with its exit code and everything it printed. */
function schemathesis(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(ST, ['--config-file', path.join(__dirname, 'schemathesis.toml'), 'run', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('API: schemathesis --checks all against /openapi.json', function () {
  this.timeout(900_000);
  let stack: ApiStack;
  let api: ApiServer;
  let client: ApiClient;
  /** An admin of schemathesis's own: what it fuzzes includes revoking operators, the bootstrap admin among them. */
  let adminKey: string;

  before(async () => {
    ensureSchemathesis();
    stack = await apiStack();
    // Its own server on the shared stack, with a rate limit schemathesis will not reach: a 429 is
    // documented, but would hide what the request itself was answered.
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', RAIL_TIME: 'demo', RATE_LIMIT_PER_SECOND: '100000', RATE_LIMIT_BURST: '100000', BANK_SIM_URL: stack.bank.url });
    api = await startApiServer({ orm: stack.orm, temporal: stack.temporal, config, opsApiKey: stack.opsKey });
    client = await apiClient(stack, 'Schemathesis Co', 100_000_000);
    ({ apiKey: adminKey } = await createOperator(stack.orm.em.fork() as SqlEntityManager, { name: `schemathesis-${Date.now()}`, role: 'admin', createdBy: BOOTSTRAP_OPERATOR }));
  });

  after(async () => {
    await api?.close();
    // Fuzzing DELETE /v1/ops/operators/{id} may have revoked the bootstrap admin every other suite
    // on this database signs in as: give it back, as a fresh start with its key would not.
    await stack?.orm.em.fork().nativeUpdate(Operator, { name: BOOTSTRAP_OPERATOR }, { revokedAt: null, role: 'admin' });
  });

  const common = () => [`${api.url}/openapi.json`, '--checks', 'all', '--max-examples', String(MAX_EXAMPLES), '--seed', '20261202', '--generation-database', 'none', '--no-color', '--workers', '2'];

  for (const [who, filter, key] of [
    ['client and public routes, with a client key', ['--exclude-path-regex', '^/v1/ops/'], () => client.key],
    // An admin: who acts is the key's operator.
    ['operator routes, with an admin key', ['--include-path-regex', '^/v1/ops/'], () => adminKey],
  ] as const) {
    it(`finds nothing on the ${who}`, async () => {
      const run = await schemathesis([...common(), ...filter, '--header', `Authorization: Bearer ${key()}`]);
      assert.equal(run.code, 0, `schemathesis found problems (exit ${run.code}):\n${run.output}`);
      assert.match(run.output, /passed/i, run.output);
    });
  }
});
