// The architecture's one rule, checked on the sources: an import never runs upward. Layers, bottom
// up: tensor → kernels → favor → data, io → autograd → nn, optim → train → interop → cli → web (the
// playground page, which also reuses the CLI's plotting and Fig. 4 experiment). Layers of
// the same rank do not import each other (optim imports nothing from nn, nor nn from optim).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');
const RANK: Record<string, number> = {
  tensor: 0, kernels: 1, favor: 2, data: 3, io: 3, autograd: 4, nn: 5, optim: 5, train: 6, interop: 7, cli: 8, web: 9,
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level folder of src/ a file lives in ('' for src/index.ts and the like). */
function layerOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  return parts.length > 1 ? parts[0]! : '';
}

/** Every relative import and export-from of a source file, resolved to a path. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)];
  return specs.map((m) => resolve(dirname(file), m[1] ?? m[2]!));
}

test('every folder of src/ has a rank in the layer order', () => {
  const folders = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
  assert.deepEqual(folders.filter((f) => !(f in RANK)), [], 'a new folder needs its place in the layer order');
});

test('no import runs upward or sideways between layers', () => {
  const violations: string[] = [];
  for (const file of sources(SRC)) {
    const from = layerOf(file);
    if (!from) continue; // the package entry points may import every layer
    for (const target of importsOf(file)) {
      const to = layerOf(target);
      if (!to || to === from) continue;
      if (RANK[to]! >= RANK[from]!) violations.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
    }
  }
  assert.deepEqual(violations, []);
});

test('the checker sees an upward import (self-test on a made-up case)', () => {
  // kernels (rank 1) importing autograd (rank 4) must count as a violation
  assert.ok(RANK['autograd']! >= RANK['kernels']!);
  const fake = join(SRC, 'kernels', 'x.ts');
  assert.equal(layerOf(fake), 'kernels');
  assert.equal(layerOf(resolve(dirname(fake), '../autograd/var.js')), 'autograd');
});
