// FavorRecurrentState: step-by-step causal FAVOR+ with O(m'·Dv) state, equal to the chunked path.
// Error metric: max |a − b| / max |b| over the whole output (relativeError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drawProjection, favorAttention, FavorRecurrentState, FEATURE_MAPS, Tensor, type FeatureMap } from '../src/index.js';
import { randn, randomMask, setRowNorms } from './helpers/data.js';
import { allFinite, favorReference64, relativeError } from './helpers/float64-reference.js';

const B = 2, H = 3, d = 8, Dv = 5, m = 24;
const W = drawProjection({ features: m, dim: d, seed: 21 });

/** Row t of a [B, H, L, x] tensor as a [B, H, x] tensor. */
function at(t: Tensor, i: number): Tensor {
  const [b, h, L, x] = t.shape as [number, number, number, number];
  const out = new Tensor([b, h, x]);
  for (let bh = 0; bh < b * h; bh++) out.data.set(t.data.subarray((bh * L + i) * x, (bh * L + i + 1) * x), bh * x);
  return out;
}

/** Column t of a [B, L] mask as a [B] tensor. */
function maskAt(mask: Tensor, i: number): Tensor {
  const [b, L] = mask.shape as [number, number];
  return Tensor.from([b], Array.from({ length: b }, (_, r) => mask.data[r * L + i]!));
}

/** Runs the recurrence over the whole sequence; returns [B, H, L, Dv] and the state. */
function runRecurrent(featureMap: FeatureMap, q: Tensor, k: Tensor, v: Tensor, keyMask?: Tensor, state?: FavorRecurrentState) {
  const L = q.shape[2]!;
  const st = state ?? new FavorRecurrentState({ batch: B, heads: H, valueDim: Dv, projection: W, featureMap });
  const out = new Tensor([B, H, L, Dv]);
  const bytes: number[] = [];
  for (let i = 0; i < L; i++) {
    const o = st.step(at(q, i), at(k, i), at(v, i), keyMask ? maskAt(keyMask, i) : undefined);
    assert.deepEqual(o.shape, [B, H, Dv]);
    for (let bh = 0; bh < B * H; bh++) out.data.set(o.data.subarray(bh * Dv, (bh + 1) * Dv), (bh * L + i) * Dv);
    bytes.push(st.stateBytes);
  }
  return { out, st, bytes };
}

function inputs(L: number, seed: number, std = 0.5) {
  return { q: randn([B, H, L, d], seed, std), k: randn([B, H, L, d], seed + 1, std), v: randn([B, H, L, Dv], seed + 2) };
}

for (const featureMap of FEATURE_MAPS) {
  test(`${featureMap}: step-by-step equals favorAttention(causal) and the float64 reference, with and without a mask`, () => {
    const L = 37;
    const { q, k, v } = inputs(L, 40);
    for (const keyMask of [undefined, randomMask(B, L, 41)]) {
      const { out } = runRecurrent(featureMap, q, k, v, keyMask);
      for (const chunk of [1, 7, 64]) {
        const chunked = favorAttention(q, k, v, { projection: W, featureMap, causal: true, keyMask, chunk });
        const err = relativeError(out.data, chunked.data);
        assert.ok(err <= 1e-5, `${featureMap} mask=${!!keyMask} chunk=${chunk}: recurrent vs chunked ${err}`);
      }
      const want = favorReference64({
        q: q.data, k: k.data, v: v.data, B, H, Lq: L, Lk: L, d, Dv, keyMask: keyMask?.data, causal: true,
        featureMap, w: W.data, m,
      });
      const err = relativeError(out.data, want);
      assert.ok(err <= (featureMap === 'trig' ? 1e-3 : 1e-4), `${featureMap} mask=${!!keyMask}: recurrent vs reference ${err}`);
      // Not trivially equal to the bidirectional answer.
      const bi = favorAttention(q, k, v, { projection: W, featureMap, keyMask });
      assert.ok(relativeError(out.data, bi.data) > 1e-2, `${featureMap}: recurrent looks bidirectional`);
    }
  });
}

test('large inputs (norms up to 100): finite and still equal to the chunked path', () => {
  const L = 25;
  const { q, k, v } = inputs(L, 50);
  setRowNorms(q, 100);
  setRowNorms(k, 100);
  for (let r = 1; r < q.data.length / d; r += 2) {
    for (let c = 0; c < d; c++) { q.data[r * d + c]! /= 50; k.data[r * d + c]! /= 50; }
  }
  const keyMask = randomMask(B, L, 51);
  for (const featureMap of FEATURE_MAPS) {
    const { out } = runRecurrent(featureMap, q, k, v, keyMask);
    assert.ok(allFinite(out.data), `${featureMap}: non-finite output`);
    const chunked = favorAttention(q, k, v, { projection: W, featureMap, causal: true, keyMask, chunk: 7 });
    const err = relativeError(out.data, chunked.data);
    assert.ok(err <= 1e-5, `${featureMap}: recurrent vs chunked ${err}`);
  }
});

