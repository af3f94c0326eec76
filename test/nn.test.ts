import { test } from 'node:test';
import { IGNORE_INDEX } from '../src/data/ignore-index.js';
import assert from 'node:assert/strict';
import { clearTape, noGrad, Var } from '../src/autograd/index.js';
import { PerformerEncoder, PerformerLM, type PerformerConfig } from '../src/nn/index.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck } from './autograd-helpers.js';

const tiny: PerformerConfig = { vocabSize: 11, dim: 8, layers: 2, heads: 2, maxLen: 16, features: 6, seed: 5 };

function ids(n: number, V: number, seed: number): Int32Array {
  const r = new Rng(seed);
  return Int32Array.from({ length: n }, () => r.uint32() % V);
}

test('parameters are named, the FAVOR+ projection is a buffer', () => {
  const lm = new PerformerLM(tiny);
  const names = lm.namedParameters().map((e) => e[0]);
  for (const n of ['tok.weight', 'pos.weight', 'blocks.0.ln1.weight', 'blocks.0.attn.wq.weight', 'blocks.0.attn.wq.bias',
    'blocks.1.attn.wo.weight', 'blocks.1.ff.fc1.weight', 'blocks.1.ff.fc2.bias', 'blocks.1.ln2.bias', 'ln_f.weight']) {
    assert.ok(names.includes(n), `missing ${n}`);
  }
  assert.ok(!names.some((n) => n.includes('projection')));
  assert.ok(!names.includes('head.weight')); // tied by default
  assert.deepEqual(lm.namedBuffers().map((e) => e[0]), ['blocks.0.attn.projection', 'blocks.1.attn.projection']);
  assert.deepEqual(lm.namedBuffers()[0]![1].shape, [6, 4]);
  const untied = new PerformerLM({ ...tiny, tiedEmbeddings: false, positions: 'rotary', attention: 'exact' });
  const un = untied.namedParameters().map((e) => e[0]);
  assert.ok(un.includes('head.weight') && !un.includes('pos.weight'));
  assert.equal(untied.namedBuffers().length, 0);
  const enc = new PerformerEncoder({ ...tiny, numClasses: 3 });
  const en = enc.namedParameters().map((e) => e[0]);
  for (const n of ['mlm.dense.weight', 'mlm.ln.weight', 'mlm.bias', 'cls.weight', 'cls.bias']) assert.ok(en.includes(n), n);
  assert.deepEqual(enc.namedParameters().find((e) => e[0] === 'cls.weight')![1].shape, [3, 8]);
});

test('initialisation is deterministic by seed and parameter name', () => {
  const a = new PerformerLM(tiny), b = new PerformerLM(tiny), c = new PerformerLM({ ...tiny, seed: 6 });
  const deeper = new PerformerLM({ ...tiny, layers: 3 });
  const get = (m: PerformerLM, n: string): Float32Array => m.namedParameters().find((e) => e[0] === n)![1].data as Float32Array;
  for (const [n] of a.namedParameters()) assert.deepEqual(get(a, n), get(b, n));
  assert.notDeepEqual(get(a, 'tok.weight'), get(c, 'tok.weight'));
  assert.deepEqual(get(a, 'tok.weight'), get(deeper, 'tok.weight'));
  assert.deepEqual(get(a, 'blocks.1.ff.fc1.weight'), get(deeper, 'blocks.1.ff.fc1.weight'));
  assert.deepEqual(Array.from(get(a, 'blocks.0.ln1.weight')), new Array(8).fill(1));
  assert.deepEqual(a.namedBuffers()[0]![1].data, b.namedBuffers()[0]![1].data);
  assert.notDeepEqual(a.namedBuffers()[0]![1].data, a.namedBuffers()[1]![1].data);
});

/** End-to-end float64 gradient check of a model loss w.r.t. a sample of every parameter's entries. */
function checkModelGrads(model: { namedParameters(): [string, Var, unknown][] }, loss: () => Var): void {
  const params = model.namedParameters().map((e) => e[1]);
  for (const p of params) assert.ok(p.data instanceof Float64Array);
  gradCheck(loss, params, { maxPerInput: 5, floor: 1e-4 });
  clearTape();
}

test('PerformerLM end-to-end gradients (float64): FAVOR+ causal with rotary and untied head; exact with learned positions', () => {
  const B = 2, L = 6;
  const x = ids(B * L, 11, 1), y = ids(B * L, 11, 2);
  y[3] = IGNORE_INDEX;
  for (const cfg of [
    { ...tiny, dtype: 'float64' as const, positions: 'rotary' as const, tiedEmbeddings: false, featureMap: 'softmax-hyp' as const, chunk: 4 },
    { ...tiny, dtype: 'float64' as const, attention: 'exact' as const },
    { ...tiny, dtype: 'float64' as const, featureMap: 'relu' as const, chunk: 5 },
    { ...tiny, dtype: 'float64' as const, positions: 'rotary' as const, tokenShift: true, chunk: 4 },
  ]) {
    const lm = new PerformerLM(cfg);
    checkModelGrads(lm, () => lm.loss(x, y, B, L));
  }
});

