// favorAttention / exactAttention against the independent float64 reference (test/helpers), plus
// causality, padding, large inputs and argument errors. The agreement, cross-attention, causality
// and padding tests run once per engine of test/engines/list.ts: inputs move to the engine with
// `to`, outputs come back with `await read()`.
//
// Error metric everywhere (see relativeError): max_i |out_i − ref_i| / max_i |ref_i| over the
// whole [B, H, Lq, Dv] output, where ref is the float64 textbook formula with the same W.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  drawProjection, exactAttention, favorAttention, FEATURE_MAPS, referenceEngine, Tensor,
  type Engine, type FeatureMap,
} from '../src/index.js';
import type { FavorFwdArgs } from '../src/kernels/engine.js';
import { clone, randn, randomMask, replaceFrom, setRowNorms, sliceRows } from './helpers/data.js';
import { allFinite, exactReference64, favorReference64, maxAbs, relativeError } from './helpers/float64-reference.js';
import { disposeEngines, ENGINES } from './engines/list.js';

after(disposeEngines);

type AnyKernel = FeatureMap | 'exact';
const ALL: readonly AnyKernel[] = [...FEATURE_MAPS, 'exact'];

const B = 2, H = 3, d = 8, Dv = 5, m = 32;
const W = drawProjection({ features: m, dim: d, seed: 7 });

interface RunOpts { causal?: boolean; keyMask?: Tensor; chunk?: number; projection?: Tensor; engine?: Engine }

function lib(featureMap: AnyKernel, q: Tensor, k: Tensor, v: Tensor, o: RunOpts = {}): Tensor {
  if (featureMap === 'exact') return exactAttention(q, k, v, { causal: o.causal, keyMask: o.keyMask, engine: o.engine });
  return favorAttention(q, k, v, {
    projection: o.projection ?? W, featureMap, causal: o.causal, keyMask: o.keyMask, chunk: o.chunk, engine: o.engine,
  });
}

/** lib on `engine`: the inputs are moved there, the output read back into a host tensor. */
async function libOn(engine: Engine, featureMap: AnyKernel, q: Tensor, k: Tensor, v: Tensor, o: RunOpts = {}): Promise<Tensor> {
  const on = (t: Tensor | undefined) => t?.to(engine);
  const [eq, ek, ev, keyMask, projection] = await Promise.all([on(q), on(k), on(v), on(o.keyMask), on(o.projection ?? W)]);
  const out = lib(featureMap, eq!, ek!, ev!, { ...o, keyMask, projection, engine });
  return new Tensor(out.shape, await out.read(), referenceEngine);
}

function ref(featureMap: AnyKernel, q: Tensor, k: Tensor, v: Tensor, o: RunOpts = {}): Float64Array {
  const [b, h, Lq, dd] = q.shape as [number, number, number, number];
  const a = {
    q: q.data, k: k.data, v: v.data, B: b, H: h, Lq, Lk: k.shape[2]!, d: dd, Dv: v.shape[3]!,
    keyMask: o.keyMask?.data, causal: o.causal,
  };
  if (featureMap === 'exact') return exactReference64(a);
  const P = o.projection ?? W;
  return favorReference64({ ...a, featureMap, w: P.data, m: P.shape[0]! });
}

function tol(featureMap: AnyKernel): number {
  return featureMap === 'trig' ? 1e-3 : 1e-4;
}

function inputs(L: number, seed: number, std = 0.5, Lk = L, dvv = Dv) {
  return {
    q: randn([B, H, L, d], seed, std),
    k: randn([B, H, Lk, d], seed + 1, std),
    v: randn([B, H, Lk, dvv], seed + 2),
  };
}

// ---- agreement with the float64 reference ----

