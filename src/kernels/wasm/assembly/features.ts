// Feature maps in the stabilised form of docs/MATH.md: φ(x) = exp(s(x))·κ(x), computed in place
// on a projected row u = W·x̂ (first m floats of a row with room for m' floats).
import { FEATURE_MAP_SOFTMAX, FEATURE_MAP_SOFTMAX_HYP, FEATURE_MAP_TRIG } from '../generated/layout';
import { maxOf, maxAbsOf, madd, axpy } from './simd';
import { expf, expRow, expBounded } from './exp';
import { sinCosRow } from './trig';

/** Features per row m' (docs/MATH.md table). */
export function featureCount(featureMap: i32, m: i32): i32 {
  return featureMap == FEATURE_MAP_SOFTMAX_HYP || featureMap == FEATURE_MAP_TRIG ? 2 * m : m;
}

/** s(x) for a projected row u with h = ‖x̂‖²/2 ("Stabilised factorisation" table). */
export function logWeight(featureMap: i32, u: usize, m: i32, h: f32): f32 {
  if (featureMap == FEATURE_MAP_SOFTMAX) return maxOf(u, m) - h;
  if (featureMap == FEATURE_MAP_SOFTMAX_HYP) return maxAbsOf(u, m) - h;
  if (featureMap == FEATURE_MAP_TRIG) return h;
  return 0; // relu
}

/** Overwrites the row with exp(s(x) − shift)·κ(x), m' floats, and adds it to acc (m' floats)
 *  unless acc = 0. shift = s(x) gives κ(x) = ρ(x) (queries); shift = M ≥ s(x) gives ω·κ(x) for a
 *  key (MATH.md, "Keys"), acc then being z. logNorm = ln √m (softmax) or ln √(2m) (softmax-hyp);
 *  invSqrtM = 1/√m (trig). For softmax the product collapses to exp(u − h − shift)/√m, so s(x)
 *  itself is not needed; every exp argument is ≤ −logNorm ≤ 0. */
export function writeFeatures(featureMap: i32, row: usize, m: i32, h: f32, shift: f32, logNorm: f32, invSqrtM: f32,
  acc: usize): void {
  if (featureMap == FEATURE_MAP_SOFTMAX) {
    expRow(row, row, m, h + shift + logNorm, acc);
    return;
  }
  if (featureMap == FEATURE_MAP_SOFTMAX_HYP) hypFeatures(row, m, h + shift + logNorm);
  else if (featureMap == FEATURE_MAP_TRIG) sinCosRow(row, m, expf(h - shift) * invSqrtM, row, row + (<usize>m << 2));
  else reluFeatures(row, m, expf(-shift));
  if (acc != 0) axpy(acc, row, featureCount(featureMap, m), 1);
}

/** [exp(u − c), exp(−u − c)] with c ≥ max|u|: the second half is written behind the first,
 *  reading u first. */
function hypFeatures(row: usize, m: i32, c: f32): void {
  const cv = f32x4.splat(c);
  const second = row + (<usize>m << 2);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const o = <usize>i << 2;
    const u = v128.load(row + o);
    v128.store(row + o, expBounded(f32x4.sub(u, cv)));
    v128.store(second + o, expBounded(f32x4.sub(f32x4.neg(u), cv)));
  }
  for (; i < m; i++) {
    const o = <usize>i << 2;
    const u = load<f32>(row + o);
    store<f32>(row + o, expf(u - c));
    store<f32>(second + o, expf(-u - c));
  }
}

/** w·(max(u, 0) + 0.001). */
function reluFeatures(row: usize, m: i32, w: f32): void {
  const wv = f32x4.splat(w), eps = f32x4.splat(0.001 * w), zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const p = row + (<usize>i << 2);
    v128.store(p, madd(f32x4.pmax(v128.load(p), zero), wv, eps));
  }
  for (; i < m; i++) {
    const p = row + (<usize>i << 2);
    store<f32>(p, max<f32>(load<f32>(p), 0) * w + 0.001 * w);
  }
}
