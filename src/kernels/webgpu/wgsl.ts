// Small pieces of WGSL text shared by the kernel sources.

/** A float literal WGSL accepts (always with a decimal point or exponent). */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`webgpu: ${x} is not a finite WGSL float`);
  const s = Math.fround(x).toPrecision(9);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/**
 * The uniform block every kernel reads at binding `binding`: x0 (the dispatch's x offset, see
 * context.ts) followed by `names`, all u32.
 */
export function paramsBlock(binding: number, names: readonly string[]): string {
  return `struct Params { x0: u32, ${names.map((n) => `${n}: u32`).join(', ')} }
@group(0) @binding(${binding}) var<uniform> P: Params;`;
}

/** "Minus infinity" for running maxima: finite, because WGSL constant folding rejects infinities. */
export const NEG = '-3.0e38';
/** Anything at or below this is the NEG sentinel (a masked key, or no key yet). */
export const IS_NEG = '-1.0e38';

/** The bits of float32(x) as a u32, for passing a float in the u32 uniform block (bitcast<f32> in WGSL). */
export function floatBits(x: number): number {
  return new Uint32Array(new Float32Array([x]).buffer)[0]!;
}

/**
 * Workgroup reduction over 256 invocations: reduce(t, v, isMax) returns the sum (or the maximum) of
 * every invocation's v, combined in a fixed tree order (deterministic). Every invocation of the
 * workgroup must call it: it has barriers.
 */
export const REDUCE = `
var<workgroup> red: array<f32, 256>;
fn reduce(t: u32, v: f32, isMax: bool) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = 128u; s > 0u; s >>= 1u) {
    if (t < s) { red[t] = select(red[t] + red[t + s], max(red[t], red[t + s]), isMax); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
