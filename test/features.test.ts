// Feature maps: the stabilised form exp(s)·κ equals the textbook φ of docs/MATH.md, κ is bounded,
// and the softmax / softmax-hyp / trig estimators are unbiased for exp(qᵀk/√d).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawProjection, featureCount, featureRow, FEATURE_MAPS, type FeatureMap } from '../src/index.js';
import { meanAndSE, randn, setRowNorms } from './helpers/data.js';
import { phi64, relativeError } from './helpers/float64-reference.js';

/** φ(x) = exp(s)·κ computed with the library's featureRow, in float64. */
function libPhi(featureMap: FeatureMap, w: Float32Array, m: number, d: number, x: Float32Array): { phi: Float64Array; s: number; kappa: Float32Array } {
  const kappa = new Float32Array(featureCount(featureMap, m));
  const s = featureRow(featureMap, w, m, d, x, 0, kappa, 0, new Float64Array(m));
  return { phi: Float64Array.from(kappa, (c) => Math.exp(s) * c), s, kappa };
}

function libEstimate(featureMap: FeatureMap, w: Float32Array, m: number, d: number, q: Float32Array, k: Float32Array): number {
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m);
  const kq = new Float32Array(mf), kk = new Float32Array(mf);
  const sq = featureRow(featureMap, w, m, d, q, 0, kq, 0, u);
  const sk = featureRow(featureMap, w, m, d, k, 0, kk, 0, u);
  let p = 0;
  for (let l = 0; l < mf; l++) p += kq[l]! * kk[l]!;
  return Math.exp(sq + sk) * p;
}

test('FEATURE_MAPS and featureCount', () => {
  assert.deepEqual([...FEATURE_MAPS].sort(), ['relu', 'softmax', 'softmax-hyp', 'trig']);
  assert.equal(featureCount('softmax', 7), 7);
  assert.equal(featureCount('relu', 7), 7);
  assert.equal(featureCount('softmax-hyp', 7), 14);
  assert.equal(featureCount('trig', 7), 14);
});

test('exp(s)·κ from featureRow equals the textbook φ(x) (float64 reference) for every featureMap', () => {
  const d = 16, m = 40;
  const W = drawProjection({ features: m, dim: d, seed: 1 });
  for (const norm of [0.1, 1, 3, 10]) {
    const X = setRowNorms(randn([6, d], 17), norm);
    for (let r = 0; r < 6; r++) {
      const x = X.data.subarray(r * d, (r + 1) * d);
      for (const featureMap of FEATURE_MAPS) {
        const { phi } = libPhi(featureMap, W.data, m, d, x);
        const ref = phi64(featureMap, W.data, m, d, x);
        const err = relativeError(phi, ref);
        assert.ok(err < 1e-6, `${featureMap}, ‖x‖=${norm}: relative error ${err}`);
      }
    }
  }
  // The reference is not trivially agreeable: softmax without the −‖x̂‖²/2 term is a different φ.
  const x = setRowNorms(randn([1, d], 2), 3).data;
  const wrong = phi64('softmax', W.data, m, d, x).map((p) => p * Math.exp(Math.sqrt(d) ** -1 * 9 / 2));
  assert.ok(relativeError(libPhi('softmax', W.data, m, d, x).phi, wrong) > 0.5, 'a wrong φ is detected');
});

test('featureRow reads and writes only its own row slices and uses x̂ = x·d^(-1/4)', () => {
  const d = 4, m = 6;
  const W = drawProjection({ features: m, dim: d, kind: 'iid', seed: 2 });
  const src = randn([3, d], 5).data;
  for (const featureMap of FEATURE_MAPS) {
    const mf = featureCount(featureMap, m);
    const dst = new Float32Array(3 * mf).fill(-7);
    const s = featureRow(featureMap, W.data, m, d, src, d, dst, mf, new Float64Array(m));
    assert.ok(dst.subarray(0, mf).every((x) => x === -7) && dst.subarray(2 * mf).every((x) => x === -7), `${featureMap}: wrote outside its slice`);
    const ref = phi64(featureMap, W.data, m, d, src, d);
    const got = Float64Array.from(dst.subarray(mf, 2 * mf), (c) => Math.exp(s) * c);
    assert.ok(relativeError(got, ref) < 1e-6, `${featureMap}: φ of the row at offset d`);
  }
  // Scale check by hand, softmax with m = 1, d = 4: φ = exp(w·x/√2 − ‖x‖²/4).
  const w1 = Float32Array.from([1, 0, 0, 0]);
  const x = Float32Array.from([2, 0, 0, 0]);
  const { phi } = libPhi('softmax', w1, 1, 4, x);
  assert.ok(Math.abs(phi[0]! - Math.exp(2 / Math.SQRT2 - 1)) < 1e-6, `φ = ${phi[0]}`);
});

