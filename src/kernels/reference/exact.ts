// Exact softmax attention, the O(L²)-time baseline: out_i = Σ_j softmax_j(q_i·k_j/√d) v_j.
// One query row at a time, so memory stays O(L) here too.
import type { ExactArgs } from '../backend.js';
import { writeRow } from './favor.js';

export function referenceExact(a: ExactArgs): void {
  const { B, H, Lq, Lk, d, Dv, causal } = a;
  const scale = 1 / Math.sqrt(d);
  const scores = new Float64Array(Lk);
  const num = new Float64Array(Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const qOff = bh * Lq * d, kOff = bh * Lk * d, vOff = bh * Lk * Dv, oOff = bh * Lq * Dv;
      for (let i = 0; i < Lq; i++) {
        const last = causal ? Math.min(i, Lk - 1) : Lk - 1;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          if (a.keyMask && a.keyMask[b * Lk + j] === 0) { scores[j] = -Infinity; continue; }
          let dot = 0;
          for (let c = 0; c < d; c++) dot += a.q[qOff + i * d + c]! * a.k[kOff + j * d + c]!;
          scores[j] = dot * scale;
          if (scores[j]! > max) max = scores[j]!;
        }
        num.fill(0);
        let den = 0;
        if (max !== -Infinity) {
          for (let j = 0; j <= last; j++) {
            const p = Math.exp(scores[j]! - max);
            if (p === 0) continue;
            den += p;
            for (let e = 0; e < Dv; e++) num[e] = num[e]! + p * a.v[vOff + j * Dv + e]!;
          }
        }
        writeRow(a.out, oOff + i * Dv, num, den);
      }
    }
  }
}