for (const engine of ENGINES) for (const featureMap of ALL) {
  test(`${engine.name}, ${featureMap}: matches the float64 reference (bidirectional/causal, masks, chunks 1/7/64)`, async () => {
    for (const causal of [false, true]) {
      for (const [chunk, L] of [[1, 23], [7, 23], [64, 70]] as const) {
        const { q, k, v } = inputs(L, 100 + L);
        for (const keyMask of [undefined, randomMask(B, L, 5 + L)]) {
          const out = await libOn(engine, featureMap, q, k, v, { causal, chunk, keyMask });
          assert.deepEqual(out.shape, [B, H, L, Dv]);
          const err = relativeError(out.data, ref(featureMap, q, k, v, { causal, keyMask }));
          assert.ok(err <= tol(featureMap),
            `${featureMap} causal=${causal} chunk=${chunk} L=${L} mask=${!!keyMask}: relative error ${err}`);
        }
      }
    }
  });
}

for (const engine of ENGINES) {
  test(`${engine.name}: cross attention (Lq ≠ Lk), bidirectional, with a key mask and Dv ≠ d`, async () => {
    for (const [Lq, Lk] of [[13, 29], [40, 3], [1, 17]] as const) {
      const { q, k, v } = inputs(Lq, 300 + Lq, 0.5, Lk, 11);
      const keyMask = randomMask(B, Lk, 9);
      for (const featureMap of ALL) {
        for (const mask of [undefined, keyMask]) {
          const out = await libOn(engine, featureMap, q, k, v, { keyMask: mask, chunk: 7 });
          assert.deepEqual(out.shape, [B, H, Lq, 11]);
          const err = relativeError(out.data, ref(featureMap, q, k, v, { keyMask: mask }));
          assert.ok(err <= tol(featureMap), `${featureMap} Lq=${Lq} Lk=${Lk} mask=${!!mask}: relative error ${err}`);
        }
      }
    }
  });

}

test('the reference comparison has teeth: wrong mode, mask or W are detected', () => {
  const L = 23;
  const { q, k, v } = inputs(L, 400);
  const keyMask = randomMask(B, L, 6);
  const W2 = drawProjection({ features: m, dim: d, seed: 8 });
  for (const featureMap of ALL) {
    const out = lib(featureMap, q, k, v, { causal: true, keyMask, chunk: 7 });
    assert.ok(relativeError(out.data, ref(featureMap, q, k, v, { causal: false, keyMask })) > 1e-2, `${featureMap}: causal vs not`);
    assert.ok(relativeError(out.data, ref(featureMap, q, k, v, { causal: true })) > 1e-2, `${featureMap}: mask vs none`);
    if (featureMap !== 'exact') {
      assert.ok(relativeError(out.data, ref(featureMap, q, k, v, { causal: true, keyMask, projection: W2 })) > 1e-3,
        `${featureMap}: another W`);
    }
  }
  // Kernels are genuinely different from each other and from exact attention.
  const outs = ALL.map((kn) => lib(kn, q, k, v, { causal: true, keyMask }));
  for (let a = 0; a < outs.length; a++) {
    for (let b = a + 1; b < outs.length; b++) {
      assert.ok(relativeError(outs[a]!.data, outs[b]!.data) > 1e-3, `${ALL[a]} vs ${ALL[b]}`);
    }
  }
});

test('causal output does not depend on the chunk size', () => {
  const L = 45;
  const { q, k, v } = inputs(L, 500, 1.2);
  const keyMask = randomMask(B, L, 3);
  for (const featureMap of FEATURE_MAPS) {
    const base = lib(featureMap, q, k, v, { causal: true, keyMask, chunk: 1 });
    for (const chunk of [2, 7, 16, 44, 45, 64, 1000]) {
      const out = lib(featureMap, q, k, v, { causal: true, keyMask, chunk });
      const err = relativeError(out.data, base.data);
      assert.ok(err < 1e-5, `${featureMap} chunk ${chunk} vs 1: ${err}`);
    }
  }
});

