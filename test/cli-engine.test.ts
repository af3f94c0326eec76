// Every command takes the engine flags (--engine, --threads, --simd) and rejects wrong ones with a
// one-line usage error before doing any work.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli as run } from './helpers/cli.js';


const COMMANDS = ['attention', 'approx', 'bench', 'train', 'eval', 'generate', 'showcase', 'forward'] as const;

for (const cmd of COMMANDS) {
  test(`${cmd}: --help lists --engine wasm|reference, --threads and --simd`, async () => {
    const r = await run([cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--engine wasm\|reference +compute engine: wasm \(WebAssembly SIMD \+ threads\) or reference/);
    assert.match(r.stdout, new RegExp(`\\(default ${cmd === 'approx' ? 'reference' : 'wasm'}\\)`));
    assert.match(r.stdout, /--threads N +threads of the wasm engine/);
    assert.match(r.stdout, /--simd auto\|relaxed\|plain +wasm engine: SIMD build/);
  });
}

test('engine flags are validated with a one-line usage error', async () => {
  const cases: [string[], RegExp][] = [
    [['train', '--data', 'x', '--out', 'y', '--engine', 'reference', '--threads', '2'], /--threads: the reference engine runs on one thread, got 2/],
    [['eval', '--checkpoint', 'x', '--data', 'y', '--engine', 'webgpu'], /--engine: expected one of wasm, reference, got "webgpu"/],
    [['approx', '--simd', 'plain'], /--simd: only the wasm engine has SIMD variants \(engine is reference\)/],
    [['generate', '--checkpoint', 'x', '--prompt', 'a', '--threads', '0'], /--threads: must be at least 1, got 0/],
    [['bench', '--engine', 'reference', '--backward', '--ts-backward'], /--ts-backward: a wasm engine option \(engine is reference\)/],
    [['showcase', '--simd', 'fast'], /--simd: expected one of auto, relaxed, plain, got "fast"/],
  ];
  for (const [argv, want] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, want, argv.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, `${argv.join(' ')}: one line`);
    assert.equal(r.stdout, '');
  }
});