test('stateBytes is fixed (O(B·H·m\'·Dv)) however long the sequence; length counts steps; reset restarts', () => {
  const L = 60;
  const { q, k, v } = inputs(L, 60);
  for (const featureMap of FEATURE_MAPS) {
    const st = new FavorRecurrentState({ batch: B, heads: H, valueDim: Dv, projection: W, featureMap });
    const mf = featureMap === 'softmax-hyp' || featureMap === 'trig' ? 2 * m : m;
    assert.equal(st.features, mf);
    const expected = st.stateBytes;
    assert.ok(expected > 0 && expected <= 8 * B * H * (mf * Dv + mf + 1), `${featureMap}: ${expected} bytes`);
    assert.equal(st.length, 0);
    const first = runRecurrent(featureMap, q, k, v, undefined, st);
    assert.ok(first.bytes.every((b) => b === expected), `${featureMap}: state grew: ${first.bytes.join(',')}`);
    assert.equal(st.length, L);
    st.reset();
    assert.equal(st.length, 0);
    assert.equal(st.stateBytes, expected);
    const second = runRecurrent(featureMap, q, k, v, undefined, st);
    assert.deepEqual(second.out.data, first.out.data, `${featureMap}: reset must forget the past`);
    // Without a reset the past keeps contributing (the check above can fail).
    const third = runRecurrent(featureMap, q, k, v, undefined, st);
    assert.ok(relativeError(third.out.data, first.out.data) > 1e-3, `${featureMap}: continuing differs from reset`);
  }
});

test('masked steps: the key is ignored, the query still gets an output; all-masked prefix gives zeros', () => {
  const L = 10;
  const { q, k, v } = inputs(L, 70);
  const keyMask = new Tensor([B, L]);
  keyMask.data.fill(1);
  for (let i = 0; i < 4; i++) keyMask.data[L + i] = 0; // batch 1: first 4 keys padded
  keyMask.data[6] = 0; // batch 0: key 6 padded
  for (const featureMap of FEATURE_MAPS) {
    const { out } = runRecurrent(featureMap, q, k, v, keyMask);
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < L; i++) {
        const row = out.data.subarray(((H + h) * L + i) * Dv, ((H + h) * L + i + 1) * Dv); // batch 1
        if (i < 4) assert.ok(row.every((x) => x === 0), `${featureMap}: batch 1 row ${i} has no key`);
        else assert.ok(row.some((x) => x !== 0), `${featureMap}: batch 1 row ${i} has keys`);
      }
    }
    // Changing the padded key's k, v does not change anything.
    const k2 = new Tensor(k.shape, Float32Array.from(k.data)), v2 = new Tensor(v.shape, Float32Array.from(v.data));
    for (let h = 0; h < H; h++) {
      for (let c = 0; c < d; c++) k2.data[(h * L + 6) * d + c] = 50;
      for (let e = 0; e < Dv; e++) v2.data[(h * L + 6) * Dv + e] = 1e6;
    }
    const again = runRecurrent(featureMap, q, k2, v2, keyMask).out;
    assert.ok(relativeError(again.data, out.data) < 1e-6, `${featureMap}: padded key leaked`);
  }
});

test('argument errors name the offending tensor or option', () => {
  const st = new FavorRecurrentState({ batch: B, heads: H, valueDim: Dv, projection: W });
  assert.equal(st.featureMap, 'softmax');
  assert.equal(st.dim, d);
  const q = new Tensor([B, H, d]), k = new Tensor([B, H, d]), v = new Tensor([B, H, Dv]);
  assert.doesNotThrow(() => st.step(q, k, v));
  assert.throws(() => st.step(new Tensor([B, H, d + 1]), k, v), /\bq must have shape \[2, 3, 8\], got \[2, 3, 9\]/);
  assert.throws(() => st.step(new Tensor([B, 1, H, d]), k, v), /\bq must have shape/);
  assert.throws(() => st.step(q, new Tensor([B + 1, H, d]), v), /\bk must have shape \[2, 3, 8\]/);
  assert.throws(() => st.step(q, k, new Tensor([B, H, d])), /\bv must have shape \[2, 3, 5\], got \[2, 3, 8\]/);
  assert.throws(() => st.step(q, k, v, new Tensor([B + 1])), /key mask must have shape \[2\], got \[3\]/);
  assert.throws(() => st.step(q, k, v, new Tensor([B, 1])), /key mask must have shape/);
  const base = { batch: B, heads: H, valueDim: Dv, projection: W };
  assert.throws(() => new FavorRecurrentState({ ...base, featureMap: 'nope' as FeatureMap }), /unknown feature map 'nope'/);
  assert.throws(() => new FavorRecurrentState({ ...base, batch: 0 }), /batch must be a positive integer/);
  assert.throws(() => new FavorRecurrentState({ ...base, heads: 1.5 }), /heads must be a positive integer/);
  assert.throws(() => new FavorRecurrentState({ ...base, valueDim: -1 }), /valueDim must be a positive integer/);
  assert.throws(() => new FavorRecurrentState({ ...base, projection: new Tensor([m * d]) }), /projection must have shape \[m, d\]/);
});
