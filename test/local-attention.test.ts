// Local attention heads (docs/MATH.md, "Local attention heads"): the reference kernel and the
// differentiable op against an independent dense float64 evaluation of local-attention 1.4.4's
// algorithm (rotate-half rotary, zero padding to a multiple of w, blocks, look-around), finite-
// difference gradients, and causality.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { concatHeads, sliceHeads } from '../src/autograd/heads.js';
import { localAttentionOp } from '../src/autograd/local-attention.js';
import { backward, clearTape, noGrad, Var } from '../src/autograd/index.js';
import type { Engine } from '../src/kernels/engine.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import { disposeEngines, ENGINES } from './engines/list.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck, randVar } from './autograd-helpers.js';
import { relativeError } from './helpers/float64-reference.js';

after(disposeEngines);

/**
 * local-attention's forward written out densely over the padded length T = ⌈L/w⌉·w: key j is a
 * candidate for query i when its block is within one before (and, bidirectional, one after) i's
 * block; causal drops j > i; a key mask drops keys (and the pads, as its False padding does).
 */
function denseLocal64(q: Float64Array, k: Float64Array, v: Float64Array, B: number, H: number, L: number, d: number, w: number, causal: boolean, mask?: number[], paddedRows = false): Float64Array {
  const T = Math.ceil(L / w) * w, h2 = d / 2;
  const out = new Float64Array(B * H * L * d);
  const rot = (x: Float64Array, off: number, t: number): number[] => {
    const r = new Array<number>(d).fill(0);
    if (t >= L) return r; // the zero pads
    for (let c = 0; c < h2; c++) {
      const f32 = Math.fround, f = f32(1 / f32(10000 ** f32(f32(2 * c) / d))); // torch's float32 inv_freq
      const cs = Math.cos(t * f), sn = Math.sin(t * f);
      r[c] = x[off + c]! * cs - x[off + h2 + c]! * sn;
      r[h2 + c] = x[off + h2 + c]! * cs + x[off + c]! * sn;
    }
    return r;
  };
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const base = (b * H + h) * L * d;
    const qs = Array.from({ length: T }, (_, t) => rot(q, base + t * d, t));
    const ks = Array.from({ length: T }, (_, t) => rot(k, base + t * d, t));
    for (let i = 0; i < L; i++) {
      const bi = Math.floor(i / w);
      if (paddedRows && mask && mask[b * L + i] === 0) {
        // local-attention: every slot of the look-around masked alike → uniform; look_around pads v with −1
        const slots: number[] = [];
        for (let blk = bi - 1; blk <= bi + (causal ? 0 : 1); blk++) for (let t = 0; t < w; t++) slots.push(blk * w + t);
        for (let c = 0; c < d; c++) {
          const vals = slots.map((j) => (j < 0 || j >= T ? -1 : j >= L ? 0 : v[base + j * d + c]!));
          out[base + i * d + c] = vals.reduce((x, y) => x + y, 0) / slots.length;
        }
        continue;
      }
      const sc: number[] = [], js: number[] = [];
      for (let j = 0; j < T; j++) {
        const bj = Math.floor(j / w);
        if (bj < bi - 1 || bj > bi + (causal ? 0 : 1)) continue;
        if (causal && j > i) continue;
        if (mask && (j >= L || mask[b * L + j] === 0)) continue;
        let s = 0;
        for (let c = 0; c < d; c++) s += qs[i]![c]! * ks[j]![c]!;
        sc.push(s / Math.sqrt(d)); js.push(j);
      }
      if (sc.length === 0) continue;
      const mx = Math.max(...sc);
      const e = sc.map((s) => Math.exp(s - mx));
      const den = e.reduce((x, y) => x + y, 0);
      for (let c = 0; c < d; c++) {
        let acc = 0;
        js.forEach((j, n) => { if (j < L) acc += e[n]! * v[base + j * d + c]!; });
        out[base + i * d + c] = acc / den;
      }
    }
  }
  return out;
}

const modes: { causal: boolean; mask: boolean }[] = [
  { causal: false, mask: false }, { causal: true, mask: false }, { causal: false, mask: true }, { causal: true, mask: true },
];

