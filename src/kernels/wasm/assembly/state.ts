// The carried FAVOR+ state of docs/MATH.md for one head: S [m', Dv] row-major, z [m'], and the
// reference maximum M. S and z are contiguous so rescaling both is one pass.
import { scale, axpy } from './simd';
import { expf } from './exp';
import { align64 } from './desc';

export function stateBytes(mp: i32, Dv: i32): usize {
  return align64(<usize>(mp * Dv + mp + 1) << 2);
}

// @ts-ignore: decorator
@inline export function stateZ(rec: usize, mp: i32, Dv: i32): usize {
  return rec + (<usize>(mp * Dv) << 2);
}

// @ts-ignore: decorator
@inline function stateMax(rec: usize, mp: i32, Dv: i32): usize {
  return rec + (<usize>(mp * Dv + mp) << 2);
}

export function getMax(rec: usize, mp: i32, Dv: i32): f32 {
  return load<f32>(stateMax(rec, mp, Dv));
}

export function setMax(rec: usize, mp: i32, Dv: i32, M: f32): void {
  store<f32>(stateMax(rec, mp, Dv), M);
}

/** S = 0, z = 0, M = −∞ (the state before any key). */
export function clearState(rec: usize, mp: i32, Dv: i32): void {
  memory.fill(rec, 0, <usize>(mp * Dv + mp) << 2);
  setMax(rec, mp, Dv, -Infinity);
}

/** S ← f·S, z ← f·z. */
export function scaleState(rec: usize, mp: i32, Dv: i32, f: f32): void {
  scale(rec, mp * Dv + mp, f);
}

/** dst ← dst ⊕ src: the state covering the keys of both, with M = max(M_dst, M_src) and each side
 *  rescaled by exp(M_side − M), exactly the online-max rule of MATH.md applied to two partial sums. */
export function combineState(dst: usize, src: usize, mp: i32, Dv: i32): void {
  const ms = getMax(src, mp, Dv);
  if (ms == -Infinity) return; // src saw no unmasked key
  const md = getMax(dst, mp, Dv);
  const n = mp * Dv + mp;
  if (md == -Infinity) {
    memory.copy(dst, src, stateBytes(mp, Dv));
  } else if (ms > md) {
    scaleState(dst, mp, Dv, expf(md - ms));
    axpy(dst, src, n, 1);
    setMax(dst, mp, Dv, ms);
  } else {
    axpy(dst, src, n, expf(ms - md));
  }
}
