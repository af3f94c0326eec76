// Small SIMD helpers shared by all kernels.

/** a·b + c. The relaxed build uses f32x4.relaxed_madd (one FMA on x86/ARM); the plain build mul+add.
 *  ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so each build contains only one branch. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** Largest lane (pmax is a single maxps; inputs here are never NaN in correct use). */
// @ts-ignore: decorator
@inline export function hmax(v: v128): f32 {
  const t = f32x4.pmax(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.pmax(t, v128.shuffle<f32>(t, t, 1, 0, 3, 2)), 0);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  const t = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  return f32x4.extract_lane(f32x4.add(t, v128.shuffle<f32>(t, t, 1, 0, 3, 2)), 0);
}

/** max of n floats at p (n ≥ 0; −∞ when n = 0). */
export function maxOf(p: usize, n: i32): f32 {
  let acc0 = f32x4.splat(-Infinity), acc1 = acc0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = f32x4.pmax(acc0, v128.load(p + (<usize>i << 2)));
    acc1 = f32x4.pmax(acc1, v128.load(p + (<usize>i << 2), 16));
  }
  let r = hmax(f32x4.pmax(acc0, acc1));
  for (; i < n; i++) r = max(r, load<f32>(p + (<usize>i << 2)));
  return r;
}

/** max of |x| over n floats at p. */
export function maxAbsOf(p: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = acc0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = f32x4.pmax(acc0, f32x4.abs(v128.load(p + (<usize>i << 2))));
    acc1 = f32x4.pmax(acc1, f32x4.abs(v128.load(p + (<usize>i << 2), 16)));
  }
  let r = hmax(f32x4.pmax(acc0, acc1));
  for (; i < n; i++) r = max(r, abs(load<f32>(p + (<usize>i << 2))));
  return r;
}

/** Σ x_i over n floats. */
export function sumOf(p: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = acc0;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    acc0 = f32x4.add(acc0, v128.load(p + (<usize>i << 2)));
    acc1 = f32x4.add(acc1, v128.load(p + (<usize>i << 2), 16));
  }
  let r = hsum(f32x4.add(acc0, acc1));
  for (; i < n; i++) r += load<f32>(p + (<usize>i << 2));
  return r;
}

/** Σ a_i·b_i over n floats (four accumulators: the FMA latency, not the loads, bounds short dots). */
export function dot(a: usize, b: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0), acc1 = acc0, acc2 = acc0, acc3 = acc0;
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    acc0 = madd(v128.load(a + o), v128.load(b + o), acc0);
    acc1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), acc1);
    acc2 = madd(v128.load(a + o, 32), v128.load(b + o, 32), acc2);
    acc3 = madd(v128.load(a + o, 48), v128.load(b + o, 48), acc3);
  }
  for (; i + 4 <= n; i += 4) acc0 = madd(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2)), acc0);
  let r = hsum(f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3)));
  for (; i < n; i++) r += load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2));
  return r;
}

/** x *= s over n floats. */
export function scale(p: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const q = p + (<usize>i << 2);
    v128.store(q, f32x4.mul(v128.load(q), sv));
  }
  for (; i < n; i++) store<f32>(p + (<usize>i << 2), load<f32>(p + (<usize>i << 2)) * s);
}

/** y += s·x over n floats. */
export function axpy(y: usize, x: usize, n: i32, s: f32): void {
  const sv = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, madd(v128.load(x + o), sv, v128.load(y + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + s * load<f32>(x + o));
  }
}
