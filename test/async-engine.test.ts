// The engine interface is ready for a device engine: an engine whose data sits behind an
// asynchronous read (test/engines/async-engine.ts, a stand-in for WebGPU) runs attention and a full
// training step (forward, backward, gradient clipping, AdamW) through the same code paths as the
// wasm engine, reading back nothing but the loss, and gets the reference engine's numbers exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, clearTape, favorAttentionOp, Var } from '../src/autograd/index.js';
import { favorAttention } from '../src/favor/attention.js';
import { drawProjection } from '../src/favor/projection.js';
import { installEngine } from '../src/kernels/registry.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import type { Engine } from '../src/kernels/engine.js';
import { PerformerLM } from '../src/nn/models.js';
import { AdamW, clipGradNormVar } from '../src/optim/adamw.js';
import { defaultDevice, setDefaultDevice } from '../src/tensor/storage.js';
import { Tensor } from '../src/tensor/tensor.js';
import { createAsyncEngine } from './engines/async-engine.js';
import { corpusFromText } from '../src/data/read.js';
import { createTokenizer } from '../src/data/tokenizer.js';
import { makeModelSpec, makeTrainHyper, Trainer } from '../src/train/index.js';
import { randn } from './helpers/data.js';

/** Runs fn with `engine` as the default engine, then restores the previous default. */
async function withEngine<T>(engine: Engine, fn: () => Promise<T>): Promise<T> {
  const before = defaultDevice();
  installEngine(engine);
  try {
    return await fn();
  } finally {
    setDefaultDevice(before);
  }
}

test('favorAttention on the async engine: output stays on it, no synchronous read, same values as the reference engine', async () => {
  const gpu = createAsyncEngine();
  const [B, H, L, d] = [2, 2, 37, 8];
  const host = (seed: number) => new Tensor([B, H, L, d], randn(B * H * L * d, seed), referenceEngine);
  const [q, k, v] = [host(1), host(2), host(3)];
  const W = drawProjection({ features: 16, dim: d, seed: 4 });
  const want = favorAttention(q, k, v, { projection: W, causal: true, chunk: 8, engine: referenceEngine });
  const gq = await q.to(gpu), gk = await k.to(gpu), gv = await v.to(gpu), gW = await W.to(gpu);
  assert.throws(() => favorAttention(gq, gk, gv, { projection: W, causal: true }), /move it with \.to\(engine\)/);
  const out = favorAttention(gq, gk, gv, { projection: gW, causal: true, chunk: 8 });
  assert.equal(out.device, gpu);
  assert.throws(() => out.data, /no synchronous read/);
  const reads = gpu.reads;
  assert.deepEqual(await out.read(), want.data);
  assert.equal(gpu.reads, reads + 1);
});

test('the differentiable attention op runs forward and backward on the async engine', async () => {
  const gpu = createAsyncEngine();
  const [B, H, L, d] = [1, 2, 19, 4];
  const W = randn(8 * d, 5);
  const run = async (e: Engine) => withEngine(e, async () => {
    const [q, k, v] = [1, 2, 3].map((s) => new Var([B, H, L, d], randn(B * H * L * d, s), true));
    const out = favorAttentionOp(q!, k!, v!, { projection: W, causal: true, chunk: 4 });
    backward(out, randn(B * H * L * d, 9));
    return { out: await out.read(), dq: await q!.readGrad(), dv: await v!.readGrad() };
  });
  const want = await run(referenceEngine), got = await run(gpu);
  assert.deepEqual(got, want);
});

test('a training step (forward, backward, clipping, AdamW) on the async engine reads back only the loss', async () => {
  const cfg = { vocabSize: 40, dim: 16, layers: 2, heads: 2, maxLen: 24, attention: 'favor' as const, features: 8,
    positions: 'rotary' as const, tokenShift: true, dropout: 0.1, seed: 5 };
  const [B, L] = [2, 24];
  const x = Int32Array.from({ length: B * L }, (_, i) => (i * 7 + 3) % 40), y = Int32Array.from({ length: B * L }, (_, i) => (i * 11 + 1) % 40);
  const gpu = createAsyncEngine();
  const step = (e: Engine) => withEngine(e, async () => {
    const lm = new PerformerLM(cfg);
    lm.train();
    const opt = new AdamW(lm, { lr: 1e-2 });
    const losses: number[] = [];
    for (let s = 0; s < 2; s++) {
      opt.zeroGrad();
      const reads = gpu.reads;
      const loss = lm.loss(x, y, B, L);
      backward(loss);
      clipGradNormVar(lm.parameters(), 0.5);
      opt.step();
      assert.equal(gpu.reads, reads, 'nothing is read back during the step');
      losses.push(await loss.readItem());
      if (e === gpu) assert.equal(gpu.reads, reads + 1, 'the loss is the one read');
    }
    clearTape();
    const params = await Promise.all(lm.parameters().map((p) => p.read()));
    return { losses, params };
  });
  const want = await step(referenceEngine), got = await step(gpu);
  assert.ok(Number.isFinite(want.losses[0]!) && want.losses[1] !== want.losses[0]);
  assert.deepEqual(got.losses, want.losses);
  assert.deepEqual(got.params, want.params);
});

test('Trainer.trainStep — the step `performer train` runs — on the async engine: two reads per step (loss, gradient norm), same losses and weights as the reference engine', async () => {
  const byte = createTokenizer('byte');
  const text = 'It was the best of times, it was the worst of times; it was the age of wisdom. '.repeat(12);
  const spec = makeModelSpec({ layers: 2, dim: 16, heads: 2, features: 8, redraw: 2, dropout: 0.1, positions: 'rotary', tokenShift: true }, byte, 16);
  const hyper = makeTrainHyper({ seqLen: 16, batchSize: 2, lr: 3e-3, warmup: 2, scheduleSteps: 20, valFraction: 0.1, steps: 3 });
  const gpu = createAsyncEngine();
  const run = (e: Engine) => withEngine(e, async () => {
    const trainer = Trainer.create(spec, hyper, await corpusFromText(text, byte, '<test>'));
    const results = [];
    for (let s = 0; s < 3; s++) {
      const reads = gpu.reads;
      results.push(await trainer.trainStep());
      if (e === gpu) assert.equal(gpu.reads, reads + 2, 'a step reads back the loss and the gradient norm, nothing else');
    }
    const params = await Promise.all(trainer.model.parameters().map((p) => p.read()));
    return { results, params };
  });
  const want = await run(referenceEngine), got = await run(gpu);
  assert.deepEqual(got.results, want.results);
  assert.deepEqual(got.params, want.params);
});
