// The random projection W [m, d]: orthogonal blocks (Haar), χ_d or √d row norms, iid Gaussian.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawProjection } from '../src/index.js';
import { haarOrthogonal } from '../src/favor/projection.js';
import { meanAndSE, TestRandom } from './helpers/data.js';

function row(w: Float32Array, d: number, i: number): Float64Array {
  return Float64Array.from(w.subarray(i * d, (i + 1) * d));
}
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** max |G − target·I| over the Gram matrix of rows [r0, r1) (rows optionally normalised). */
function gramError(w: Float32Array, d: number, r0: number, r1: number, target: number, normalise = false): number {
  const rows: Float64Array[] = [];
  for (let i = r0; i < r1; i++) {
    const r = row(w, d, i);
    if (normalise) {
      const n = norm(r);
      for (let c = 0; c < d; c++) r[c] = r[c]! / n;
    }
    rows.push(r);
  }
  let err = 0;
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < rows.length; j++) err = Math.max(err, Math.abs(dot(rows[i]!, rows[j]!) - (i === j ? target : 0)));
  }
  return err;
}

test('orthogonal + sqrt-d: every d×d block has W_b W_bᵀ = d·I (also the partial last block)', () => {
  for (const [m, d] of [[16, 16], [53, 16], [10, 4], [3, 8], [7, 1]] as const) {
    const W = drawProjection({ features: m, dim: d, kind: 'orthogonal', scaling: 'sqrt-d', seed: 5 });
    assert.deepEqual(W.shape, [m, d]);
    assert.ok(W.data instanceof Float32Array, 'W is float32');
    for (let r0 = 0; r0 < m; r0 += d) {
      const r1 = Math.min(m, r0 + d);
      const err = gramError(W.data, d, r0, r1, d);
      // Tolerance 1e-5 relative to the diagonal value d (float32 storage of the entries).
      assert.ok(err <= 1e-5 * d, `m=${m} d=${d} block at ${r0}: max |W_b W_bᵀ − dI| = ${err}`);
    }
  }
});

test('orthogonal: different blocks are independent draws, not copies or mutually orthogonal', () => {
  const d = 8;
  const W = drawProjection({ features: 4 * d, dim: d, scaling: 'sqrt-d', seed: 1 });
  // Over all cross-block pairs, |cos| would be ~0 if all rows were mutually orthogonal (impossible
  // for m > d) and 1 for repeated blocks; independent Haar rows give E[cos²] = 1/d.
  let sumCos2 = 0, pairs = 0, maxCos = 0;
  for (let i = 0; i < 4 * d; i++) {
    for (let j = 0; j < 4 * d; j++) {
      if (Math.floor(i / d) === Math.floor(j / d)) continue;
      const c = dot(row(W.data, d, i), row(W.data, d, j)) / d;
      sumCos2 += c * c;
      maxCos = Math.max(maxCos, Math.abs(c));
      pairs++;
    }
  }
  assert.ok(maxCos < 0.999, 'no row is repeated in another block');
  assert.ok(sumCos2 / pairs > 0.3 / d && sumCos2 / pairs < 3 / d, `mean cos² across blocks ${sumCos2 / pairs}`);
});

test('orthogonal + chi (default): directions orthonormal within a block, norms are χ_d samples', () => {
  const d = 8, m = 800;
  const W = drawProjection({ features: m, dim: d, seed: 3 }); // defaults: orthogonal, chi
  for (let r0 = 0; r0 < m; r0 += d) {
    const err = gramError(W.data, d, r0, Math.min(m, r0 + d), 1, true);
    assert.ok(err < 1e-6, `block at ${r0}: normalised Gram error ${err}`);
  }
  const sq = new Float64Array(m);
  const norms = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    norms[i] = norm(row(W.data, d, i));
    sq[i] = norms[i]! ** 2;
  }
  // ‖w‖² ~ χ²_d: mean d, variance 2d.
  const { mean } = meanAndSE(sq);
  assert.ok(Math.abs(mean - d) < 4 * Math.sqrt(2 * d / m), `mean squared norm ${mean}`);
  const { sd } = meanAndSE(sq);
  assert.ok(Math.abs(sd * sd - 2 * d) < 0.35 * 2 * d, `variance of squared norm ${sd * sd}`);
  // Norms vary within a block (not all √d as with sqrt-d).
  const first = Array.from(norms.subarray(0, d));
  assert.ok(Math.max(...first) - Math.min(...first) > 0.1, `norms in block 0: ${first}`);
});