for (const { causal, mask } of modes) {
  const name = `${causal ? 'causal' : 'bidirectional'}${mask ? ', key mask' : ''}`;

  test(`local attention (${name}) equals the dense float64 local-attention algorithm, L not a multiple of w`, () => {
    const rng = new Rng(7);
    const B = 2, H = 2, L = 11, d = 6, w = 3; // 4 blocks, the last one padded by 1
    const [q, k, v] = [0, 1, 2].map(() => randVar([B, H, L, d], rng, 1, false)) as [Var, Var, Var];
    const keyMask = mask ? Array.from({ length: B * L }, (_, i) => (i % 5 === 2 ? 0 : 1)) : undefined;
    const got = localAttentionOp(q, k, v, { window: w, causal, keyMask }).data;
    const want = denseLocal64(q.data as Float64Array, k.data as Float64Array, v.data as Float64Array, B, H, L, d, w, causal, keyMask);
    assert.ok(relativeError(got, want) < 1e-13, `relative error ${relativeError(got, want)}`);
    const got32 = localAttentionOp(...[q, k, v].map((x) => new Var(x.shape, Float32Array.from(x.data))) as [Var, Var, Var], { window: w, causal, keyMask }).data;
    assert.ok(got32 instanceof Float32Array);
    assert.ok(relativeError(got32, want) < 1e-5, `float32 relative error ${relativeError(got32, want)}`);
  });

  test(`local attention (${name}): gradients match finite differences`, () => {
    const rng = new Rng(11);
    const B = 1, H = 2, L = 7, d = 4, w = 2;
    const [q, k, v] = [0, 1, 2].map(() => randVar([B, H, L, d], rng)) as [Var, Var, Var];
    const keyMask = mask ? [1, 1, 0, 1, 1, 1, 0] : undefined;
    const err = gradCheck(() => localAttentionOp(q, k, v, { window: w, causal, keyMask, offset: 3 }), [q, k, v]);
    assert.ok(err < 1e-5, `gradient error ${err}`);
  });
}

test('local attention, performer-pytorch numerics (paddedRows): key-masked query rows as local-attention computes them; gradients', () => {
  const rng = new Rng(17);
  const B = 1, H = 2, L = 7, d = 4, w = 3;
  const [q, k, v] = [0, 1, 2].map(() => randVar([B, H, L, d], rng)) as [Var, Var, Var];
  const keyMask = [1, 0, 1, 1, 1, 1, 0];
  for (const causal of [false, true]) {
    const got = localAttentionOp(q, k, v, { window: w, causal, keyMask, paddedRows: true }).data;
    const want = denseLocal64(q.data as Float64Array, k.data as Float64Array, v.data as Float64Array, B, H, L, d, w, causal, keyMask, true);
    assert.ok(relativeError(got, want) < 1e-13, `causal=${causal}: relative error ${relativeError(got, want)}`);
    const err = gradCheck(() => localAttentionOp(q, k, v, { window: w, causal, keyMask, paddedRows: true }), [q, k, v]);
    assert.ok(err < 1e-5, `gradient error ${err}`);
  }
});

test('causal local attention: outputs do not change when the future changes; bidirectional ones do', () => {
  const rng = new Rng(3);
  const B = 1, H = 1, L = 12, d = 4, w = 4;
  const [q, k, v] = [0, 1, 2].map(() => randVar([B, H, L, d], rng, 1, false)) as [Var, Var, Var];
  const t = 5;
  const run = (causal: boolean): Float64Array => noGrad(() => Float64Array.from(localAttentionOp(q, k, v, { window: w, causal }).data));
  const [c0, b0] = [run(true), run(false)];
  for (const x of [q, k, v]) for (let i = (t + 1) * d; i < L * d; i++) x.data[i] = x.data[i]! + 1;
  const [c1, b1] = [run(true), run(false)];
  for (let i = 0; i <= t; i++) for (let c = 0; c < d; c++) assert.equal(c1[i * d + c], c0[i * d + c], `causal row ${i} changed`);
  assert.notDeepEqual(b1.subarray(0, (t + 1) * d), b0.subarray(0, (t + 1) * d));
});