test('PerformerEncoder end-to-end gradients (float64): MLM and classification with padding', () => {
  const B = 2, L = 5;
  const enc = new PerformerEncoder({ ...tiny, dtype: 'float64', numClasses: 3, featureMap: 'trig' });
  const x = ids(B * L, 11, 3);
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
  const t = [IGNORE_INDEX, 4, IGNORE_INDEX, IGNORE_INDEX, 7, 2, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX];
  checkModelGrads(enc, () => enc.mlmLoss(x, t, B, L, mask));
  checkModelGrads(enc, () => enc.classificationLoss(x, [2, 0], B, L, mask));
  const shifted = new PerformerEncoder({ ...tiny, dtype: 'float64', numClasses: 3, tokenShift: true });
  checkModelGrads(shifted, () => shifted.mlmLoss(x, t, B, L, mask));
});

test('padding does not change an encoder prediction; causal LM outputs do not see the future', () => {
  for (const tokenShift of [false, true]) {
    const enc = new PerformerEncoder({ ...tiny, numClasses: 2, tokenShift }).eval();
    for (const [m, pads] of [[[1, 1, 1, 0, 0], [[1, 2, 3, 0, 0], [1, 2, 3, 9, 4]]], [[0, 0, 1, 1, 1], [[0, 0, 1, 2, 3], [9, 4, 1, 2, 3]]]] as const) {
      const a = noGrad(() => enc.classify(pads[0], 1, 5, m)).data;
      const b = noGrad(() => enc.classify(pads[1], 1, 5, m)).data;
      for (let i = 0; i < 2; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-5, `token shift ${tokenShift}, mask ${m}`);
    }
  }
  const lm = new PerformerLM(tiny).eval();
  const l1 = noGrad(() => lm.forward([1, 2, 3, 4, 5], 1, 5)).data;
  const l2 = noGrad(() => lm.forward([1, 2, 3, 7, 7], 1, 5)).data;
  for (let i = 0; i < 3 * 11; i++) assert.ok(Math.abs(l1[i]! - l2[i]!) < 1e-5);
});

test('feature redraws: every redrawInterval training steps, never in eval mode, deterministic', () => {
  const lm = new PerformerLM({ ...tiny, redrawInterval: 2 });
  const w0 = Float32Array.from(lm.blocks[0]!.attn.projection!.data);
  lm.maybeRedraw(1);
  assert.deepEqual(lm.blocks[0]!.attn.projection!.data, w0);
  lm.maybeRedraw(2);
  assert.notDeepEqual(lm.blocks[0]!.attn.projection!.data, w0);
  assert.equal(lm.blocks[0]!.attn.drawIndex, 1);
  const other = new PerformerLM({ ...tiny, redrawInterval: 2 });
  other.maybeRedraw(2);
  assert.deepEqual(other.blocks[0]!.attn.projection!.data, lm.blocks[0]!.attn.projection!.data);
  const w1 = Float32Array.from(lm.blocks[0]!.attn.projection!.data);
  lm.eval().maybeRedraw(4);
  assert.deepEqual(lm.blocks[0]!.attn.projection!.data, w1);
});

test('state dict round trip (parameters and buffers), strict names and shapes', () => {
  const a = new PerformerLM({ ...tiny, redrawInterval: 1 });
  a.maybeRedraw(3);
  const b = new PerformerLM({ ...tiny, seed: 99 });
  b.loadStateDict(a.stateDict());
  const x = [1, 2, 3, 4];
  assert.deepEqual(noGrad(() => b.eval().forward(x, 1, 4)).data, noGrad(() => a.eval().forward(x, 1, 4)).data);
  const bad = a.stateDict();
  bad.delete('ln_f.bias');
  assert.throws(() => b.loadStateDict(bad), /missing tensor 'ln_f.bias'/);
  assert.throws(() => new PerformerLM({ ...tiny, dim: 12, heads: 2 }).loadStateDict(a.stateDict()), /shape/);
});

test('dropout only in training mode, reproducible from the model seed', () => {
  const cfg = { ...tiny, dropout: 0.2 };
  const x = [1, 2, 3, 4, 5, 6];
  const a = new PerformerLM(cfg), b = new PerformerLM(cfg);
  const la = noGrad(() => a.forward(x, 1, 6)).data, lb = noGrad(() => b.forward(x, 1, 6)).data;
  assert.deepEqual(la, lb);
  const e1 = noGrad(() => a.eval().forward(x, 1, 6)).data, e2 = noGrad(() => a.forward(x, 1, 6)).data;
  assert.deepEqual(e1, e2);
  assert.notDeepEqual(la, e1);
});