test('iid: standard Gaussian entries, rows not orthogonal', () => {
  const m = 500, d = 16;
  const W = drawProjection({ features: m, dim: d, kind: 'iid', seed: 11 });
  assert.deepEqual(W.shape, [m, d]);
  const { mean, sd } = meanAndSE(W.data);
  const n = m * d;
  assert.ok(Math.abs(mean) < 4 / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(sd * sd - 1) < 4 * Math.sqrt(2 / n), `variance ${sd * sd}`);
  // Within the first "block" the rows are far from orthogonal, unlike the orthogonal kind.
  assert.ok(gramError(W.data, d, 0, d, 1, true) > 0.2, 'iid rows are not orthogonal');
  // The scaling option does not apply to iid (documented: every entry standard Gaussian).
  const W2 = drawProjection({ features: m, dim: d, kind: 'iid', scaling: 'sqrt-d', seed: 11 });
  assert.deepEqual(W2.data, W.data);
});

test('same options and seed give the same W; another seed gives a different W', () => {
  for (const kind of ['orthogonal', 'iid'] as const) {
    for (const scaling of ['chi', 'sqrt-d'] as const) {
      const a = drawProjection({ features: 37, dim: 8, kind, scaling, seed: 99 });
      const b = drawProjection({ features: 37, dim: 8, kind, scaling, seed: 99 });
      const c = drawProjection({ features: 37, dim: 8, kind, scaling, seed: 100 });
      assert.deepEqual(a.data, b.data, `${kind}/${scaling} reproducible`);
      let diff = 0;
      for (let i = 0; i < a.data.length; i++) diff = Math.max(diff, Math.abs(a.data[i]! - c.data[i]!));
      assert.ok(diff > 0.1, `${kind}/${scaling}: new seed changes W (max diff ${diff})`);
    }
  }
  // Default seed is 0 and is deterministic.
  assert.deepEqual(drawProjection({ features: 9, dim: 4 }).data, drawProjection({ features: 9, dim: 4, seed: 0 }).data);
});

test('bad options throw with a message naming the option', () => {
  const ok = { features: 8, dim: 4 };
  assert.throws(() => drawProjection({ ...ok, features: 0 }), /features must be a positive integer/);
  assert.throws(() => drawProjection({ ...ok, features: -3 }), /features/);
  assert.throws(() => drawProjection({ ...ok, features: 2.5 }), /features/);
  assert.throws(() => drawProjection({ ...ok, features: NaN }), /features/);
  assert.throws(() => drawProjection({ ...ok, dim: 0 }), /dim must be a positive integer/);
  assert.throws(() => drawProjection({ ...ok, dim: 1.5 }), /dim/);
  assert.throws(() => drawProjection({ ...ok, kind: 'gaussian' as never }), /unknown projection kind 'gaussian'/);
  assert.throws(() => drawProjection({ ...ok, scaling: 'unit' as never }), /unknown norm scaling 'unit'/);
  assert.throws(() => drawProjection({ ...ok, seed: -1 }), /seed/);
  assert.throws(() => drawProjection({ ...ok, seed: 0.5 }), /seed/);
});

// ---- Haar-ness of the orthogonal blocks ----

/** Householder QR WITHOUT the sign correction: the biased variant the library must not be. */
function householderQNoSignFix(a: Float64Array, n: number): Float64Array {
  const r = Float64Array.from(a);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let nrm = 0;
    for (let i = k; i < n; i++) nrm += r[i * n + k]! ** 2;
    nrm = Math.sqrt(nrm);
    const alpha = r[k * n + k]! > 0 ? -nrm : nrm;
    let vv = 0;
    for (let i = k; i < n; i++) {
      v[i] = r[i * n + k]! - (i === k ? alpha : 0);
      vv += v[i]! ** 2;
    }
    if (vv === 0) continue;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k; i < n; i++) s += v[i]! * r[i * n + j]!;
      for (let i = k; i < n; i++) r[i * n + j] = r[i * n + j]! - (2 * s / vv) * v[i]!;
    }
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = k; j < n; j++) s += q[i * n + j]! * v[j]!;
      for (let j = k; j < n; j++) q[i * n + j] = q[i * n + j]! - (2 * s / vv) * v[j]!;
    }
  }
  return q;
}