test('FAVOR+ approximates exact softmax attention with many features (softmax, softmax-hyp)', () => {
  // Small scores (‖x̂‖² ≈ 0.25) keep the positive-feature estimator's lognormal tail short. The
  // bound is relative to how far plain uniform attention (q = 0) is from the exact output, so the
  // check cannot pass by both being close to the mean of v.
  const L = 30;
  const { q, k, v } = inputs(L, 600, 0.3);
  const Wbig = drawProjection({ features: 1024, dim: d, seed: 3 });
  for (const causal of [false, true]) {
    const exact = ref('exact', q, k, v, { causal });
    const uniform = relativeError(lib('exact', new Tensor(q.shape), k, v, { causal }).data, exact);
    for (const featureMap of ['softmax', 'softmax-hyp'] as const) {
      const err = relativeError(lib(featureMap, q, k, v, { causal, projection: Wbig }).data, exact);
      assert.ok(err < 0.1 && err < 0.5 * uniform,
        `${featureMap} causal=${causal}: error vs exact attention ${err} (uniform attention: ${uniform})`);
    }
  }
});

// ---- large inputs ----

test('textbook identity holds for large inputs (row norms up to 10)', () => {
  const L = 30;
  const { q, k, v } = inputs(L, 700);
  // Row norms spread over [0.1, 10]; every fifth row has norm exactly 10.
  for (const t of [q, k]) {
    setRowNorms(t, 1);
    for (let r = 0; r < t.data.length / d; r++) {
      const n = r % 5 === 0 ? 10 : 0.1 + 9.9 * ((r * 7919) % 97) / 97;
      for (let c = 0; c < d; c++) t.data[r * d + c] = t.data[r * d + c]! * n;
    }
  }
  const keyMask = randomMask(B, L, 4);
  for (const featureMap of ALL) {
    for (const causal of [false, true]) {
      for (const mask of [undefined, keyMask]) {
        const out = lib(featureMap, q, k, v, { causal, keyMask: mask, chunk: 7 });
        const want = ref(featureMap, q, k, v, { causal, keyMask: mask });
        assert.ok(allFinite(want), 'the unstabilised float64 reference is still finite here');
        // trig's normaliser is a signed sum (cancellation), hence its looser 1e-3 (observed ~1e-5).
        const err = relativeError(out.data, want);
        assert.ok(err <= tol(featureMap), `${featureMap} causal=${causal} mask=${!!mask}: relative error ${err}`);
      }
    }
  }
});

test('outputs stay finite with query/key norms up to 100, every featureMap and mode', () => {
  const L = 20;
  const { q, k, v } = inputs(L, 800);
  setRowNorms(q, 100);
  setRowNorms(k, 100);
  // Mix in some small rows so that weights span the full range.
  for (let r = 0; r < q.data.length / d; r += 3) for (let c = 0; c < d; c++) { q.data[r * d + c]! /= 1000; k.data[r * d + c]! /= 1000; }
  const keyMask = randomMask(B, L, 2);
  for (const featureMap of ALL) {
    for (const causal of [false, true]) {
      for (const chunk of [1, 7, 64]) {
        for (const mask of [undefined, keyMask]) {
          const out = lib(featureMap, q, k, v, { causal, keyMask: mask, chunk });
          assert.ok(allFinite(out.data), `${featureMap} causal=${causal} chunk=${chunk} mask=${!!mask}: non-finite output`);
          // Non-trig outputs are convex combinations of the value rows.
          if (featureMap !== 'trig') assert.ok(maxAbs(out.data) <= maxAbs(v.data) * (1 + 1e-5), `${featureMap}: |out| ≤ max|v|`);
        }
      }
    }
  }
});

// ---- causality ----

for (const engine of ENGINES) {
  test(`${engine.name}: causal: changing q, k, v at positions ≥ t never changes outputs before t`, async () => {
    const L = 23, chunk = 7;
    const { q, k, v } = inputs(L, 900);
    const keyMask = randomMask(B, L, 8);
    const huge = inputs(L, 950);
    setRowNorms(huge.q, 100);
    setRowNorms(huge.k, 100);
    for (let i = 0; i < huge.v.data.length; i++) huge.v.data[i] = huge.v.data[i]! * 1e6;
    const other = inputs(L, 990, 2);
    for (const featureMap of ALL) {
      for (const mask of [undefined, keyMask]) {
        const base = await libOn(engine, featureMap, q, k, v, { causal: true, keyMask: mask, chunk });
        // t = 1 (inside the first chunk), 6/7/8 (around a boundary), 13, 14 (boundary), 20, 22 (last).
        for (const t of [1, 3, 6, 7, 8, 13, 14, 20, 22]) {
          for (const alt of [huge, other]) {
            const out = await libOn(engine, featureMap, replaceFrom(q, alt.q, t), replaceFrom(k, alt.k, t), replaceFrom(v, alt.v, t),
              { causal: true, keyMask: mask, chunk });
            const before = sliceRows(base, 0, t), after = sliceRows(out, 0, t);
            const err = relativeError(after, before);
            assert.ok(err < 1e-6, `${featureMap} mask=${!!mask} t=${t}: prefix changed by ${err}`);
            // The suffix does change (the perturbation is real).
            assert.ok(relativeError(sliceRows(out, t, L), sliceRows(base, t, L)) > 1e-3, `${featureMap} t=${t}: suffix unchanged?`);
          }
        }
      }
    }
  });

}

