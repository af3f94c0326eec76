// The library entry (src/index.ts) reaches no Node-only module: following its static imports never
// lands in a *-node.ts file or a `node:` module, so a browser bundle needs none (files that use Node
// APIs are named *-node.ts; the wasm engine loads Node builtins only at run time, in Node).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const src = fileURLToPath(new URL('../src/', import.meta.url));

/** Static import and export-from specifiers of a TypeScript file (type-only ones left out: erased). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)'/gm)) if (!m[2]) out.push(m[3]!);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]!);
  return out;
}

test('src/index.ts imports nothing Node-only, directly or through other files', () => {
  const seen = new Set<string>(), bad: string[] = [];
  const visit = (file: string, via: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (file.endsWith('-node.ts')) bad.push(`${relative(src, file)} (via ${via})`);
    for (const spec of imports(file)) {
      if (spec.startsWith('node:')) bad.push(`${spec} (in ${relative(src, file)})`);
      else if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')), relative(src, file));
    }
  };
  visit(join(src, 'index.ts'), 'the entry');
  assert.ok(seen.size > 30, `followed ${seen.size} files`);
  assert.deepEqual(bad, []);
});
