/**
 * Checks live answers against the API's own OpenAPI document: every reply that `call()` receives
 * on a documented route must have a documented status and a body matching that status's schema.
 * So every API test, whatever it is about, also tests that the document tells the truth.
 */
import assert from 'node:assert/strict';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { CODEC_PATHS } from '../../api/routes-codec';

interface Operation {
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: object;
}

interface Checker {
  routes: { method: string; pattern: RegExp; path: string; operation: Operation }[];
  validators: Map<string, ValidateFunction>;
  doc: Document;
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const checkers = new Map<string, Promise<Checker>>();

async function checkerFor(baseUrl: string): Promise<Checker> {
  let checker = checkers.get(baseUrl);
  if (!checker) {
    checker = fetch(`${baseUrl}/openapi.json`)
      .then((r) => r.json() as Promise<Document>)
      .then((doc) => ({
        doc,
        validators: new Map(),
        routes: Object.entries(doc.paths).flatMap(([path, methods]) =>
          Object.entries(methods).map(([method, operation]) => ({
            method: method.toUpperCase(),
            path,
            pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`),
            operation,
          })),
        ),
      }));
    checkers.set(baseUrl, checker);
  }
  return checker;
}

/** Paths outside the JSON API, which the document does not describe (the codec server speaks Temporal's protocol). */
const UNDOCUMENTED_PATHS = new Set(['/openapi.json', '/docs', '/docs/init.js', '/metrics', ...CODEC_PATHS]);

/**
 * Asserts that a reply matches the document: on a documented route, its status is listed and its
 * body matches; on any other path only 404 (no such route) is expected, so a route that answers
 * without being documented fails here, however it is mounted.
 */
export async function assertReplyDocumented(baseUrl: string, method: string, pathWithQuery: string, status: number, body: unknown): Promise<void> {
  const checker = await checkerFor(baseUrl);
  const path = pathWithQuery.split('?')[0];
  const route = checker.routes.find((r) => r.method === method && r.pattern.test(path));
  if (!route) {
    if (UNDOCUMENTED_PATHS.has(path) || path.startsWith('/docs/')) return;
    assert.equal(status, 404, `${method} ${path} answered ${status} but is not in /openapi.json: add a documentRoute() call next to the route (api/openapi.ts)`);
    return;
  }
  const key = `${method} ${route.path} ${status}`;
  const response = route.operation.responses[String(status)];
  assert.ok(response, `${method} ${path} answered ${status}, which /openapi.json does not list for ${route.path} (it lists ${Object.keys(route.operation.responses).join(', ')})`);
  const schema = response.content?.['application/json']?.schema;
  assert.ok(schema, `${key} has no JSON schema in /openapi.json`);
  let validate = checker.validators.get(key);
  if (!validate) {
    validate = ajv.compile({ ...schema, components: checker.doc.components });
    checker.validators.set(key, validate);
  }
  assert.ok(validate(body), `${key} does not match /openapi.json: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 1000)}`);
}
