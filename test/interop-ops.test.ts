// The ops performer-pytorch models need: erf GELU and GEGLU, ScaleNorm, the ReZero gate, segment
// token shift (float64 finite-difference gradients), performer-pytorch's attention numerics against
// an independent float64 O(L²) evaluation of its formulas, and end-to-end model gradients with
// every new option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearTape, noGrad, Var } from '../src/autograd/index.js';
import { erf, geglu, geluErf } from '../src/autograd/gelu-erf.js';
import { gate, scaleNorm } from '../src/autograd/scale-norm.js';
import { shiftSegments } from '../src/autograd/shift-segments.js';
import { performerPytorchAttention } from '../src/autograd/favor-pytorch.js';
import { PerformerLM, type PerformerConfig } from '../src/nn/index.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck, randVar } from './autograd-helpers.js';

test('erf matches reference values to ~1e-15', () => {
  // erf(x) to 17 digits (Abramowitz & Stegun Table 7.1 extended; mpmath).
  const ref: [number, number][] = [
    [0, 0], [0.1, 0.1124629160182849], [0.5, 0.5204998778130465], [1, 0.8427007929497149], [1.5, 0.9661051464753108],
    [2, 0.9953222650189527], [2.4, 0.9993114861033550], [2.6, 0.9997639655834707], [3, 0.9999779095030014], [4, 0.9999999845827421],
  ];
  for (const [x, want] of ref) {
    assert.ok(Math.abs(erf(x) - want) < 2e-15, `erf(${x}) = ${erf(x)}, want ${want}`);
    assert.ok(Math.abs(erf(-x) + want) < 2e-15, `erf(${-x})`);
  }
});

test('erf GELU and GEGLU (erf and tanh): gradients match float64 finite differences', () => {
  const x = randVar([3, 5], new Rng(1), 2);
  assert.ok(gradCheck(() => geluErf(x), [x]) < 1e-6);
  for (const kind of ['erf', 'tanh'] as const) {
    const h = randVar([2, 3, 8], new Rng(2), 1.5);
    assert.ok(gradCheck(() => geglu(h, kind), [h]) < 1e-6, kind);
  }
  // GEGLU's forward is act(first half)·second half.
  const h = new Var([1, 4], Float64Array.of(1, -2, 3, 0.5));
  const y = geglu(h, 'erf');
  assert.ok(Math.abs(y.data[0]! - 0.8413447460685429 * 3) < 1e-14);
  assert.ok(Math.abs(y.data[1]! - -0.04550026389635842 * 0.5) < 1e-14);
  assert.throws(() => geglu(new Var([2, 3]), 'erf'), /even last dim/);
});

test('ScaleNorm and the ReZero gate: forward and gradients (float64)', () => {
  const x = randVar([2, 3, 6], new Rng(3)), g = randVar([1], new Rng(4));
  assert.ok(gradCheck(() => scaleNorm(x, g), [x, g]) < 1e-6);
  assert.ok(gradCheck(() => gate(x, g), [x, g]) < 1e-6);
  const y = noGrad(() => scaleNorm(x, g));
  let s = 0;
  for (let c = 0; c < 6; c++) s += x.data[c]! ** 2;
  assert.ok(Math.abs(y.data[0]! - (g.data[0]! * x.data[0]!) / Math.sqrt(s)) < 1e-14);
  // Below eps the norm is clamped: y = g·x/eps, a linear map.
  const small = randVar([1, 4], new Rng(5), 1e-7), g2 = randVar([1], new Rng(6));
  assert.ok(gradCheck(() => scaleNorm(small, g2, 1e-5), [small, g2], { h: 1e-9 }) < 1e-5);
  assert.throws(() => scaleNorm(x, randVar([2], new Rng(7))), /one value/);
});

test('segment token shift: forward as performer-pytorch defines it, gradients, key mask', () => {
  const B = 2, L = 5;
  for (const [D, shifts] of [[8, [0, 1]], [7, [0, 1]], [10, [-1, 0, 1]], [5, [1]]] as const) {
    const x = randVar([B, L, D], new Rng(D));
    const mask = [1, 1, 0, 1, 1, 1, 1, 1, 0, 0];
    for (const m of [undefined, mask]) {
      const y = noGrad(() => shiftSegments(x, shifts, m));
      const f = Math.floor(D / shifts.length);
      for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) for (let c = 0; c < D; c++) {
        const s = c < f * shifts.length ? shifts[Math.floor(c / f)]! : 0;
        const src = t - s;
        const ok = src >= 0 && src < L && (s === 0 || !m || m[b * L + src] === 1);
        assert.equal(y.data[(b * L + t) * D + c], ok ? x.data[(b * L + src) * D + c] : 0, `D ${D} b ${b} t ${t} c ${c}`);
      }
      assert.ok(gradCheck(() => shiftSegments(x, shifts, m), [x]) < 1e-6, `D ${D}`);
    }
  }
});

