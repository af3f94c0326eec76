// Mean softmax cross-entropy over rows of V logits, forward and backward. Rows whose target is
// ignoreIndex do not count; n is the number of counted rows.
//   loss = (1/n) Σ_rows (lse(z) − z_target), lse(z) = max(z) + ln Σ exp(z − max(z)) (0 when n = 0);
//   dz += (softmax(z) − onehot(target))·dLoss/n on counted rows, softmax(z) = exp(z − lse).
import type { CrossEntropyBwdArgs, CrossEntropyFwdArgs } from '../../engine.js';

export function tsCrossEntropyForward({ logits: z, targets, lse, rows, V, ignoreIndex }: CrossEntropyFwdArgs): number {
  let total = 0, count = 0;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const off = r * V;
    let mx = -Infinity;
    for (let c = 0; c < V; c++) if (z[off + c]! > mx) mx = z[off + c]!;
    let s = 0;
    for (let c = 0; c < V; c++) s += Math.exp(z[off + c]! - mx);
    const l = mx + Math.log(s);
    lse[r] = l;
    total += l - z[off + t]!;
    count++;
  }
  return count ? total / count : 0;
}

/** Differentiates (X1) of docs/MATH.md, loss = (1/n) Σ_rows (lse(z) − z_target), by (X2): dz += (softmax(z) − onehot(target))·dLoss/n. */
export function tsCrossEntropyBackward({ logits: z, targets, lse, dLoss, dLogits, rows, V, ignoreIndex }: CrossEntropyBwdArgs): void {
  let count = 0;
  for (let r = 0; r < rows; r++) if (targets[r] !== ignoreIndex) count++;
  if (count === 0) return;
  const f = dLoss / count;
  for (let r = 0; r < rows; r++) {
    const t = targets[r]!;
    if (t === ignoreIndex) continue;
    const off = r * V, l = lse[r]!;
    for (let c = 0; c < V; c++) dLogits[off + c] = dLogits[off + c]! + f * Math.exp(z[off + c]! - l);
    dLogits[off + t] = dLogits[off + t]! - f;
  }
}
