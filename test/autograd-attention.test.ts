import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, exactAttentionOp, favorAttentionOp, noGrad, Var } from '../src/autograd/index.js';
import { tsExactForward } from '../src/kernels/reference/grad/exact.js';
import { tsFavorForward } from '../src/kernels/reference/grad/favor.js';
import { FEATURE_MAPS } from '../src/kernels/backend.js';
import { drawProjection } from '../src/favor/projection.js';
import { referenceBackend } from '../src/kernels/reference/index.js';
import { featureCount } from '../src/kernels/backend.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck, randVar } from './autograd-helpers.js';
import { exactReference64, favorReference64, relativeError } from './helpers/float64-reference.js';

const B = 2, H = 2, L = 7, d = 4, Dv = 3, m = 5;
const W32 = drawProjection({ features: m, dim: d, seed: 3 }).data;
const W64 = Float64Array.from(W32);
// batch 0: keys 1 and 5 padded; batch 1: the first three keys padded (so early causal rows see nothing)
const MASK = [1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1];

test('FAVOR+ gradients vs float64 finite differences: every featureMap, causal and bidirectional, masks, chunks not dividing L', () => {
  const rng = new Rng(11);
  for (const featureMap of FEATURE_MAPS) {
    for (const causal of [false, true]) {
      for (const keyMask of [undefined, MASK]) {
        for (const chunk of causal ? [1, 3, 4, 64] : [64]) {
          const std = featureMap === 'trig' ? 0.5 : 1;
          const q = randVar([B, H, L, d], rng, std), k = randVar([B, H, L, d], rng, std), v = randVar([B, H, L, Dv], rng);
          const what = `${featureMap} causal=${causal} mask=${!!keyMask} chunk=${chunk}`;
          try {
            gradCheck(() => favorAttentionOp(q, k, v, { projection: W64, featureMap, causal, keyMask, chunk }), [q, k, v]);
          } catch (e) {
            throw new Error(`${what}: ${(e as Error).message}`);
          }
        }
      }
    }
  }
});

test('FAVOR+ gradients with Lq ≠ Lk (bidirectional) and large-norm inputs (stabiliser spread)', () => {
  const rng = new Rng(12);
  for (const featureMap of FEATURE_MAPS) {
    const q = randVar([1, 2, 5, d], rng), k = randVar([1, 2, 8, d], rng), v = randVar([1, 2, 8, Dv], rng);
    gradCheck(() => favorAttentionOp(q, k, v, { projection: W64, featureMap }), [q, k, v]);
  }
  // norms ~ 6: exp(s) spans many orders of magnitude across keys; the running max must keep it exact
  for (const featureMap of ['softmax', 'softmax-hyp'] as const) {
    const q = randVar([1, 1, 9, d], rng, 3), k = randVar([1, 1, 9, d], rng, 3), v = randVar([1, 1, 9, Dv], rng);
    gradCheck(() => favorAttentionOp(q, k, v, { projection: W64, featureMap, causal: true, chunk: 2 }), [q, k, v], { floor: 1e-4 });
    gradCheck(() => favorAttentionOp(q, k, v, { projection: W64, featureMap, causal: false }), [q, k, v], { floor: 1e-4 });
  }
});

test('FAVOR+ causal: rows with no visible key give 0 and no gradient; no gradient reaches padded keys', () => {
  const rng = new Rng(13);
  const q = randVar([B, H, L, d], rng), k = randVar([B, H, L, d], rng), v = randVar([B, H, L, Dv], rng);
  const out = favorAttentionOp(q, k, v, { projection: W64, causal: true, keyMask: MASK, chunk: 2 });
  const g = new Float64Array(out.size).fill(1);
  for (let i = 0; i < out.size; i++) assert.ok(Number.isFinite(out.data[i]!));
  // batch 1 rows 0..2 see only padded keys
  for (let h = 0; h < H; h++) for (let i = 0; i < 3; i++) for (let e = 0; e < Dv; e++) assert.equal(out.data[((1 * H + h) * L + i) * Dv + e], 0);
  backward(out, g);
  for (let h = 0; h < H; h++) for (let j = 0; j < L; j++) {
    if (MASK[L + j] !== 0) continue;
    for (let c = 0; c < d; c++) assert.equal(k.grad![((1 * H + h) * L + j) * d + c], 0);
    for (let c = 0; c < Dv; c++) assert.equal(v.grad![((1 * H + h) * L + j) * Dv + c], 0);
  }
  for (let h = 0; h < H; h++) for (let i = 0; i < 3; i++) for (let c = 0; c < d; c++) assert.equal(q.grad![((1 * H + h) * L + i) * d + c], 0);
});

