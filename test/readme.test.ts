// The README's library example, taken from README.md itself (so it cannot go stale) and run as a
// script, with checks appended: shapes, finite outputs, the backend name it promises, the key mask of
// all ones changing nothing, and the recurrent state stepping to the causal path's rows.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';

const root = fileURLToPath(new URL('..', import.meta.url));

const CHECKS = `
import assert from 'node:assert/strict';
for (const t of [out, causal, baseline, padded]) {
  assert.deepEqual(t.shape, [B, H, L, d]);
  assert.ok(t.data.every(Number.isFinite));
}
for (let i = 0; i < out.size; i++) assert.ok(Math.abs(padded.data[i] - out.data[i]) <= 1e-6 * (1 + Math.abs(out.data[i])), 'a mask of ones changes nothing');
// the recurrent state, position by position, gives the causal path's rows
const row = (x, t) => {
  const r = new Tensor([B, H, d]);
  for (let bh = 0; bh < B * H; bh++) r.data.set(x.data.subarray((bh * L + t) * d, (bh * L + t + 1) * d), bh * d);
  return r;
};
for (let t = 0; t < 70; t++) {
  const o = state.step(row(q, t), row(k, t), row(v, t)), want = row(causal, t);
  let err = 0, scale = 0;
  for (let i = 0; i < o.size; i++) { err = Math.max(err, Math.abs(o.data[i] - want.data[i])); scale = Math.max(scale, Math.abs(want.data[i])); }
  assert.ok(err <= 1e-4 * scale, 'position ' + t + ': recurrent ' + err + ' from causal');
}
`;

test('README library example runs, and does what its comments say', async () => {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const block = /## Library\n\n```ts\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(block, 'README.md has a ```ts block under "## Library"');
  const code = block[1]!;
  assert.equal(code.split("from 'performer'").length, 2, "the example imports from 'performer' once");
  const names = [...(/console\.log\(wasm\.name, wasm\.threads[^)]*\); \/\/ (.*)/.exec(code)?.[1] ?? '').matchAll(/'([\w-]+)'/g)].map((m) => m[1]);
  assert.ok(names.length >= 1, 'the example says which engine name to expect');

  const dir = await mkdtemp(join(tmpdir(), 'performer-readme-'));
  try {
    const file = join(dir, 'example.mts'); // .mts: an ES module wherever it lies (top-level await)
    await writeFile(file, code.replace("from 'performer'", `from '${pathToFileURL(join(root, 'src/index.ts')).href}'`) + CHECKS);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b; });
    child.stderr.on('data', (b: Buffer) => { stderr += b; });
    const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const code_ = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(killer);
    assert.equal(code_, 0, stderr);
    const [name, threads] = stdout.trim().split(/\s+/);
    assert.ok(names.includes(name!), `engine ${name} is one of the README's ${names.join(', ')}`);
    assert.ok(Number(threads) >= 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
