/**
 * The shape transfers/status.ts promises: it is the only writer of a transfer's events and
 * `transfer.updated` webhook events, and the project's modules import each other without cycles
 * at run time (type-only imports aside), so a status write can be followed one way, top down.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', 'test', '.tools', '.git', 'bench/results']);

function sources(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP.has(relative(ROOT, path)) || e.name.startsWith('.') ? [] : sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The project files `file` imports as values (not `import type`), resolved to paths. */
function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'(\.[^']+)'/gms)) {
    if (m[1]) continue;
    const target = resolve(dirname(file), m[2]);
    const hit = [`${target}.ts`, join(target, 'index.ts')].find(existsSync);
    if (hit) found.push(hit);
  }
  return found;
}

describe('one writer of transfer status, imports one way', () => {
  const files = sources();

  it('scans the project (a scan that finds nothing proves nothing)', () => {
    assert.ok(files.length > 100, `found only ${files.length} source files`);
    assert.ok(files.some((f) => f.endsWith(join('transfers', 'status.ts'))));
  });

  it('writes TransferEvent rows and transfer.updated events only in transfers/status.ts', () => {
    const allowed = new Set([join(ROOT, 'transfers/status.ts'), join(ROOT, 'webhooks/outbox.ts')]);
    const writers = files.filter((f) => !allowed.has(f)).filter((f) => {
      const text = readFileSync(f, 'utf8');
      return /(create|insert|persist)\(\s*TransferEvent\b/.test(text) || /\bemitTransfers?Updated\s*\(/.test(text);
    });
    assert.deepEqual(writers.map((f) => relative(ROOT, f)), []);
  });

  it('has no run-time import cycle', () => {
    const graph = new Map(files.map((f) => [f, valueImports(f)]));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const path: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      path.push(f);
      for (const g of graph.get(f) ?? []) {
        if (state.get(g) === 'open') cycles.push([...path.slice(path.indexOf(g)), g].map((p) => relative(ROOT, p)).join(' -> '));
        else if (!state.has(g)) visit(g);
      }
      path.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });
});
