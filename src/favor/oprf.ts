// FAVOR++'s coefficient A (Likhosherstov et al., "Chefs' Random Tables", NeurIPS 2022; docs/MATH.md,
// "FAVOR++"). With x = q·d^(-1/4), y = k·d^(-1/4) and S = mean over query–key pairs of ‖x_i + y_j‖²,
// the A that minimises the mean log-variance of the positive-feature kernel estimate is
//   A* = (1 − 2f − √((2f + 1)² + 8f)) / 16,   f = S/d,
// always < 0 (< 1/8 as required). S = mean‖x‖² + mean‖y‖² + 2·mean(x)·mean(y): O(L·d) per head.
// A is a statistic of the data, not a parameter: no gradient flows through it.
import type { Floats } from '../tensor/floats.js';

/** A* for a given f = S/d. */
export function optimalA(f: number): number {
  return (1 - 2 * f - Math.sqrt((2 * f + 1) ** 2 + 8 * f)) / 16;
}

export interface OprfDims {
  B: number; H: number; Lq: number; Lk: number; d: number;
}

/**
 * A* per (batch, head) [B·H] from q [B,H,Lq,d] and k [B,H,Lk,d]; masked keys (keyMask [B,Lk] = 0)
 * are left out of the key means. A head with no kept key gets A = 0.
 */
export function oprfCoefficients(q: Floats, k: Floats, dm: OprfDims, keyMask?: ArrayLike<number>): Float64Array {
  const { B, H, Lq, Lk, d } = dm;
  const A = new Float64Array(B * H);
  const mx = new Float64Array(d), my = new Float64Array(d);
  const s2 = 1 / Math.sqrt(d); // (d^(-1/4))²
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    mx.fill(0); my.fill(0);
    let nx = 0, ny = 0, n = 0;
    for (let i = 0; i < Lq; i++) for (let c = 0; c < d; c++) {
      const x = q[(bh * Lq + i) * d + c]!;
      mx[c] = mx[c]! + x; nx += x * x;
    }
    for (let j = 0; j < Lk; j++) {
      if (keyMask && keyMask[b * Lk + j] === 0) continue;
      n++;
      for (let c = 0; c < d; c++) {
        const y = k[(bh * Lk + j) * d + c]!;
        my[c] = my[c]! + y; ny += y * y;
      }
    }
    if (n === 0 || Lq === 0) continue;
    let cross = 0;
    for (let c = 0; c < d; c++) cross += (mx[c]! / Lq) * (my[c]! / n);
    const S = s2 * (nx / Lq + ny / n + 2 * cross);
    A[bh] = optimalA(S / d);
  }
  return A;
}

/**
 * The A values [B·H] a softmax++ call runs with: `given` ([B·H], or [H] broadcast over the batch)
 * when there, else (bidirectional only) A* of this call's q and k from `compute`. Causal attention
 * must not take A from the sequence (A* mixes every position, so position i would depend on later
 * ones): it needs A given.
 */
export function resolveOprfA(dm: { B: number; H: number }, causal: boolean, given: ArrayLike<number> | undefined, compute: () => Float64Array): Float64Array {
  const { B, H } = dm;
  if (!given) {
    if (causal) throw new Error('causal softmax++ needs A given (oprf_a): computing it from the sequence would let every position depend on later ones');
    return compute();
  }
  if (given.length !== B * H && given.length !== H) throw new Error(`oprf_a (FAVOR++'s A) has ${given.length} values, expected [H] = ${H} or [B, H] = ${B * H}`);
  const out = new Float64Array(B * H);
  for (let i = 0; i < B * H; i++) {
    const a = given[given.length === H ? i % H : i]!;
    if (!(a < 0.125) || !Number.isFinite(a)) throw new Error(`oprf_a (FAVOR++'s A) must be finite and below 1/8, got ${a} at ${i}`);
    out[i] = a;
  }
  return out;
}
