// GELU (tanh approximation) and inverted dropout, forward and backward, one task item per block
// of POINT_BLOCK elements. Every element goes through the same vector routine (tails via a
// splatted lane), so results do not depend on the block size or the thread count.
//
// GELU: y = ½x(1 + tanh(u)), u = c(x + 0.044715x³). Since 1 + tanh(u) = 2σ(2u) = 2/(1 + e^(−2u)),
// y = x/(1 + e^(−2u)): one vector exp and one division, and no cancellation where tanh(u) → −1
// (x ≪ 0), which the tanh form would lose entirely in float32.
// dy/dx = σ + x·σ(1 − σ)·2c(1 + 3·0.044715x²), σ = σ(2u), with 1 − σ = σ·e^(−2u) where e^(−2u) < 1
// (x > 0: 1 − σ itself would cancel) and 1 − σ directly elsewhere (e^(−2u) may be +∞ there).
import * as L from '../generated/layout';
import { word, addr, real } from './desc';
import { madd } from './simd';
import { expv } from './exp';

const C2: f32 = 1.5957691216057308; // 2c, c = √(2/π)
const C2A: f32 = 0.0713548162726; // 2c·0.044715
const C6A: f32 = 0.2140644488178; // 6c·0.044715
// x² capped so that 2c(1 + 3·0.044715x²) stays finite: beyond it σ(1 − σ) is exactly 0, and 0·∞ would be NaN.
const X2_CAP: f32 = 1e30;

// @ts-ignore: decorator
@inline function sigma(x: v128, x2: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), expv(f32x4.neg(f32x4.mul(x, madd(f32x4.splat(C2A), x2, f32x4.splat(C2)))))));
}

// @ts-ignore: decorator
@inline function geluV(x: v128): v128 {
  return f32x4.mul(x, sigma(x, f32x4.mul(x, x)));
}

// @ts-ignore: decorator
@inline function geluGradV(x: v128): v128 {
  const x2 = f32x4.pmin(f32x4.mul(x, x), f32x4.splat(X2_CAP));
  const u2 = f32x4.mul(x, madd(f32x4.splat(C2A), x2, f32x4.splat(C2)));
  const e = expv(f32x4.neg(u2));
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  const one = f32x4.splat(1);
  const oneMinusS = v128.bitselect(f32x4.mul(s, e), f32x4.sub(one, s), f32x4.lt(e, one));
  return madd(f32x4.mul(f32x4.mul(s, oneMinusS), x), madd(f32x4.splat(C6A), x2, f32x4.splat(C2)), s);
}

/** The item's element range [start, end) (start is a multiple of 4). */
// @ts-ignore: decorator
@inline function blockStart(desc: usize, item: i32): i32 {
  return item * word(desc, L.POINT_BLOCK);
}

// @ts-ignore: decorator
@inline function blockEnd(desc: usize, item: i32): i32 {
  return min(word(desc, L.POINT_N), (item + 1) * word(desc, L.POINT_BLOCK));
}

/** Task: y = GELU(x) over one block. */
export function geluForward(desc: usize, item: i32, tid: i32): void {
  const x = addr(desc, L.POINT_X), y = addr(desc, L.POINT_OUT);
  const end = blockEnd(desc, item);
  let i = blockStart(desc, item);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, geluV(v128.load(x + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, f32x4.extract_lane(geluV(f32x4.splat(load<f32>(x + o))), 0));
  }
}

/** Task: dx += dy·GELU′(x) over one block: differentiates (G1) of docs/MATH.md,
 *  y = ½x(1 + tanh(c(x + 0.044715x³))), by (G2). */
export function geluBackward(desc: usize, item: i32, tid: i32): void {
  const x = addr(desc, L.POINT_X), dy = addr(desc, L.POINT_DY), dx = addr(desc, L.POINT_OUT);
  const end = blockEnd(desc, item);
  let i = blockStart(desc, item);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, madd(v128.load(dy + o), geluGradV(v128.load(x + o)), v128.load(dx + o)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const d = f32x4.extract_lane(geluGradV(f32x4.splat(load<f32>(x + o))), 0);
    store<f32>(dx + o, f32x4.extract_lane(madd(f32x4.splat(load<f32>(dy + o)), f32x4.splat(d), f32x4.splat(load<f32>(dx + o))), 0));
  }
}

/** All-ones lanes where the mask byte is non-zero, for 4 mask bytes at p. */
// @ts-ignore: decorator
@inline function keepLanes(p: usize): v128 {
  const m = i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p)));
  return i32x4.ne(m, i32x4.splat(0));
}

/** Task: y = x·scale where kept, +0 where dropped, over one block. */
export function dropoutForward(desc: usize, item: i32, tid: i32): void {
  const x = addr(desc, L.POINT_X), y = addr(desc, L.POINT_OUT), mask = addr(desc, L.POINT_MASK);
  const s = real(desc, L.POINT_SCALE_F32), sv = f32x4.splat(s);
  const end = blockEnd(desc, item);
  let i = blockStart(desc, item);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, v128.and(f32x4.mul(v128.load(x + o), sv), keepLanes(mask + <usize>i)));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<u8>(mask + <usize>i) != 0 ? load<f32>(x + o) * s : 0);
  }
}

/** Task: dx += dy·scale where kept, over one block: differentiates (D1) of docs/MATH.md,
 *  y = x·scale where mask = 1, by (D2). */
export function dropoutBackward(desc: usize, item: i32, tid: i32): void {
  const dy = addr(desc, L.POINT_X), dx = addr(desc, L.POINT_OUT), mask = addr(desc, L.POINT_MASK);
  const s = real(desc, L.POINT_SCALE_F32), sv = f32x4.splat(s);
  const end = blockEnd(desc, item);
  let i = blockStart(desc, item);
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const dxv = v128.and(f32x4.mul(v128.load(dy + o), sv), keepLanes(mask + <usize>i));
    v128.store(dx + o, f32x4.add(v128.load(dx + o), dxv));
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    if (load<u8>(mask + <usize>i) != 0) store<f32>(dx + o, load<f32>(dx + o) + load<f32>(dy + o) * s);
  }
}
