// FAVOR++ (feature map 'softmax++', docs/MATH.md "FAVOR++"): against an independent float64
// evaluation of φ(x)_r = D·exp(A‖ω_r‖² + B·ω_rᵀx − ‖x‖²/2)/√m (no stabiliser) on every engine,
// in every mode; A* against its O(L²) definition; finite-difference gradients (A held constant);
// causality; the recurrence; the argument rules for A.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { favorAttentionOp } from '../src/autograd/attention.js';
import { Var } from '../src/autograd/var.js';
import { splitHeads } from '../src/autograd/ops.js';
import { MultiHeadAttention, OPRF_MOMENTUM } from '../src/nn/attention.js';
import { initParameters } from '../src/nn/module.js';
import { drawProjection, favorAttention, referenceEngine, Tensor, type Engine } from '../src/index.js';
import { FavorRecurrentState } from '../src/favor/recurrent.js';
import { oprfCoefficients, optimalA } from '../src/favor/oprf.js';
import { Rng } from '../src/tensor/rng.js';
import { gradCheck, randVar } from './autograd-helpers.js';
import { clone, randn, randomMask } from './helpers/data.js';
import { relativeError } from './helpers/float64-reference.js';
import { disposeEngines, ENGINES } from './engines/list.js';

after(disposeEngines);

const B = 2, H = 3, d = 8, Dv = 5, m = 32;
const W = drawProjection({ features: m, dim: d, seed: 7 });

/** φ of one row, textbook form, float64. */
function phi(x: ArrayLike<number>, off: number, A: number, w: ArrayLike<number>): Float64Array {
  const s = d ** -0.25, Bc = Math.sqrt(1 - 4 * A), D = (1 - 4 * A) ** (d / 4);
  let xx = 0;
  for (let c = 0; c < d; c++) xx += (x[off + c]! * s) ** 2;
  const f = new Float64Array(m);
  for (let r = 0; r < m; r++) {
    let wx = 0, ww = 0;
    for (let c = 0; c < d; c++) { wx += w[r * d + c]! * x[off + c]! * s; ww += w[r * d + c]! ** 2; }
    f[r] = (D * Math.exp(A * ww + Bc * wx - xx / 2)) / Math.sqrt(m);
  }
  return f;
}

/** out_i = Σ_j φ(q_i)·φ(k_j) v_j / Σ_j φ(q_i)·φ(k_j) over kept (and, causal, j ≤ i) keys. */
function reference64(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, L: number, A: ArrayLike<number>, causal: boolean, mask?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(B * H * L * Dv);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    const fk = Array.from({ length: L }, (_, j) => phi(k, (bh * L + j) * d, A[bh]!, W.data));
    for (let i = 0; i < L; i++) {
      const fq = phi(q, (bh * L + i) * d, A[bh]!, W.data);
      let den = 0;
      const num = new Float64Array(Dv);
      for (let j = 0; j < L; j++) {
        if ((causal && j > i) || (mask && mask[b * L + j] === 0)) continue;
        let p = 0;
        for (let r = 0; r < m; r++) p += fq[r]! * fk[j]![r]!;
        den += p;
        for (let e = 0; e < Dv; e++) num[e] = num[e]! + p * v[(bh * L + j) * Dv + e]!;
      }
      for (let e = 0; e < Dv; e++) out[(bh * L + i) * Dv + e] = den === 0 ? 0 : num[e]! / den;
    }
  }
  return out;
}

/** A* from its definition: S = mean over all (i, j) of ‖x_i + y_j‖², O(L²). */
function optimalA64(q: ArrayLike<number>, k: ArrayLike<number>, L: number, mask?: ArrayLike<number>): Float64Array {
  const A = new Float64Array(B * H), s = d ** -0.25;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    let S = 0, n = 0;
    for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) {
      if (mask && mask[b * L + j] === 0) continue;
      let t = 0;
      for (let c = 0; c < d; c++) t += ((q[(bh * L + i) * d + c]! + k[(bh * L + j) * d + c]!) * s) ** 2;
      S += t; n++;
    }
    const f = S / n / d;
    A[bh] = (1 - 2 * f - Math.sqrt((2 * f + 1) ** 2 + 8 * f)) / 16;
  }
  return A;
}

