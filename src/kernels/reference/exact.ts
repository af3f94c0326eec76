// Exact softmax attention, the O(L²)-time baseline: out_i = Σ_j softmax_j(q_i·k_j/√d) v_j.
// One query row at a time, so memory stays O(L) here too. The three steps of a row (scores, their
// exponentials, the weighted sum of values) are shared with the autograd kernel
// (src/kernels/reference/grad/exact.ts) and the decoder's KV cache (src/nn/kv-cache.ts).
import type { ExactArgs } from '../backend.js';
import type { Floats } from '../../tensor/floats.js';
import { writeRow } from './favor.js';

/**
 * scores[j] = q·k_j/√d for j = 0 .. last, with q = q[qOff .. qOff+d) and k_j = k[kOff + j·kStride ..);
 * −∞ where keyMask[maskOff + j] = 0. Returns the largest score (−∞ when every key is masked).
 */
export function scoreRow(
  q: Floats, qOff: number, k: Floats, kOff: number, kStride: number, d: number, last: number,
  scores: Float64Array, keyMask?: Floats, maskOff = 0,
): number {
  const scale = 1 / Math.sqrt(d);
  let max = -Infinity;
  for (let j = 0; j <= last; j++) {
    if (keyMask && keyMask[maskOff + j] === 0) { scores[j] = -Infinity; continue; }
    const kRow = kOff + j * kStride;
    let dot = 0;
    for (let c = 0; c < d; c++) dot += q[qOff + c]! * k[kRow + c]!;
    const s = dot * scale;
    scores[j] = s;
    if (s > max) max = s;
  }
  return max;
}

/** p_j = e^{score_j − max} in place for j = 0 .. last (max finite); returns Σ_j p_j, the normaliser. */
export function expScores(p: Float64Array, last: number, max: number): number {
  let den = 0;
  for (let j = 0; j <= last; j++) {
    const e = Math.exp(p[j]! - max);
    p[j] = e;
    den += e;
  }
  return den;
}

/** num = Σ_{j ≤ last} p_j v_j with v_j = v[vOff + j·vStride .. + Dv) (zero weights skipped). */
export function weightedValues(p: Float64Array, last: number, v: Floats, vOff: number, vStride: number, num: Float64Array): void {
  const Dv = num.length;
  num.fill(0);
  for (let j = 0; j <= last; j++) {
    const pj = p[j]!;
    if (pj === 0) continue;
    const vRow = vOff + j * vStride;
    for (let e = 0; e < Dv; e++) num[e] = num[e]! + pj * v[vRow + e]!;
  }
}

export function referenceExact(a: ExactArgs): void {
  const { B, H, Lq, Lk, d, Dv, causal } = a;
  const p = new Float64Array(Lk);
  const num = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qOff = bh * Lq * d, kOff = bh * Lk * d, vOff = bh * Lk * Dv, oOff = bh * Lq * Dv;
      for (let i = 0; i < Lq; i++) {
        const last = causal ? Math.min(i, Lk - 1) : Lk - 1;
        const max = scoreRow(a.q, qOff + i * d, a.k, kOff, d, d, last, p, a.keyMask, b * Lk);
        if (max === -Infinity) { num.fill(0); writeRow(a.out, oOff + i * Dv, num, 0); continue; }
        const den = expScores(p, last, max);
        weightedValues(p, last, a.v, vOff, Dv, num);
        writeRow(a.out, oOff + i * Dv, num, den);
      }
    }
  }
}
