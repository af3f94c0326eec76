// Vectorised exp(x) for float32 (docs/MATH.md feature maps and online softmax).
// x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), exp(r) by the Cephes degree-6
// polynomial (≈1 ulp), and 2^n added straight into the exponent bits.
import { madd } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // few mantissa bits: n·LN2_HI is exact
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;
// Below this the result is under FLT_MIN (and would need a denormal exponent): return 0.
// Chosen a hair above ln(FLT_MIN) = −87.33655 so that every input kept has n ≥ −126 and r > 0
// whenever n = −126, i.e. the exponent-bit addition never leaves the normal range.
const UNDERFLOW: f32 = -87.336;
const OVERFLOW: f32 = 88.72283; // ln(FLT_MAX)

/** exp of each lane; large negative → 0, x > ln(FLT_MAX) → +∞, NaN → NaN. */
export function expv(x: v128): v128 {
  // Clamp first so n fits comfortably in an exponent; out-of-range lanes are fixed at the end.
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-88.0)), f32x4.splat(88.8));
  const fx = f32x4.nearest(f32x4.mul(xc, f32x4.splat(LOG2E)));
  let r = madd(fx, f32x4.splat(-LN2_HI), xc);
  r = madd(fx, f32x4.splat(-LN2_LO), r);
  let p = madd(f32x4.splat(P0), r, f32x4.splat(P1));
  p = madd(p, r, f32x4.splat(P2));
  p = madd(p, r, f32x4.splat(P3));
  p = madd(p, r, f32x4.splat(P4));
  p = madd(p, r, f32x4.splat(P5));
  const y = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  const n = i32x4.trunc_sat_f32x4_s(fx);
  let res = i32x4.add(y, i32x4.shl(n, 23));
  res = v128.andnot(res, f32x4.lt(x, f32x4.splat(UNDERFLOW)));
  return v128.bitselect(f32x4.splat(Infinity), res, f32x4.gt(x, f32x4.splat(OVERFLOW)));
}

/** Scalar exp with exactly the vector routine's rounding. */
export function expf(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

/** dst[i] = exp(src[i] − shift)·factor over n floats; returns Σ dst[i]. */
export function expShifted(src: usize, dst: usize, n: i32, shift: f32, factor: f32): f32 {
  const sv = f32x4.splat(shift), fv = f32x4.splat(factor);
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const e = f32x4.mul(expv(f32x4.sub(v128.load(src + o), sv)), fv);
    v128.store(dst + o, e);
    acc = f32x4.add(acc, e);
  }
  let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) +
    f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const e = expf(load<f32>(src + o) - shift) * factor;
    store<f32>(dst + o, e);
    sum += e;
  }
  return sum;
}
