// The library entry (src/index.ts) reaches no Node-only module: following its static imports never
// lands in a *-node.ts file or a `node:` module, so a browser bundle needs none (files that use Node
// APIs are named *-node.ts; the wasm engine loads Node builtins only at run time, in Node). And as a
// bundler sees it: the browser entry and the playground page bundle for platform=browser with no Node
// built-in anywhere in their import graphs, and the esbuild example resolves `performer` through the
// `browser` condition and builds the worker beside its bundle.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import * as esbuild from 'esbuild';
import { assertBuilt, REPO } from './helpers/browser.js';
import { buildExample } from '../examples/esbuild/build.mjs';

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

const NODE_BUILTIN = /^node:|^(fs|fs\/promises|path|os|crypto|worker_threads|child_process|http|https|net|url|v8|util|stream|zlib)$/;

/** Bundles `entry` for browsers; resolves to the Node built-ins its import graph reaches ("importer → module"). */
async function nodeImports(entry: string): Promise<string[]> {
  const found: string[] = [];
  await esbuild.build({
    entryPoints: [join(REPO, entry)], bundle: true, write: false, platform: 'browser', format: 'esm', logLevel: 'silent',
    plugins: [{
      name: 'find-node-builtins',
      setup(b) {
        b.onResolve({ filter: NODE_BUILTIN }, (a) => {
          found.push(`${relative(REPO, a.importer)} → ${a.path}`);
          return { path: a.path, external: true };
        });
      },
    }],
  });
  return found;
}

test('the browser entry and the page import no Node built-in (the Node entry does)', async () => {
  assert.deepEqual(await nodeImports('src/index.ts'), []);
  assert.deepEqual(await nodeImports('src/web/main.ts'), []);
  // The check can fail: the Node entry reaches node:fs through the checkpoint folder reader.
  const node = await nodeImports('src/index-node.ts');
  assert.ok(node.some((s) => s.startsWith('src/io/checkpoint-node.ts → node:')), node.join('\n'));
});

test('package.json: the browser condition names the browser entry, the default the Node entry', async () => {
  const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.exports['.'].browser, { types: './dist/index.d.ts', default: './dist/index.js' });
  assert.deepEqual(pkg.exports['.'].default, { types: './dist/index-node.d.ts', default: './dist/index-node.js' });
  assert.equal(pkg.exports['./worker'], './dist/kernels/wasm/worker.js');
});

test('the esbuild example bundles the browser entry, and the worker beside it', async () => {
  assertBuilt();
  const out = await mkdtemp(join(tmpdir(), 'performer-esbuild-'));
  try {
    const result = await buildExample(out);
    const inputs = Object.keys(result.metafile.inputs);
    assert.ok(inputs.includes('dist/index.js'), 'the browser entry is bundled');
    assert.ok(!inputs.some((p) => p.startsWith('dist/index-node')), 'the Node entry is not');
    assert.ok(!inputs.some((p) => p.startsWith('src/')), 'the package is used as built');
    const main = await readFile(join(out, 'main.js'), 'utf8'), worker = await readFile(join(out, 'worker.js'), 'utf8');
    // Node built-ins appear only as strings behind the runtime's isNode checks, never as imports.
    for (const code of [main, worker]) assert.doesNotMatch(code, /(from\s*|import\s*\(\s*|require\s*\(\s*)["']node:/);
    assert.match(main, /new URL\("\.\/worker\.js", import\.meta\.url\)/);
    assert.match(await readFile(join(out, 'index.html'), 'utf8'), /src="\.\/main\.js"/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