test('causal, reference engine: the prefix is bit-identical under future changes (chunks 1, 5, 64)', () => {
  const L = 70;
  const { q, k, v } = inputs(L, 1000);
  const huge = inputs(L, 1050);
  setRowNorms(huge.q, 100);
  setRowNorms(huge.k, 100);
  for (const featureMap of FEATURE_MAPS) {
    for (const chunk of [1, 5, 64]) {
      const base = lib(featureMap, q, k, v, { causal: true, chunk, engine: referenceEngine });
      for (const t of [1, 5, 33, 64, 65]) {
        const out = lib(featureMap, replaceFrom(q, huge.q, t), replaceFrom(k, huge.k, t), replaceFrom(v, huge.v, t),
          { causal: true, chunk, engine: referenceEngine });
        assert.deepEqual(sliceRows(out, 0, t), sliceRows(base, 0, t), `${featureMap} chunk=${chunk} t=${t}`);
      }
    }
  }
});

test('sanity: bidirectional outputs do change when later keys change', () => {
  const L = 23;
  const { q, k, v } = inputs(L, 1100);
  const other = inputs(L, 1150);
  for (const featureMap of ALL) {
    const base = lib(featureMap, q, k, v);
    const out = lib(featureMap, q, replaceFrom(k, other.k, 12), replaceFrom(v, other.v, 12));
    assert.ok(relativeError(sliceRows(out, 0, 12), sliceRows(base, 0, 12)) > 1e-3, `${featureMap}`);
  }
});

// ---- padding ----

test('padding: masked keys\' k and v do not affect any output; their q affects only their own row', () => {
  const L = 23;
  const { q, k, v } = inputs(L, 1200);
  const keyMask = randomMask(B, L, 12);
  const garbage = inputs(L, 1250);
  setRowNorms(garbage.q, 100);
  setRowNorms(garbage.k, 100);
  for (let i = 0; i < garbage.v.data.length; i++) garbage.v.data[i] = garbage.v.data[i]! * 1e7;
  /** x with the rows of masked positions taken from g. */
  const atMasked = (x: Tensor, g: Tensor): Tensor => {
    const out = clone(x);
    const n = x.shape[3]!;
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let j = 0; j < L; j++) {
      if (keyMask.data[b * L + j] !== 0) continue;
      for (let c = 0; c < n; c++) out.data[((b * H + h) * L + j) * n + c] = g.data[((b * H + h) * L + j) * n + c]!;
    }
    return out;
  };
  const kept = (t: Tensor): Float64Array => {
    const xs: number[] = [];
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < L; i++) {
      if (keyMask.data[b * L + i] === 0) continue;
      for (let e = 0; e < Dv; e++) xs.push(t.data[((b * H + h) * L + i) * Dv + e]!);
    }
    return Float64Array.from(xs);
  };
  for (const featureMap of ALL) {
    for (const causal of [false, true]) {
      for (const chunk of [1, 7, 64]) {
        const o = { causal, keyMask, chunk };
        const base = lib(featureMap, q, k, v, o);
        const kv = lib(featureMap, q, atMasked(k, garbage.k), atMasked(v, garbage.v), o);
        assert.ok(relativeError(kv.data, base.data) < 1e-6, `${featureMap} causal=${causal} chunk=${chunk}: masked k/v leaked`);
        const qkv = lib(featureMap, atMasked(q, garbage.q), atMasked(k, garbage.k), atMasked(v, garbage.v), o);
        assert.ok(relativeError(kept(qkv), kept(base)) < 1e-6, `${featureMap} causal=${causal} chunk=${chunk}: masked q leaked`);
        // Without the mask the same garbage does change the output (the check can fail).
        const unmasked = lib(featureMap, q, atMasked(k, garbage.k), atMasked(v, garbage.v), { causal, chunk });
        assert.ok(relativeError(unmasked.data, lib(featureMap, q, k, v, { causal, chunk }).data) > 1e-3, `${featureMap}: garbage matters unmasked`);
      }
    }
  }
});