const L = 13;
const q = randn([B, H, L, d], 1, 0.7), k = randn([B, H, L, d], 2, 0.7), v = randn([B, H, L, Dv], 3);
const mask = randomMask(B, L, 4);
const givenA = Array.from({ length: B * H }, (_, i) => -0.02 - 0.03 * i);

test('A*: the O(L·d) closed form equals its O(L²) definition, is negative, and A = 0 makes softmax++ softmax', () => {
  for (const mk of [undefined, mask.data]) {
    const want = optimalA64(q.data, k.data, L, mk);
    const got = oprfCoefficients(q.data, k.data, { B, H, Lq: L, Lk: L, d }, mk);
    assert.ok(relativeError(got, want) < 1e-12, `A* relative error ${relativeError(got, want)}`);
    for (const a of got) assert.ok(a < 0);
  }
  assert.equal(optimalA(0), 0);
  const zero = favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', oprfA: [0, 0, 0], causal: true, engine: referenceEngine });
  const plain = favorAttention(q, k, v, { projection: W, featureMap: 'softmax', causal: true, engine: referenceEngine });
  assert.ok(relativeError(zero.data, plain.data) < 1e-6);
});

async function onEngine(e: Engine, o: { causal: boolean; keyMask?: Tensor; oprfA?: number[]; chunk?: number }): Promise<Float32Array> {
  const [eq, ek, ev, em, ew] = await Promise.all([q.to(e), k.to(e), v.to(e), o.keyMask?.to(e), W.to(e)]);
  const out = favorAttention(eq, ek, ev, { projection: ew, featureMap: 'softmax++', causal: o.causal, keyMask: em, oprfA: o.oprfA, chunk: o.chunk, engine: e });
  return await out.read() as Float32Array;
}

for (const e of ENGINES) {
  test(`${e.name}, softmax++: matches the float64 reference (bidirectional with A* or A given, causal with A given; masks; chunks 1/5/64)`, async () => {
    for (const causal of [false, true]) for (const keyMask of [undefined, mask]) for (const chunk of [1, 5, 64]) {
      for (const given of causal ? [givenA] : [undefined, givenA]) {
        if (!given && !e.host) continue; // A* is computed on the host; a device engine takes A given
        const A = given ?? optimalA64(q.data, k.data, L, keyMask?.data);
        const want = reference64(q.data, k.data, v.data, L, A, causal, keyMask?.data);
        const got = await onEngine(e, { causal, keyMask, oprfA: given, chunk });
        const err = relativeError(got, want);
        assert.ok(err < 1e-4, `${e.name} causal=${causal} mask=${!!keyMask} chunk=${chunk} A ${given ? 'given' : '*'}: relative error ${err}`);
      }
    }
  });

  test(`${e.name}, softmax++ causal: outputs before t do not change when positions ≥ t change`, async () => {
    const t = 6;
    const a = await onEngine(e, { causal: true, oprfA: givenA });
    const q2 = clone(q), k2 = clone(k), v2 = clone(v);
    for (const x of [q2, k2]) for (let bh = 0; bh < B * H; bh++) for (let i = t * d; i < L * d; i++) x.data[bh * L * d + i] = x.data[bh * L * d + i]! * 3 + 1;
    for (let bh = 0; bh < B * H; bh++) for (let i = t * Dv; i < L * Dv; i++) v2.data[bh * L * Dv + i] = -v2.data[bh * L * Dv + i]!;
    const [eq, ek, ev, ew] = await Promise.all([q2.to(e), k2.to(e), v2.to(e), W.to(e)]);
    const b = await favorAttention(eq, ek, ev, { projection: ew, featureMap: 'softmax++', causal: true, oprfA: givenA, engine: e }).read();
    for (let bh = 0; bh < B * H; bh++) for (let i = 0; i < t * Dv; i++) assert.equal(b[bh * L * Dv + i], a[bh * L * Dv + i], `row ${Math.floor(i / Dv)} changed`);
  });
}