test('κ is bounded and s carries the scale, even for ‖x‖ = 100', () => {
  const d = 16, m = 32;
  const W = drawProjection({ features: m, dim: d, seed: 4 });
  for (const norm of [0.5, 5, 100]) {
    const x = setRowNorms(randn([1, d], 3), norm).data;
    let half = 0; // ‖x̂‖²/2 of the stored float32 x
    for (let c = 0; c < d; c++) half += x[c]! ** 2 / Math.sqrt(d) / 2;
    for (const featureMap of FEATURE_MAPS) {
      const { s, kappa } = libPhi(featureMap, W.data, m, d, x);
      assert.ok(Number.isFinite(s), `${featureMap} ‖x‖=${norm}: s = ${s}`);
      assert.ok(kappa.every(Number.isFinite), `${featureMap} ‖x‖=${norm}: κ finite`);
      switch (featureMap) {
        case 'softmax':
          assert.equal(Math.max(...kappa), Math.fround(1 / Math.sqrt(m)));
          assert.ok(kappa.every((c) => c >= 0), `${featureMap}: κ ≥ 0`);
          break;
        case 'softmax-hyp':
          assert.equal(Math.max(...kappa), Math.fround(1 / Math.sqrt(2 * m)));
          assert.ok(kappa.every((c) => c >= 0), `${featureMap}: κ ≥ 0`);
          break;
        case 'trig':
          assert.ok(Math.abs(s - half) <= 1e-12 * half, `trig s = ${s}, ‖x̂‖²/2 = ${half}`);
          for (let l = 0; l < m; l++) {
            assert.ok(Math.abs(kappa[l]! ** 2 + kappa[m + l]! ** 2 - 1 / m) < 1e-6, 'sin² + cos² = 1');
          }
          break;
        case 'relu':
          assert.equal(s, 0);
          assert.ok(kappa.every((c) => c >= Math.fround(0.001)), 'relu: κ ≥ 0.001');
          break;
      }
    }
  }
});

// ---- Unbiasedness: E_W[φ(q)·φ(k)] = exp(qᵀk/√d) ----

const SEEDS = 400;

function unbiasedCase(featureMap: FeatureMap, kind: 'iid' | 'orthogonal', scaling: 'chi' | 'sqrt-d' = 'chi') {
  const d = 8, m = 16;
  const pairs: Array<{ q: Float32Array; k: Float32Array; exact: number; wrong: number }> = [];
  const Q = randn([3, d], 31, 0.45), K = randn([3, d], 32, 0.45);
  // Pair 2 has k close to q (large qᵀk), pair 1 k close to −q (small), pair 0 random.
  for (let c = 0; c < d; c++) {
    K.data[d + c] = -Q.data[d + c]! + 0.3 * K.data[d + c]!;
    K.data[2 * d + c] = Q.data[2 * d + c]! + 0.1 * K.data[2 * d + c]!;
  }
  for (let p = 0; p < 3; p++) {
    const q = Q.data.subarray(p * d, (p + 1) * d), k = K.data.subarray(p * d, (p + 1) * d);
    let qk = 0;
    for (let c = 0; c < d; c++) qk += q[c]! * k[c]!;
    // `wrong` drops the 1/√d temperature: an estimator of that would be biased by this much.
    pairs.push({ q, k, exact: Math.exp(qk / Math.sqrt(d)), wrong: Math.exp(qk) });
  }
  const samples = pairs.map(() => new Float64Array(SEEDS));
  for (let seed = 0; seed < SEEDS; seed++) {
    const W = drawProjection({ features: m, dim: d, kind, scaling, seed: 1000 + seed });
    pairs.forEach((p, i) => { samples[i]![seed] = libEstimate(featureMap, W.data, m, d, p.q, p.k); });
  }
  return pairs.map((p, i) => ({ ...p, ...meanAndSE(samples[i]!) }));
}

for (const featureMap of ['softmax', 'softmax-hyp', 'trig'] as const) {
  for (const kind of ['iid', 'orthogonal'] as const) {
    test(`unbiased: mean over ${SEEDS} seeds of φ(q)·φ(k) → exp(qᵀk/√d) (${featureMap}, ${kind})`, () => {
      for (const [i, r] of unbiasedCase(featureMap, kind).entries()) {
        const tol = 4 * r.se + 1e-6 * r.exact;
        assert.ok(Math.abs(r.mean - r.exact) < tol,
          `pair ${i}: mean ${r.mean} ± ${r.se}, exact ${r.exact}`);
        // The test has the power to see a wrong temperature.
        assert.ok(Math.abs(r.mean - r.wrong) > 4 * r.se + 1e-6 * r.exact,
          `pair ${i}: cannot tell exp(qᵀk/√d) = ${r.exact} from exp(qᵀk) = ${r.wrong} (se ${r.se})`);
        assert.ok(r.se > 0, 'the estimate varies with the seed');
      }
    });
  }
}

test('orthogonal features reduce the variance of the softmax estimator (Performer Thm. 2)', () => {
  const iid = unbiasedCase('softmax', 'iid');
  const ort = unbiasedCase('softmax', 'orthogonal');
  // Compare the summed variances over the three pairs; the reduction here is large (m = 2d).
  const vIid = iid.reduce((s, r) => s + r.sd ** 2, 0);
  const vOrt = ort.reduce((s, r) => s + r.sd ** 2, 0);
  assert.ok(vOrt < 0.9 * vIid, `orthogonal variance ${vOrt} vs iid ${vIid}`);
});

test('the unbiasedness check has power: √d row norms (not χ_d) give a detectable bias', () => {
  // With every row of norm exactly √d the rows are no longer N(0, I) and E[φ(q)·φ(k)] ≠ exp(qᵀk/√d).
  const rs = unbiasedCase('softmax-hyp', 'orthogonal', 'sqrt-d');
  const z = rs.map((r) => Math.abs(r.mean - r.exact) / r.se);
  assert.ok(Math.max(...z) > 4, `largest |z| ${Math.max(...z)} should flag the bias`);
});
