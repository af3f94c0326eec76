// Vectorised sin and cos for the trig kernel (docs/MATH.md: φ(x) ∝ [sin u, cos u]).
// q = round(x·2/π), r = x − q·π/2 with a three-part π/2 (exact for |q| < 2^12, i.e. |x| ≲ 6000),
// then the Cephes minimax polynomials on [−π/4, π/4] and a quadrant swap / sign flip.
import { madd } from './simd';

const TWO_OVER_PI: f32 = 0.636619772367581343;
const PIO2_1: f32 = 1.5703125;
const PIO2_2: f32 = 4.837512969970703125e-4;
const PIO2_3: f32 = 7.54978995489188216e-8;
const S1: f32 = -1.6666654611e-1;
const S2: f32 = 8.3321608736e-3;
const S3: f32 = -1.9515295891e-4;
const C1: f32 = 4.166664568298827e-2;
const C2: f32 = -1.388731625493765e-3;
const C3: f32 = 2.443315711809948e-5;

// @ts-ignore: decorator
@inline function sinCos(x: v128, factor: v128, dstSin: usize, dstCos: usize, count: i32): void {
  const q = f32x4.nearest(f32x4.mul(x, f32x4.splat(TWO_OVER_PI)));
  let r = madd(q, f32x4.splat(-PIO2_1), x);
  r = madd(q, f32x4.splat(-PIO2_2), r);
  r = madd(q, f32x4.splat(-PIO2_3), r);
  const z = f32x4.mul(r, r);
  let ps = madd(f32x4.splat(S3), z, f32x4.splat(S2));
  ps = madd(ps, z, f32x4.splat(S1));
  const sinR = madd(f32x4.mul(ps, z), r, r);
  let pc = madd(f32x4.splat(C3), z, f32x4.splat(C2));
  pc = madd(pc, z, f32x4.splat(C1));
  const cosR = madd(f32x4.mul(pc, z), z, madd(z, f32x4.splat(-0.5), f32x4.splat(1)));
  const qi = i32x4.trunc_sat_f32x4_s(q);
  // Odd quadrants swap sin and cos; sin is negated in quadrants 2, 3 and cos in 1, 2 (mod 4).
  const swap = i32x4.eq(v128.and(qi, i32x4.splat(1)), i32x4.splat(1));
  const sinSign = i32x4.shl(v128.and(qi, i32x4.splat(2)), 30);
  const cosSign = i32x4.shl(v128.and(i32x4.add(qi, i32x4.splat(1)), i32x4.splat(2)), 30);
  const s = v128.xor(v128.bitselect(cosR, sinR, swap), sinSign);
  const c = v128.xor(v128.bitselect(sinR, cosR, swap), cosSign);
  storeLanes(dstSin, f32x4.mul(s, factor), count);
  storeLanes(dstCos, f32x4.mul(c, factor), count);
}

// @ts-ignore: decorator
@inline function storeLanes(dst: usize, v: v128, count: i32): void {
  if (count == 4) {
    v128.store(dst, v);
  } else {
    store<f32>(dst, f32x4.extract_lane(v, 0));
    if (count > 1) store<f32>(dst, f32x4.extract_lane(v, 1), 4);
    if (count > 2) store<f32>(dst, f32x4.extract_lane(v, 2), 8);
  }
}

/** dstSin[i] = factor·sin(src[i]), dstCos[i] = factor·cos(src[i]) over n floats.
 *  dstSin may alias src (each group of four is read before it is written). */
export function sinCosRow(src: usize, n: i32, factor: f32, dstSin: usize, dstCos: usize): void {
  const fv = f32x4.splat(factor);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    sinCos(v128.load(src + o), fv, dstSin + o, dstCos + o, 4);
  }
  const t = n - i;
  if (t > 0) {
    // Tail of 1–3 values: gather into one vector (without reading past the row), store only those.
    const p = src + (<usize>i << 2);
    let x = f32x4.splat(load<f32>(p));
    if (t > 1) x = f32x4.replace_lane(x, 1, load<f32>(p, 4));
    if (t > 2) x = f32x4.replace_lane(x, 2, load<f32>(p, 8));
    sinCos(x, fv, dstSin + (<usize>i << 2), dstCos + (<usize>i << 2), t);
  }
}