for (const engine of ENGINES) {
  test(`${engine.name}: padding: a fully masked row is zero (favor and exact, bidirectional and causal)`, async () => {
    const L = 23;
    const { q, k, v } = inputs(L, 1300);
    // Batch 1 has no key at all; batch 0 masks its first 9 keys (causal rows 0..8 see no key).
    const keyMask = new Tensor([B, L]);
    for (let j = 9; j < L; j++) keyMask.data[j] = 1;
    for (const featureMap of ALL) {
      for (const causal of [false, true]) {
        for (const chunk of [1, 7, 64]) {
          const out = await libOn(engine, featureMap, q, k, v, { causal, keyMask, chunk });
          const perB = H * L * Dv;
          assert.ok(out.data.subarray(perB).every((x) => x === 0), `${featureMap} causal=${causal}: batch 1 must be zero`);
          for (let h = 0; h < H; h++) {
            for (let i = 0; i < L; i++) {
              const rowv = out.data.subarray((h * L + i) * Dv, (h * L + i + 1) * Dv);
              if (causal && i < 9) assert.ok(rowv.every((x) => x === 0), `${featureMap} causal: row ${i} sees no key, must be zero`);
              else assert.ok(rowv.some((x) => x !== 0), `${featureMap} causal=${causal}: row ${i} has keys, must not be zero`);
            }
          }
          const err = relativeError(out.data, ref(featureMap, q, k, v, { causal, keyMask }));
          assert.ok(err <= tol(featureMap), `${featureMap} causal=${causal} chunk=${chunk}: ${err}`);
        }
      }
    }
  });

}

test('padding: any non-zero mask value means keep; Lk = 0 gives zeros', () => {
  const L = 12;
  const { q, k, v } = inputs(L, 1400);
  const m01 = randomMask(B, L, 14);
  const mOdd = clone(m01);
  const odd = [0.5, 2, -1, 1e-30];
  for (let i = 0; i < mOdd.data.length; i++) if (mOdd.data[i] !== 0) mOdd.data[i] = odd[i % odd.length]!;
  for (const featureMap of ALL) {
    for (const causal of [false, true]) {
      assert.deepEqual(lib(featureMap, q, k, v, { causal, keyMask: mOdd }).data, lib(featureMap, q, k, v, { causal, keyMask: m01 }).data, `${featureMap}`);
    }
    const out = lib(featureMap, q, new Tensor([B, H, 0, d]), new Tensor([B, H, 0, Dv]));
    assert.deepEqual(out.shape, [B, H, L, Dv]);
    assert.ok(out.data.every((x) => x === 0), `${featureMap}: no keys → zeros`);
  }
});

// ---- options and errors ----

test('defaults: featureMap softmax, bidirectional, chunk 64, the given engine is used', () => {
  const calls: FavorFwdArgs<unknown>[] = [];
  const spy: Engine = {
    ...(referenceEngine as Engine),
    name: 'spy',
    favorForward: (a) => { calls.push(a); referenceEngine.favorForward(a as FavorFwdArgs); },
  };
  const { q, k, v } = inputs(9, 1500);
  const out = favorAttention(q, k, v, { projection: W, engine: spy });
  assert.equal(calls.length, 1);
  const a = calls[0]!;
  assert.equal(a.featureMap, 'softmax');
  assert.equal(a.causal, false);
  assert.equal(a.chunk, 64);
  assert.equal(a.m, m);
  assert.deepEqual([a.B, a.H, a.Lq, a.Lk, a.d, a.Dv], [B, H, 9, 9, d, Dv]);
  assert.equal(a.out, out.storage);
  assert.ok(relativeError(out.data, ref('softmax', q, k, v)) < 1e-4, 'defaults compute softmax, bidirectional');
});

