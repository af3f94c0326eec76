// Vectorised exp(x) for float32 (docs/MATH.md feature maps and online softmax).
// x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite split of ln2), exp(r) by the Cephes degree-6
// polynomial (≈1 ulp), and 2^n added straight into the exponent bits. n is rounded with the
// 1.5·2^23 trick: adding it leaves round(x·log2e) in the low mantissa bits, which saves the
// float→int conversion (several instructions for the saturating wasm form on x86).
import { madd } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const ROUNDER: f32 = 12582912.0; // 1.5·2^23
const ROUNDER_BITS: i32 = 0x4b400000;
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

/** exp of each lane for x ≤ ln(FLT_MAX) (every hot loop here: arguments are ≤ 0 by
 *  construction); x < −87.336 → 0, also −∞. Larger x give garbage: use expv. Under-range lanes
 *  compute garbage first and are zeroed by the final select. */
// @ts-ignore: decorator
@inline export function expBounded(x: v128): v128 {
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(ROUNDER));
  const fx = f32x4.sub(t, f32x4.splat(ROUNDER)); // round(x·log2e) as a float
  let r = madd(fx, f32x4.splat(-LN2_HI), x);
  r = madd(fx, f32x4.splat(-LN2_LO), r);
  let p = madd(f32x4.splat(P0), r, f32x4.splat(P1));
  p = madd(p, r, f32x4.splat(P2));
  p = madd(p, r, f32x4.splat(P3));
  p = madd(p, r, f32x4.splat(P4));
  p = madd(p, r, f32x4.splat(P5));
  const y = madd(p, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  const n = i32x4.sub(t, i32x4.splat(ROUNDER_BITS)); // round(x·log2e) as an integer
  return v128.andnot(i32x4.add(y, i32x4.shl(n, 23)), f32x4.lt(x, f32x4.splat(UNDERFLOW)));
}

/** exp of each lane over the whole range: also x > ln(FLT_MAX) → +∞; NaN → NaN. */
export function expv(x: v128): v128 {
  return v128.bitselect(f32x4.splat(Infinity), expBounded(x), f32x4.gt(x, f32x4.splat(OVERFLOW)));
}

/** Scalar exp with exactly the vector routine's rounding. */
export function expf(x: f32): f32 {
  return f32x4.extract_lane(expv(f32x4.splat(x)), 0);
}

/** dst[i] = exp(src[i] − shift) over n floats, all src[i] − shift ≤ ln(FLT_MAX); dst may be src.
 *  When acc ≠ 0 also acc[i] += dst[i] (the z sum of a key chunk, fused to save a pass). */
export function expRow(src: usize, dst: usize, n: i32, shift: f32, acc: usize): void {
  const sv = f32x4.splat(shift);
  let i = 0;
  if (acc == 0) {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(dst + o, expBounded(f32x4.sub(v128.load(src + o), sv)));
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      const e = expBounded(f32x4.sub(v128.load(src + o), sv));
      v128.store(dst + o, e);
      v128.store(acc + o, f32x4.add(v128.load(acc + o), e));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const e = expf(load<f32>(src + o) - shift);
    store<f32>(dst + o, e);
    if (acc != 0) store<f32>(acc + o, load<f32>(acc + o) + e);
  }
}