/** performer-pytorch's attention, straight from its formulas, O(L²), float64. */
function reference(q: Var, k: Var, v: Var, W: Float64Array, kernel: 'softmax' | 'relu', causal: boolean, mask?: number[]): Float64Array {
  const [B, H, L, d] = q.shape as [number, number, number, number];
  const dv = v.shape[3]!, m = W.length / d, s = d ** -0.25;
  const out = new Float64Array(B * H * L * dv);
  const u = (x: Var, row: number): number[] => Array.from({ length: m }, (_, j) => {
    let a = 0;
    for (let c = 0; c < d; c++) a += W[j * d + c]! * x.data[row * d + c]! * s;
    return a;
  });
  const diag = (x: Var, row: number): number => {
    let a = 0;
    for (let c = 0; c < d; c++) a += x.data[row * d + c]! ** 2;
    return (a * s * s) / 2;
  };
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const base = (b * H + h) * L;
    const uk = Array.from({ length: L }, (_, t) => u(k, base + t));
    const Mk = Math.max(...uk.flat());
    const phiK = uk.map((row, t) => row.map((x) => (kernel === 'relu' ? Math.max(x, 0) + 1e-3 : m ** -0.5 * (Math.exp(x - diag(k, base + t) - Mk) + 1e-4))));
    for (let i = 0; i < L; i++) {
      const uq = u(q, base + i), Mq = Math.max(...uq);
      const phiQ = uq.map((x) => (kernel === 'relu' ? Math.max(x, 0) + 1e-3 : m ** -0.5 * (Math.exp(x - diag(q, base + i) - Mq) + 1e-4)));
      let den = 0;
      const num = new Float64Array(dv);
      for (let j = 0; j < (causal ? i + 1 : L); j++) {
        let a = 0;
        for (let l = 0; l < m; l++) a += phiQ[l]! * phiK[j]![l]!;
        den += a;
        const keep = !mask || mask[b * L + j] === 1 ? 1 : 0;
        for (let e = 0; e < dv; e++) num[e] += a * keep * v.data[(base + j) * dv + e]!;
      }
      if (causal) den += 1e-6 * phiQ.reduce((x, y) => x + y, 0);
      for (let e = 0; e < dv; e++) out[(base + i) * dv + e] = num[e]! / den;
    }
  }
  return out;
}

test('performer-pytorch numerics match an independent float64 evaluation of its formulas', () => {
  const B = 2, H = 2, L = 11, d = 6, dv = 5, m = 9;
  const rng = new Rng(8);
  const q = randVar([B, H, L, d], rng, 1, false), k = randVar([B, H, L, d], rng, 1, false), v = randVar([B, H, L, dv], rng, 1, false);
  const W = new Float64Array(m * d);
  rng.fillNormal(W);
  const mask = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0];
  for (const kernel of ['softmax', 'relu'] as const) for (const causal of [false, true]) for (const keyMask of [undefined, mask]) {
    for (const chunk of [4, 64]) {
      const got = performerPytorchAttention(q, k, v, { projection: W, featureMap: kernel, causal, keyMask, chunk }).data;
      const want = reference(q, k, v, W, kernel, causal, keyMask);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (Math.abs(want[i]!) + 1e-3));
      assert.ok(worst < 1e-10, `${kernel} causal ${causal} mask ${!!keyMask} chunk ${chunk}: ${worst}`);
    }
  }
  const qg = randVar([B, H, L, d], rng);
  assert.throws(() => performerPytorchAttention(qg, k, v, { projection: W, featureMap: 'softmax', causal: true }), /no backward/);
});

const tiny: PerformerConfig = { vocabSize: 11, dim: 8, layers: 2, heads: 2, maxLen: 16, features: 7, seed: 5, dtype: 'float64' };

test('PerformerLM gradients (float64) with the performer-pytorch options: head dim, biases, GEGLU, erf GELU, ScaleNorm, ReZero, segment shift, sinusoidal rotary, bidirectional', () => {
  const B = 2, L = 6, r = new Rng(1);
  const x = Int32Array.from({ length: B * L }, () => r.uint32() % 11), y = Int32Array.from({ length: B * L }, () => r.uint32() % 11);
  for (const cfg of [
    { ...tiny, headDim: 6, qkvBias: false, outBias: false, ffGlu: true, gelu: 'erf' as const, norm: 'scale' as const, positions: 'sinusoidal-rotary' as const, tokenShift: [0, 1], chunk: 4 },
    { ...tiny, headDim: 3, norm: 'rezero' as const, gelu: 'erf' as const, tiedEmbeddings: false, headBias: true, causal: false, tokenShift: [-1, 0, 1], featureMap: 'relu' as const },
  ]) {
    const lm = new PerformerLM(cfg);
    // ReZero gates start at 0, which would hide the sublayers' gradients: move every weight.
    const rr = new Rng(9);
    for (const [, p] of lm.namedParameters()) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! + 0.3 * rr.normal();
    const params = lm.namedParameters().map((e) => e[1]);
    gradCheck(() => lm.loss(x, y, B, L), params, { maxPerInput: 5, floor: 1e-4 });
    clearTape();
  }
});
