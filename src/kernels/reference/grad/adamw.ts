// The optimiser's kernels: the AdamW update of one parameter (Loshchilov & Hutter 2019, Algorithm 2)
//   m ← β1 m + (1−β1) dp,  v ← β2 v + (1−β2) dp²,  p ← p − lr·(m/c1)/(√(v/c2) + ε) − decay·p
// and global gradient-norm clipping: ‖g‖ = √(Σ over every gradient of Σ g²) (float64 sum), then
// every gradient × maxNorm/‖g‖ when ‖g‖ > maxNorm.
import type { AdamWArgs, ClipArgs, GradNormArgs } from '../../engine.js';

export function tsAdamW({ p, dp: g, m, v, n, lr, beta1: b1, beta2: b2, eps, c1, c2, decay }: AdamWArgs): void {
  for (let i = 0; i < n; i++) {
    const gi = g[i]!;
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi; v[i] = vi;
    p[i] = p[i]! - lr * (mi / c1 / (Math.sqrt(vi / c2) + eps)) - decay * p[i]!;
  }
}

export function tsGradNorm({ grads, norm }: GradNormArgs): void {
  let sq = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) sq += g[i]! * g[i]!;
  norm[0] = Math.sqrt(sq);
}

export function tsClip({ grads, norm, maxNorm }: ClipArgs): void {
  const total = norm[0]!;
  if (!(total > maxNorm && total > 0)) return;
  const f = maxNorm / total;
  for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i]! * f;
}