function gaussian(n: number, seed: number): Float64Array {
  const r = new TestRandom(seed);
  return Float64Array.from({ length: n * n }, () => r.normal());
}

test('haarOrthogonal returns the QR factor Q whose R = QᵀA has a positive diagonal', () => {
  // QR with diag(R) > 0 is unique, and for Gaussian A that Q is Haar (Mezzadri 2007).
  for (const n of [1, 2, 5, 16]) {
    for (let seed = 0; seed < 5; seed++) {
      const a = gaussian(n, 1000 * n + seed);
      const q = haarOrthogonal(a, n);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let qtq = 0, r = 0;
          for (let t = 0; t < n; t++) {
            qtq += q[t * n + i]! * q[t * n + j]!;
            r += q[t * n + i]! * a[t * n + j]!; // R = QᵀA
          }
          assert.ok(Math.abs(qtq - (i === j ? 1 : 0)) < 1e-12, `n=${n}: QᵀQ[${i},${j}] = ${qtq}`);
          if (i > j) assert.ok(Math.abs(r) < 1e-10, `n=${n}: R[${i},${j}] = ${r} below the diagonal`);
          if (i === j) assert.ok(r > 0, `n=${n}: R[${i},${i}] = ${r} must be positive`);
        }
      }
    }
  }
  // Sanity check of the check: without the sign fix some diagonal entries of R are negative.
  const a = gaussian(5, 77);
  const q = householderQNoSignFix(a, 5);
  let negatives = 0;
  for (let i = 0; i < 5; i++) {
    let r = 0;
    for (let t = 0; t < 5; t++) r += q[t * 5 + i]! * a[t * 5 + i]!;
    if (r < 0) negatives++;
  }
  assert.ok(negatives > 0, 'the unfixed QR has a negative R diagonal entry');
});

test('Haar statistics: E[Q_ii] = 0 and E[Q_ij²] = 1/d over many blocks (the sign fix matters)', () => {
  const d = 4, blocks = 1500;
  const W = drawProjection({ features: d * blocks, dim: d, scaling: 'sqrt-d', seed: 2021 });
  const diag: number[] = [];
  const sq: number[] = [];
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < d; i++) {
      diag.push(W.data[(b * d + i) * d + i]! / Math.sqrt(d));
      for (let j = 0; j < d; j++) sq.push((W.data[(b * d + i) * d + j]! / Math.sqrt(d)) ** 2);
    }
  }
  const dm = meanAndSE(diag);
  assert.ok(Math.abs(dm.mean) < 4 * dm.se, `mean diagonal ${dm.mean} ± ${dm.se}`);
  const sm = meanAndSE(sq);
  assert.ok(Math.abs(sm.mean - 1 / d) < 4 * sm.se + 1e-9, `mean square ${sm.mean} vs ${1 / d}`);
  // d = 1: O(1) = {±1}, Haar means each sign with probability 1/2 (the unfixed QR always gives −1).
  const W1 = drawProjection({ features: 400, dim: 1, scaling: 'sqrt-d', seed: 8 });
  const plus = Array.from(W1.data).filter((x) => x === 1).length;
  const minus = Array.from(W1.data).filter((x) => x === -1).length;
  assert.equal(plus + minus, 400);
  assert.ok(Math.abs(plus - 200) < 4 * 10, `${plus} of 400 are +1`);
  // The same statistic detects the unfixed Householder Q (its Q_00 is always negative).
  const biased: number[] = [];
  for (let b = 0; b < 300; b++) {
    const q = householderQNoSignFix(gaussian(d, 50000 + b), d);
    for (let i = 0; i < d; i++) biased.push(q[i * d + i]!);
  }
  const bm = meanAndSE(biased);
  assert.ok(Math.abs(bm.mean) > 4 * bm.se, `unfixed QR mean diagonal ${bm.mean} ± ${bm.se} should look biased`);
});
