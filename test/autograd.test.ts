import { test } from 'node:test';
import { IGNORE_INDEX } from '../src/data/ignore-index.js';
import assert from 'node:assert/strict';
import {
  add, backward, clearTape, crossEntropy, dropout, embedding, gelu, layerNorm, matmul, meanPool, mergeHeads, mul,
  noGrad, reshape, rope, scale, splitHeads, sum, tapeLength, transpose, Var,
} from '../src/autograd/index.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck, randVar } from './autograd-helpers.js';

const rng = new Rng(7);

test('matmul: all transposes, batched, shared right operand', () => {
  for (const tA of [false, true]) for (const tB of [false, true]) {
    // batched [2, 3, M, K] x [2, 3, K, N]
    const a = randVar(tA ? [2, 3, 4, 5] : [2, 3, 5, 4], rng);
    const b = randVar(tB ? [2, 3, 6, 4] : [2, 3, 4, 6], rng);
    gradCheck(() => matmul(a, b, { transA: tA, transB: tB }), [a, b]);
    // shared 2-D right operand (a Linear weight)
    const a2 = randVar(tA ? [3, 4, 5] : [3, 5, 4], rng);
    const w = randVar(tB ? [6, 4] : [4, 6], rng);
    gradCheck(() => matmul(a2, w, { transA: tA, transB: tB }), [a2, w]);
  }
});

test('matmul forward matches a naive product', () => {
  const a = randVar([2, 3, 4], rng), b = randVar([2, 5, 4], rng);
  const c = noGrad(() => matmul(a, b, { transB: true }));
  assert.deepEqual(c.shape, [2, 3, 5]);
  for (let t = 0; t < 2; t++) for (let i = 0; i < 3; i++) for (let j = 0; j < 5; j++) {
    let s = 0;
    for (let k = 0; k < 4; k++) s += a.data[t * 12 + i * 4 + k]! * b.data[t * 20 + j * 4 + k]!;
    assert.ok(Math.abs(c.data[t * 15 + i * 5 + j]! - s) < 1e-12);
  }
});

test('add / mul with suffix broadcast, scale, sum', () => {
  const a = randVar([2, 3, 4], rng), b = randVar([4], rng), c = randVar([3, 4], rng), e = randVar([2, 3, 4], rng);
  gradCheck(() => add(a, b), [a, b]);
  gradCheck(() => add(a, c), [a, c]);
  gradCheck(() => add(a, e), [a, e]);
  gradCheck(() => mul(a, b), [a, b]);
  gradCheck(() => mul(a, e), [a, e]);
  gradCheck(() => scale(a, -1.7), [a]);
  gradCheck(() => sum(mul(a, a)), [a]);
  assert.throws(() => add(a, randVar([3], rng)), /does not broadcast/);
});

test('reshape, transpose, split/merge heads', () => {
  const a = randVar([2, 5, 6], rng);
  gradCheck(() => reshape(a, [10, 6]), [a]);
  gradCheck(() => transpose(a, 0, 2), [a]);
  gradCheck(() => transpose(a, 1, -1), [a]);
  gradCheck(() => splitHeads(a, 3), [a]);
  const x = noGrad(() => splitHeads(a, 3));
  assert.deepEqual(x.shape, [2, 3, 5, 2]);
  // [b, h, l, c] = a[b, l, h·2 + c]
  assert.equal(x.data[((1 * 3 + 2) * 5 + 4) * 2 + 1], a.data[(1 * 5 + 4) * 6 + 2 * 2 + 1]);
  const back = noGrad(() => mergeHeads(x));
  assert.deepEqual(Array.from(back.data), Array.from(a.data));
  const y = randVar([2, 3, 5, 2], rng);
  gradCheck(() => mergeHeads(y), [y]);
});

test('gelu (tanh approximation)', () => {
  const a = randVar([3, 7], rng, 2);
  gradCheck(() => gelu(a), [a]);
  const y = noGrad(() => gelu(Var.from([3], [0, 1, -1], { f64: true })));
  assert.equal(y.data[0], 0);
  assert.ok(Math.abs(y.data[1]! - 0.8411919906082768) < 1e-12);
});