test('the TS attention forwards (float64 and float32) and the reference backend match the independent float64 reference', () => {
  const rng = new Rng(14);
  const mask = Float32Array.from(MASK);
  for (const causal of [false, true]) {
    const q = new Float32Array(B * H * L * d), k = new Float32Array(B * H * L * d), v = new Float32Array(B * H * L * Dv);
    rng.fillNormal(q); rng.fillNormal(k); rng.fillNormal(v);
    const dims = { B, H, Lq: L, Lk: L, d, Dv, causal };
    const q64 = Float64Array.from(q), k64 = Float64Array.from(k), v64 = Float64Array.from(v);
    for (const featureMap of FEATURE_MAPS) {
      const what = `${featureMap} causal=${causal}`;
      // the textbook formula in float64, with the float32 W and inputs every path below sees
      const want = favorReference64({ q, k, v, keyMask: mask, ...dims, w: W32, m, featureMap });
      const args = { q, k, v, projection: W32, keyMask: mask, ...dims, m, featureMap, chunk: 3 };
      const ts64 = new Float64Array(want.length), ts32 = new Float32Array(want.length), ref32 = new Float32Array(want.length);
      tsFavorForward({ ...args, q: q64, k: k64, v: v64, projection: Float64Array.from(W32), keyMask: Float64Array.from(mask), out: ts64 });
      tsFavorForward({ ...args, out: ts32 });
      referenceBackend.favor({ ...args, out: ref32 });
      assert.ok(relativeError(ts64, want) < 1e-12, `${what}: float64 TS forward, relative error ${relativeError(ts64, want)}`);
      for (const [name, got] of [['float32 TS forward', ts32], ['reference backend', ref32]] as const) {
        for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4 * (1 + Math.abs(want[i]!)), `${what}: ${name} @${i}: ${got[i]} vs ${want[i]}`);
      }
    }
    const want = exactReference64({ q, k, v, keyMask: mask, ...dims });
    const ts64 = new Float64Array(want.length), ts32 = new Float32Array(want.length);
    tsExactForward({ q: q64, k: k64, v: v64, keyMask: Float64Array.from(mask), ...dims, out: ts64 });
    tsExactForward({ q, k, v, keyMask: mask, ...dims, out: ts32 });
    assert.ok(relativeError(ts64, want) < 1e-12, `exact causal=${causal}: float64 TS forward, relative error ${relativeError(ts64, want)}`);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(ts32[i]! - want[i]!) < 1e-5 * (1 + Math.abs(want[i]!)), `exact causal=${causal} @${i}`);
  }
  assert.equal(featureCount('trig', m), 2 * m);
});

test('exact attention gradients: bidirectional, causal, key mask', () => {
  const rng = new Rng(15);
  for (const causal of [false, true]) for (const keyMask of [undefined, MASK]) {
    const q = randVar([B, H, L, d], rng), k = randVar([B, H, L, d], rng), v = randVar([B, H, L, Dv], rng);
    gradCheck(() => exactAttentionOp(q, k, v, { causal, keyMask }), [q, k, v]);
  }
  const q = randVar([1, 1, 3, d], rng), k = randVar([1, 1, 6, d], rng), v = randVar([1, 1, 6, Dv], rng);
  gradCheck(() => exactAttentionOp(q, k, v), [q, k, v]);
});

test('float32 attention ops run through the current backend and match float64', () => {
  const rng = new Rng(16);
  const q = randVar([1, 2, 6, d], rng, 1, false), k = randVar([1, 2, 6, d], rng, 1, false), v = randVar([1, 2, 6, Dv], rng, 1, false);
  const f32 = (x: Var): Var => new Var(x.shape, Float32Array.from(x.data), true);
  for (const featureMap of FEATURE_MAPS) {
    const a = noGrad(() => favorAttentionOp(f32(q), f32(k), f32(v), { projection: W32, featureMap, causal: true, chunk: 4 }));
    const b = noGrad(() => favorAttentionOp(q, k, v, { projection: W64, featureMap, causal: true, chunk: 4 }));
    assert.ok(a.data instanceof Float32Array);
    for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.data[i]! - b.data[i]!) < 1e-4);
  }
  const e32 = noGrad(() => exactAttentionOp(f32(q), f32(k), f32(v), { causal: true }));
  const e64 = noGrad(() => exactAttentionOp(q, k, v, { causal: true }));
  for (let i = 0; i < e32.size; i++) assert.ok(Math.abs(e32.data[i]! - e64.data[i]!) < 1e-5);
});

