// Exact softmax attention, forward and backward, one query row at a time (O(L) working memory).
//   p_ij = softmax_j(q_i·k_j/√d) over the keys row i sees (unmasked, j ≤ i if causal); out_i = Σ_j p_ij v_j.
// Backward, (E2) of docs/MATH.md (dOut_i = dL/dout_i, go_i = dOut_i·out_i):
//   dv_j += p_ij dOut_i;  dsc_ij = p_ij (dOut_i·v_j − go_i);  dq_i += Σ_j dsc_ij k_j/√d;  dk_j += dsc_ij q_i/√d.
// A row with no visible key outputs 0 and has no gradient.
import { expScores, scoreRow, weightedValues } from '../exact.js';
import type { ExactBwdArgs, ExactFwdArgs } from '../../engine.js';

/** Row i's attention weights p_ij (normalised) in p over j = 0 .. last; returns last, or −1 when row i sees no key. */
function rowWeights(a: ExactFwdArgs, b: number, qOff: number, kOff: number, i: number, p: Float64Array): number {
  const { Lk, d, causal } = a;
  const last = causal ? Math.min(i, Lk - 1) : Lk - 1;
  const max = scoreRow(a.q, qOff + i * d, a.k, kOff, d, d, last, p, a.keyMask, b * Lk);
  if (max === -Infinity) return -1;
  const den = expScores(p, last, max);
  for (let j = 0; j <= last; j++) p[j] = p[j]! / den;
  return last;
}

/** out_i = Σ_j p_ij v_j. */
export function tsExactForward(a: ExactFwdArgs): void {
  const { B, H, Lq, Lk, d, Dv } = a;
  const p = new Float64Array(Lk), num = new Float64Array(Dv);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    const qOff = bh * Lq * d, kOff = bh * Lk * d, vOff = bh * Lk * Dv, oOff = bh * Lq * Dv;
    for (let i = 0; i < Lq; i++) {
      const last = rowWeights(a, b, qOff, kOff, i, p);
      weightedValues(p, last, a.v, vOff, Dv, num);
      for (let e = 0; e < Dv; e++) a.out[oOff + i * Dv + e] = num[e]!;
    }
  }
}

/**
 * Differentiates (E1) of docs/MATH.md, out_i = Σ_j p_ij v_j with p_ij = softmax_j(q_i·k_j/√d), by (E2):
 * dv_j += p_ij dOut_i, ds_ij = p_ij (dOut_i·v_j − go_i), dq_i += Σ_j ds_ij k_j/√d, dk_j += ds_ij q_i/√d.
 */
export function tsExactBackward(a: ExactBwdArgs): void {
  const { B, H, Lq, Lk, d, Dv } = a;
  const scale = 1 / Math.sqrt(d);
  const p = new Float64Array(Lk), dqi = new Float64Array(d);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    const qOff = bh * Lq * d, kOff = bh * Lk * d, vOff = bh * Lk * Dv, oOff = bh * Lq * Dv;
    for (let i = 0; i < Lq; i++) {
      const last = rowWeights(a, b, qOff, kOff, i, p);
      if (last < 0) continue;
      const gOff = oOff + i * Dv;
      let go = 0;
      for (let e = 0; e < Dv; e++) go += a.dOut[gOff + e]! * a.out[gOff + e]!;
      dqi.fill(0);
      for (let j = 0; j <= last; j++) {
        const pj = p[j]!;
        if (pj === 0) continue;
        let gv = 0;
        for (let e = 0; e < Dv; e++) {
          gv += a.dOut[gOff + e]! * a.v[vOff + j * Dv + e]!;
          a.dv[vOff + j * Dv + e] = a.dv[vOff + j * Dv + e]! + pj * a.dOut[gOff + e]!;
        }
        const ds = pj * (gv - go) * scale;
        for (let c = 0; c < d; c++) {
          dqi[c] = dqi[c]! + ds * a.k[kOff + j * d + c]!;
          a.dk[kOff + j * d + c] = a.dk[kOff + j * d + c]! + ds * a.q[qOff + i * d + c]!;
        }
      }
      for (let c = 0; c < d; c++) a.dq[qOff + i * d + c] = a.dq[qOff + i * d + c]! + dqi[c]!;
    }
  }
}