test('layerNorm with affine', () => {
  const x = randVar([2, 3, 8], rng, 3), g = randVar([8], rng), b = randVar([8], rng);
  gradCheck(() => layerNorm(x, g, b), [x, g, b]);
  const y = noGrad(() => layerNorm(x, Var.from([8], new Array(8).fill(1), { f64: true }), Var.from([8], new Array(8).fill(0), { f64: true })));
  let m = 0, v = 0;
  for (let c = 0; c < 8; c++) m += y.data[c]!;
  for (let c = 0; c < 8; c++) v += (y.data[c]! - m / 8) ** 2;
  assert.ok(Math.abs(m / 8) < 1e-12 && Math.abs(v / 8 - 1) < 1e-3);
});

test('embedding gather, backward = scatter-add (repeated ids)', () => {
  const table = randVar([5, 3], rng);
  const ids = [1, 4, 1, 0, 1, 3];
  gradCheck(() => embedding(table, ids, [2, 3]), [table]);
  assert.throws(() => embedding(table, [5], [1]), /out of range/);
});

test('dropout: seeded, deterministic, inverted scaling, gradient through the mask', () => {
  const a = randVar([4, 50], rng);
  gradCheck(() => dropout(a, 0.3, new Rng(99)), [a]);
  const y1 = noGrad(() => dropout(a, 0.3, new Rng(99)));
  const y2 = noGrad(() => dropout(a, 0.3, new Rng(99)));
  assert.deepEqual(Array.from(y1.data), Array.from(y2.data));
  let zeros = 0;
  for (let i = 0; i < a.size; i++) {
    if (y1.data[i] === 0) zeros++;
    else assert.ok(Math.abs(y1.data[i]! - a.data[i]! / 0.7) < 1e-12);
  }
  assert.ok(zeros > 30 && zeros < 90, `dropped ${zeros}/200`);
  assert.equal(dropout(a, 0, new Rng(1)), a);
});

test('crossEntropy with ignore index (mean over counted rows)', () => {
  const z = randVar([2, 3, 5], rng, 2);
  const t = [0, 4, IGNORE_INDEX, 2, IGNORE_INDEX, 1];
  gradCheck(() => crossEntropy(z, t), [z]);
  const loss = noGrad(() => crossEntropy(z, t)).item();
  let ref = 0;
  for (const r of [0, 1, 3, 5]) {
    let s = 0;
    for (let c = 0; c < 5; c++) s += Math.exp(z.data[r * 5 + c]!);
    ref += Math.log(s) - z.data[r * 5 + t[r]!]!;
  }
  assert.ok(Math.abs(loss - ref / 4) < 1e-12);
  assert.equal(noGrad(() => crossEntropy(z, [-1, -1, -1, -1, -1, -1], -1)).item(), 0);
});

test('meanPool with a mask', () => {
  const x = randVar([2, 4, 3], rng);
  gradCheck(() => meanPool(x, [1, 1, 0, 1, 0, 0, 0, 0]), [x]);
  gradCheck(() => meanPool(x), [x]);
});

test('rotary position embedding', () => {
  const x = randVar([2, 2, 5, 6], rng);
  gradCheck(() => rope(x), [x]);
  gradCheck(() => rope(x, { offset: 7, base: 100 }), [x]);
  // relative: rope(q)·rope(k) depends only on the position difference
  const q = randVar([1, 1, 1, 6], rng, 1, false), k = randVar([1, 1, 1, 6], rng, 1, false);
  const dotAt = (tq: number, tk: number): number => {
    const a = rope(q, { offset: tq }).data, b = rope(k, { offset: tk }).data;
    let s = 0;
    for (let i = 0; i < 6; i++) s += a[i]! * b[i]!;
    return s;
  };
  assert.ok(Math.abs(dotAt(3, 1) - dotAt(10, 8)) < 1e-12);
});

test('tape: noGrad records nothing, backward empties the tape, grads accumulate', () => {
  clearTape();
  const a = randVar([3], rng);
  noGrad(() => scale(a, 2));
  assert.equal(tapeLength(), 0);
  const l1 = sum(scale(a, 2));
  assert.equal(tapeLength(), 2);
  backward(l1);
  assert.equal(tapeLength(), 0);
  backward(sum(scale(a, 3)));
  assert.deepEqual(Array.from(a.grad!), [5, 5, 5]);
  const c = Var.from([3], [1, 2, 3]); // no requiresGrad: nothing recorded
  sum(scale(c, 2));
  assert.equal(tapeLength(), 0);
});

test('float32 stays float32', () => {
  const a = new Var([2, 3], new Float32Array(6).fill(1), true);
  const y = gelu(matmul(a, new Var([3, 2], new Float32Array(6).fill(0.5))));
  assert.ok(y.data instanceof Float32Array);
  clearTape();
});