test('softmax++ gradients (A held constant) match finite differences: bidirectional with A* and A given, causal, masks, chunks not dividing L', () => {
  const rng = new Rng(21);
  const Lg = 5, W64 = Float64Array.from(drawProjection({ features: 6, dim: 4, seed: 3 }).data);
  const [qg, kg, vg] = [randVar([1, 2, Lg, 4], rng, 0.8), randVar([1, 2, Lg, 4], rng, 0.8), randVar([1, 2, Lg, 3], rng)];
  for (const causal of [false, true]) for (const keyMask of [undefined, [1, 0, 1, 1, 1]]) {
    const oprfA = causal ? [-0.05, -0.11] : undefined;
    // bidirectional A* depends on q and k; the op treats it as a constant, so the check holds A at its value
    const A = oprfA ?? Array.from(oprfCoefficients(qg.data, kg.data, { B: 1, H: 2, Lq: Lg, Lk: Lg, d: 4 }, keyMask));
    const err = gradCheck(() => favorAttentionOp(qg, kg, vg, { projection: W64, featureMap: 'softmax++', causal, keyMask, chunk: 2, oprfA: A }), [qg, kg, vg]);
    assert.ok(err < 1e-5, `causal=${causal}: gradient error ${err}`);
  }
});

test('softmax++ recurrence equals the chunked causal forward', () => {
  const st = new FavorRecurrentState({ batch: B, heads: H, valueDim: Dv, projection: W, featureMap: 'softmax++', oprfA: givenA });
  const full = favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', causal: true, oprfA: givenA, engine: referenceEngine }).data;
  for (let t = 0; t < L; t++) {
    const row = (x: Tensor, w: number): Tensor => {
      const r = new Tensor([B, H, w]);
      for (let bh = 0; bh < B * H; bh++) r.data.set(x.data.subarray((bh * L + t) * w, (bh * L + t + 1) * w), bh * w);
      return r;
    };
    const o = st.step(row(q, d), row(k, d), row(v, Dv));
    for (let bh = 0; bh < B * H; bh++) for (let e = 0; e < Dv; e++) {
      assert.ok(Math.abs(o.data[bh * Dv + e]! - full[(bh * L + t) * Dv + e]!) < 1e-5, `t=${t}`);
    }
  }
});