test('local attention: a query never sees keys two blocks away', () => {
  const B = 1, H = 1, L = 9, d = 2, w = 3;
  const q = new Var([B, H, L, d], new Float64Array(L * d));
  const k = new Var([B, H, L, d], new Float64Array(L * d));
  const v = new Var([B, H, L, d], new Float64Array(L * d));
  v.data[8 * d] = 1; // only the last key carries a value
  for (const causal of [false, true]) {
    const o = localAttentionOp(q, k, v, { window: w, causal }).data;
    for (let i = 0; i < 3; i++) assert.equal(o[i * d], 0, `row ${i} (block 0) saw block 2`);
    if (!causal) assert.ok(o[3 * d]! > 0, 'row 3 (block 1) sees block 2 when bidirectional');
  }
});

test('local attention: bad arguments are refused with the reason', () => {
  const x = new Var([1, 1, 4, 3], new Float64Array(12));
  assert.throws(() => localAttentionOp(x, x, x, { window: 2 }), /even head dim/);
  const y = new Var([1, 1, 4, 2], new Float64Array(8));
  assert.throws(() => localAttentionOp(y, y, y, { window: 0 }), /local window must be a positive integer/);
  assert.throws(() => localAttentionOp(y, y, y, { window: 2, keyMask: [1, 1] }), /key mask/);
});

test('sliceHeads and concatHeads: values and finite-difference gradients', () => {
  const rng = new Rng(5);
  const x = randVar([2, 4, 3, 2], rng), y = randVar([2, 1, 3, 2], rng);
  const s = sliceHeads(x, 1, 3);
  assert.deepEqual(s.shape, [2, 2, 3, 2]);
  assert.equal(s.data[0], x.data[6]); // batch 0, head 1, row 0
  assert.equal(s.data[12], x.data[24 + 6]); // batch 1, head 1, row 0
  const c = concatHeads(s, y);
  assert.equal(c.data[12], y.data[0]);
  assert.equal(c.data[18 + 12], y.data[6]);
  const err = gradCheck(() => concatHeads(sliceHeads(x, 1, 3), y), [x, y]);
  assert.ok(err < 1e-8, `gradient error ${err}`);
  assert.throws(() => sliceHeads(x, 2, 5), /heads \[2, 5\) out of 0..4/);
  assert.throws(() => concatHeads(x, randVar([2, 1, 4, 2], rng)), /differ outside the head axis/);
});

test('local attention and the head ops on every engine: forward and backward equal the float64 reference', async () => {
  const rng = new Rng(23);
  const B = 2, H = 3, L = 11, d = 4, w = 3;
  const [q, k, v] = [0, 1, 2].map(() => randVar([B, H, L, d], rng, 1, false)) as [Var, Var, Var];
  const keyMask = Array.from({ length: B * L }, (_, i) => (i % 4 === 1 ? 0 : 1));
  const seed = Float64Array.from({ length: B * H * L * d }, (_, i) => Math.sin(i));
  for (const causal of [false, true]) {
    // a layer's pattern: heads [0, 1) pass through, heads [1, 3) run locally, then side by side again
    const run = async (e: Engine, f64: boolean): Promise<Float64Array[]> => {
      const vars = await Promise.all([q, k, v].map((x) => new Var(x.shape, f64 ? Float64Array.from(x.data) : Float32Array.from(x.data), true).to(e)));
      for (const x of vars) x.requiresGrad = true;
      const [eq, ek, ev] = vars as [Var, Var, Var];
      clearTape();
      const local = localAttentionOp(sliceHeads(eq, 1, 3), sliceHeads(ek, 1, 3), sliceHeads(ev, 1, 3), { window: w, causal, keyMask });
      const out = concatHeads(sliceHeads(ev, 0, 1), local);
      backward(out, seed);
      return Promise.all([out.read(), ...vars.map(async (x) => (await x.readGrad())!)].map(async (p) => Float64Array.from(await p)));
    };
    const want = await run(referenceEngine, true);
    for (const e of ENGINES) {
      const got = await run(e, false);
      ['out', 'dq', 'dk', 'dv'].forEach((name, i) => {
        const err = relativeError(got[i]!, want[i]!);
        assert.ok(err < 1e-5, `${e.name} causal=${causal} ${name}: relative error ${err}`);
      });
    }
  }
});
