/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks what can be checked:
 * it parses, every Railyard command exists, each service has a health check, and the environment
 * and ports agree with the config code.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONFIG_KEYS, codecCorsOrigins, loadConfig } from '../core/config';
import { generateCodecKey } from '../core/payload-codec';

const ROOT = path.resolve(__dirname, '..');

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;
  const ours = Object.entries(services).filter(([, s]) => s.build === '.');

  it('has the production shape: MySQL 8, Temporal on MySQL, Temporal UI, api, worker, bank simulator', () => {
    assert.match(services.mysql.image ?? '', /^mysql:8/);
    assert.equal(services.temporal.environment?.DB, 'mysql8');
    assert.equal(services.temporal.environment?.MYSQL_SEEDS, 'mysql');
    assert.match(services['temporal-ui'].image ?? '', /^temporalio\/ui:/);
    for (const name of ['api', 'worker', 'banksim']) assert.equal(services[name]?.build, '.', name);
    assert.ok(existsSync(path.join(ROOT, 'Dockerfile')));
  });

  it('gives every long-running service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.restart === 'no') continue; // one-shot setup
      assert.ok(service.healthcheck?.test?.length, `${name} has no healthcheck`);
    }
  });

  it("runs Railyard's services with entry points that exist", () => {
    for (const [name, service] of ours) {
      const script = service.command?.find((arg) => arg.endsWith('.ts'));
      assert.ok(script, `${name} has no TypeScript entry point`);
      assert.ok(existsSync(path.join(ROOT, script)), `${name}: ${script} does not exist`);
    }
  });

  it('sets only environment variables the config reads, with values it accepts', () => {
    for (const [name, service] of ours) {
      const env = { ...service.environment };
      for (const key of Object.keys(env)) assert.ok(CONFIG_KEYS.includes(key), `${name}: ${key} is not a config variable`);
      if (env.OPS_API_KEY?.startsWith('${')) env.OPS_API_KEY = 'x'.repeat(32);
      if (env.PAYLOAD_CODEC_KEYS?.startsWith('${')) env.PAYLOAD_CODEC_KEYS = generateCodecKey('k1');
      assert.doesNotThrow(() => loadConfig(env), name);
      assert.equal(loadConfig(env).RAIL_TIME, 'real', `${name} follows real rail time`);
    }
  });

  it('publishes the ports the services listen on and points clients at them', () => {
    // The keys come from the operator's environment (checked below), not from the file.
    const withoutKeys = (env: Record<string, string> | undefined) => ({ ...env, PAYLOAD_CODEC_KEYS: undefined });
    const api = loadConfig(withoutKeys(services.api.environment));
    assert.ok(services.api.ports?.includes(`${api.PORT}:${api.PORT}`));
    const sim = loadConfig(services.banksim.environment);
    assert.ok(services.banksim.ports?.includes(`${sim.BANK_SIM_PORT}:${sim.BANK_SIM_PORT}`));
    assert.equal(new URL(api.BANK_SIM_URL).port, String(sim.BANK_SIM_PORT));
    assert.equal(new URL(api.BANK_SIM_URL).hostname, 'banksim');
    assert.equal(api.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(new URL(api.DATABASE_URL!).hostname, 'mysql');
    const worker = loadConfig(withoutKeys(services.worker.environment));
    assert.ok(services.worker.healthcheck?.test.join(' ').includes(`:${worker.WORKER_HEALTH_PORT}/healthz`));
    assert.ok(services.api.healthcheck?.test.join(' ').includes(`:${api.PORT}/readyz`));
    assert.ok(services.banksim.healthcheck?.test.join(' ').includes(`:${sim.BANK_SIM_PORT}/healthz`));
  });

  it('gives the api and the worker the same payload keys, required, and points the Temporal UI at the codec server', () => {
    const required = /^\$\{PAYLOAD_CODEC_KEYS:\?/;
    assert.match(services.api.environment?.PAYLOAD_CODEC_KEYS ?? '', required);
    assert.match(services.worker.environment?.PAYLOAD_CODEC_KEYS ?? '', required);
    const api = loadConfig({ ...services.api.environment, PAYLOAD_CODEC_KEYS: undefined });
    const ui = services['temporal-ui'].environment ?? {};
    const endpoint = new URL(ui.TEMPORAL_CODEC_ENDPOINT ?? 'http://missing');
    assert.equal(endpoint.pathname, '/codec');
    assert.equal(endpoint.port, String(api.PORT), 'the UI calls the API port published on the host');
    const uiPort = services['temporal-ui'].ports?.[0]?.split(':')[0];
    assert.ok(codecCorsOrigins(api).includes(`${endpoint.protocol}//${endpoint.hostname}:${uiPort}`), 'the API answers CORS for the UI origin');
  });
});