test('softmax++: A rules (causal needs A, [H] or [B, H], below 1/8), with the reason', () => {
  assert.throws(() => favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', causal: true }), /causal softmax\+\+ needs A given \(oprf_a\): computing it from the sequence would let every position depend on later ones/);
  assert.throws(() => favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', oprfA: [0, 0] }), /oprf_a \(FAVOR\+\+'s A\) has 2 values, expected \[H\] = 3 or \[B, H\] = 6/);
  assert.throws(() => favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', oprfA: [0, 0.125, 0] }), /below 1\/8, got 0.125 at 1/);
  assert.throws(() => new FavorRecurrentState({ batch: 1, heads: 2, valueDim: 2, projection: W, featureMap: 'softmax++' }), /causal softmax\+\+ needs A/);
  // [H] broadcasts over the batch
  const a = favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', oprfA: [-0.1, -0.2, -0.3], engine: referenceEngine });
  const b = favorAttention(q, k, v, { projection: W, featureMap: 'softmax++', oprfA: [-0.1, -0.2, -0.3, -0.1, -0.2, -0.3], engine: referenceEngine });
  assert.deepEqual(a.data, b.data);
  const x = new Var([1, 1, 2, d], new Float64Array(2 * d));
  assert.throws(() => favorAttentionOp(x, x, x, { projection: W, featureMap: 'softmax++', causal: true }), /needs A given/);
});

test('a causal softmax++ layer: A is a per-head running average of A* over training batches (each step uses the value before its own update), frozen in eval, saved with the weights; decoding equals the forward', () => {
  const D = 16, Hh = 2, Lm = 9;
  const layer = (featureMap: 'softmax' | 'softmax++'): MultiHeadAttention => {
    const a = new MultiHeadAttention(D, Hh, { featureMap, features: 12, causal: true, chunk: 4, seed: 3, dtype: 'float64' });
    initParameters(a, 2);
    for (const w of [a.wq.weight, a.wk.weight]) for (let i = 0; i < w.size; i++) w.data[i] = w.data[i]! * 15;
    return a;
  };
  const attn = layer('softmax++');
  assert.deepEqual(Array.from(attn.oprfA!.data), [0, 0]);
  const x = new Var([2, Lm, D], Float64Array.from(randn(2 * Lm * D, 9)));
  // what the layer computes from this batch: q, k of its global heads
  const q = splitHeads(attn.wq.forward(x), Hh), k = splitHeads(attn.wk.forward(x), Hh);
  const batch = oprfCoefficients(q.data, k.data, { B: 2, H: Hh, Lq: Lm, Lk: Lm, d: D / Hh });
  const expectA = [0, 1].map((h) => OPRF_MOMENTUM * (batch[h]! + batch[Hh + h]!) / 2);
  attn.train();
  const first = attn.forward(x).data.slice();
  assert.ok(relativeError(attn.oprfA!.data, expectA) < 1e-12, 'one training batch folds in with momentum');
  assert.ok(relativeError(first, layer('softmax').forward(x).data) < 1e-12, 'the first step ran with A = 0 (the value before its update)');
  attn.eval();
  attn.forward(x);
  assert.ok(relativeError(attn.oprfA!.data, expectA) < 1e-12, 'eval leaves A alone');
  assert.ok(attn.stateDict().has('oprf_a'), 'A is saved with the weights');
  const full = attn.forward(new Var([1, Lm, D], x.data.slice(0, Lm * D))).data;
  const s = attn.startDecoding();
  const stepped = new Float64Array(Lm * D);
  for (let t = 0; t < Lm; t++) stepped.set(attn.step(new Var([1, 1, D], x.data.slice(t * D, (t + 1) * D)), s).data, t * D);
  assert.ok(relativeError(stepped, full) < 1e-5, `decoding vs forward: ${relativeError(stepped, full)}`);
});

test('softmax++ backward on every engine equals the float64 reference backward (A given; bidirectional and causal, masks)', async () => {
  const Lb = 11, dOut = randn([B, H, Lb, Dv], 41);
  const qb = randn([B, H, Lb, d], 42, 0.8), kb = randn([B, H, Lb, d], 43, 0.8), vb = randn([B, H, Lb, Dv], 44);
  const maskB = randomMask(B, Lb, 45);
  for (const causal of [false, true]) for (const keyMask of [undefined, maskB]) {
    const run = async (e: Engine, f64: boolean): Promise<Float64Array[]> => {
      const up = (x: Float32Array): unknown => e.upload(f64 ? Float64Array.from(x) : Float32Array.from(x));
      const zeros = (n: number): unknown => e.zeros(n, f64 ? 'float64' : 'float32');
      const args = {
        q: up(qb.data), k: up(kb.data), v: up(vb.data), out: zeros(vb.size), projection: up(W.data), keyMask: keyMask ? up(keyMask.data) : undefined,
        B, H, Lq: Lb, Lk: Lb, d, Dv, m, featureMap: 'softmax++' as const, causal, chunk: 4, oprfA: up(Float32Array.from(givenA)),
      };
      e.favorForward(args);
      const grads = { dOut: up(dOut.data), dq: zeros(qb.size), dk: zeros(kb.size), dv: zeros(vb.size) };
      e.favorBackward({ ...args, ...grads });
      return Promise.all([args.out, grads.dq, grads.dk, grads.dv].map(async (x) => Float64Array.from(await e.read(x))));
    };
    const want = await run(referenceEngine, true);
    for (const e of ENGINES) {
      const got = await run(e, false);
      ['out', 'dq', 'dk', 'dv'].forEach((name, i) => {
        const err = relativeError(got[i]!, want[i]!);
        assert.ok(err < 1e-4, `${e.name} causal=${causal} mask=${!!keyMask} ${name}: relative error ${err}`);
      });
    }
  }
});