test('argument errors name the offending tensor or option', () => {
  const L = 6;
  const { q, k, v } = inputs(L, 1600);
  const P = W;
  const favor = (o: Partial<Parameters<typeof favorAttention>[3]> & { q?: Tensor; k?: Tensor; v?: Tensor } = {}) =>
    () => favorAttention(o.q ?? q, o.k ?? k, o.v ?? v, { projection: P, ...o });
  const exact = (o: { q?: Tensor; k?: Tensor; v?: Tensor; causal?: boolean; keyMask?: Tensor } = {}) =>
    () => exactAttention(o.q ?? q, o.k ?? k, o.v ?? v, o);
  for (const run of [favor, exact]) {
    // wrong ranks
    assert.throws(run({ q: new Tensor([H, L, d]) }), /\bq must have shape \[B, H, Lq, d\], got \[3, 6, 8\]/);
    assert.throws(run({ k: new Tensor([B, H, L, d, 1]) }), /\bk must have shape \[B, H, Lk, d\]/);
    assert.throws(run({ v: new Tensor([B * H * L, Dv]) }), /\bv must have shape \[B, H, Lk, Dv\]/);
    // mismatched B, H, d between q and k
    assert.throws(run({ k: new Tensor([B + 1, H, L, d]) }), /\bk \[3, 3, 6, 8\] does not match q \[2, 3, 6, 8\]/);
    assert.throws(run({ k: new Tensor([B, H - 1, L, d]) }), /\bk .*does not match q/);
    assert.throws(run({ k: new Tensor([B, H, L, d + 1]) }), /\bk .*does not match q/);
    // v length (and B, H) must match k
    assert.throws(run({ v: new Tensor([B, H, L + 1, Dv]) }), /\bv \[2, 3, 7, 5\] does not match k/);
    assert.throws(run({ v: new Tensor([B, H + 1, L, Dv]) }), /\bv .*does not match k/);
    // causal needs Lq = Lk
    assert.throws(run({ causal: true, k: new Tensor([B, H, L + 2, d]), v: new Tensor([B, H, L + 2, Dv]) }),
      /causal attention needs Lq = Lk, got Lq=6, Lk=8/);
    // mask shape
    assert.throws(run({ keyMask: new Tensor([B, L + 1]) }), /key mask must have shape \[B, Lk\] = \[2, 6\], got \[2, 7\]/);
    assert.throws(run({ keyMask: new Tensor([B * L]) }), /key mask must have shape/);
    assert.throws(run({ keyMask: new Tensor([B, 1, L]) }), /key mask must have shape/);
    // zero head dimensions
    assert.throws(run({ q: new Tensor([B, H, L, 0]), k: new Tensor([B, H, L, 0]) }), /head dimensions must be positive/);
    assert.throws(run({ v: new Tensor([B, H, L, 0]) }), /head dimensions must be positive/);
  }
  // FAVOR-specific options.
  assert.throws(favor({ projection: drawProjection({ features: m, dim: d + 1 }) }), /projection must have shape \[m, d\] with d=8, got \[32, 9\]/);
  assert.throws(favor({ projection: new Tensor([m * d]) }), /projection must have shape/);
  assert.throws(favor({ projection: new Tensor([0, d]) }), /projection must have shape/);
  const bad = clone(W);
  bad.data[5] = NaN;
  assert.throws(favor({ projection: bad }), /projection has a non-finite value/);
  assert.throws(favor({ featureMap: 'gauss' as FeatureMap }), /unknown feature map 'gauss'/);
  for (const chunk of [0, -1, 2.5, NaN]) assert.throws(favor({ chunk }), /chunk must be a positive integer/, `chunk ${chunk}`);
});
