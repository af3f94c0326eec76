// The engine registry: one entry (useEngine) installs the default engine for inference and training
// alike; engines coexist; moving tensors between them is explicit.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { matmul, Var } from '../src/autograd/index.js';
import { favorAttention } from '../src/favor/attention.js';
import { drawProjection } from '../src/favor/projection.js';
import { createEngine, defaultEngine, ENGINE_NAMES, useEngine } from '../src/kernels/registry.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import { Tensor } from '../src/tensor/tensor.js';
import { createAsyncEngine } from './engines/async-engine.js';
import { randn } from './helpers/data.js';

const made: { dispose(): void }[] = [];
after(() => { for (const e of made) e.dispose(); });

test('the registry lists wasm and reference, and names the engines it knows when asked for another', async () => {
  assert.deepEqual([...ENGINE_NAMES].sort(), ['reference', 'wasm']);
  await assert.rejects(createEngine('webgpu'), /unknown engine 'webgpu' \(wasm\|reference\)/);
  await assert.rejects(createEngine('wasm', { threads: 0 }), /threads must be a positive integer, got 0/);
  await assert.rejects(createEngine('reference', { threads: 2 }), /engine reference runs on one thread/);
});

test('useEngine installs the default engine, returns what it installed, and is idempotent', async () => {
  assert.equal(defaultEngine(), referenceEngine, 'before any install: the reference engine');
  const wasm = await useEngine('wasm', { threads: 2 });
  made.push(wasm);
  assert.equal(wasm.name, 'wasm');
  assert.equal(wasm.threads, 2);
  assert.match(wasm.kernels, /^wasm-(relaxed|simd) \(matmul, attention/);
  assert.equal(defaultEngine(), wasm);
  assert.equal(await useEngine('wasm', { threads: 2 }), wasm, 'same engine and options: the installed one');
  // New tensors and Vars land on it; ops run there and return results there.
  const a = new Var([3, 4], randn(12, 1)), b = new Var([4, 2], randn(8, 2));
  assert.equal(a.device, wasm);
  assert.equal(matmul(a, b).device, wasm);
  const ref = await useEngine('reference');
  assert.equal(ref, referenceEngine);
  assert.equal(new Tensor([2]).device, referenceEngine);
});

test('engines coexist; to() moves a tensor (free between CPU engines, a copy to a device engine)', async () => {
  const wasm = await createEngine('wasm', { threads: 1 });
  made.push(wasm);
  const gpu = createAsyncEngine();
  const [B, H, L, d] = [1, 2, 9, 4];
  const q = new Tensor([B, H, L, d], randn(B * H * L * d, 3), referenceEngine);
  const W = drawProjection({ features: 8, dim: d, seed: 1 });
  const onWasm = await q.to(wasm);
  assert.equal(onWasm.device, wasm);
  assert.equal(onWasm.data, q.data, 'CPU engines share the array');
  const uploads = gpu.uploads;
  const onGpu = await q.to(gpu);
  assert.equal(gpu.uploads, uploads + 1);
  assert.deepEqual(await onGpu.read(), q.data);
  // The same attention on three engines at once.
  const outs = await Promise.all([referenceEngine, wasm, gpu].map(async (e) => {
    const [eq, eW] = [await q.to(e), await W.to(e)];
    return favorAttention(eq, eq, eq, { projection: eW, engine: e }).read();
  }));
  const err = (x: Float32Array, y: Float32Array) => Math.max(...x.map((v, i) => Math.abs(v - y[i]!)));
  assert.ok(err(outs[1]!, outs[0]!) < 1e-5, 'wasm ≈ reference');
  assert.deepEqual(outs[2], outs[0], 'the async engine runs the reference kernels');
  // A device tensor does not meet another engine's without a move.
  const onDevice = Var.fromTensor(onGpu.reshape([B * H * L, d])), onHost = Var.fromTensor(q.reshape([B * H * L, d]));
  assert.throws(() => matmul(onDevice, onHost, { transB: true }),
    /matmul: inputs live on engines async-test and reference; move one with \.to\(engine\)/);
});