test('float32 causal FAVOR+ backward on a long sequence with large norms: finite and equal to float64', () => {
  // ‖x̂‖ ≈ 4: exp(s) spans many orders of magnitude across keys; every exponent in the streaming backward is ≤ 0.
  const rng = new Rng(17);
  const Lg = 150, dd = 8, mm = 12;
  const W = drawProjection({ features: mm, dim: dd, seed: 4 }).data;
  const mk = (shape: number[], std: number): [Var, Var] => {
    const x = randVar(shape, rng, std);
    return [x, new Var(shape, Float32Array.from(x.data), true)];
  };
  for (const featureMap of ['softmax', 'softmax-hyp'] as const) {
    const [q64, q32] = mk([1, 1, Lg, dd], 2.5), [k64, k32] = mk([1, 1, Lg, dd], 2.5), [v64, v32] = mk([1, 1, Lg, 3], 1);
    const gSeed = new Float64Array(Lg * 3);
    rng.fillNormal(gSeed);
    const o64 = favorAttentionOp(q64, k64, v64, { projection: Float64Array.from(W), featureMap, causal: true, chunk: 16 });
    backward(o64, gSeed);
    const o32 = favorAttentionOp(q32, k32, v32, { projection: W, featureMap, causal: true, chunk: 16 });
    backward(o32, gSeed);
    for (const [a, b] of [[q32, q64], [k32, k64], [v32, v64]] as const) {
      let scale = 0;
      for (let i = 0; i < b.size; i++) scale = Math.max(scale, Math.abs(b.grad![i]!));
      for (let i = 0; i < a.size; i++) {
        assert.ok(Number.isFinite(a.grad![i]!), `${featureMap}: non-finite gradient`);
        assert.ok(Math.abs(a.grad![i]! - b.grad![i]!) < 2e-3 * scale, `${featureMap} @${i}: ${a.grad![i]} vs ${b.grad![i]}`);
      }
    }
  }
});

test('the differentiable ops check shapes with the rules of the Tensor API (kernels/attention-shape.ts)', () => {
  const rng = new Rng(18);
  const q = randVar([B, H, L, d], rng), k = randVar([B, H, L, d], rng), v = randVar([B, H, L, Dv], rng);
  const favor = (o: { q?: Var; k?: Var; v?: Var; causal?: boolean; keyMask?: number[] }) =>
    () => favorAttentionOp(o.q ?? q, o.k ?? k, o.v ?? v, { projection: W64, causal: o.causal, keyMask: o.keyMask });
  const exact = (o: { q?: Var; k?: Var; v?: Var; causal?: boolean; keyMask?: number[] }) =>
    () => exactAttentionOp(o.q ?? q, o.k ?? k, o.v ?? v, { causal: o.causal, keyMask: o.keyMask });
  for (const op of [favor, exact]) {
    assert.throws(op({ q: randVar([H, L, d], rng) }), /\bq must have shape \[B, H, Lq, d\], got \[2, 7, 4\]/);
    assert.throws(op({ k: randVar([B, H, L, d + 1], rng) }), /\bk \[2, 2, 7, 5\] does not match q \[2, 2, 7, 4\]/);
    assert.throws(op({ v: randVar([B, H, L + 1, Dv], rng) }), /\bv \[2, 2, 8, 3\] does not match k/);
    assert.throws(op({ q: randVar([B, H, 5, d], rng), causal: true }), /causal attention needs Lq = Lk, got Lq=5, Lk=7/);
    assert.throws(op({ keyMask: [1, 1, 0] }), /key mask \[B, Lk\] has 3 elements, expected 14/);
    assert.throws(op({ v: randVar([B, H, L, 0], rng) }), /head dimensions must be positive, got d=4, Dv=0/);
  }
});
