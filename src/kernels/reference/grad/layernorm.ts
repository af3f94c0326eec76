// LayerNorm over rows of D, forward and backward (biased variance, as in the op's definition):
//   x̄ = (x − μ)·r, r = 1/√(var + eps), y = x̄⊙γ + β; the forward saves μ and r per row.
//   dγ += Σ_rows g⊙x̄, dβ += Σ_rows g, and with ĝ = g⊙γ: dx += r·(ĝ − mean(ĝ) − x̄·mean(ĝ⊙x̄)).
import type { LayerNormBwdArgs, LayerNormFwdArgs } from '../../engine.js';

export function tsLayerNormForward({ x, gamma, beta, y, mean, rstd, rows, D, eps }: LayerNormFwdArgs): void {
  for (let r = 0; r < rows; r++) {
    const off = r * D;
    let mu = 0;
    for (let c = 0; c < D; c++) mu += x[off + c]!;
    mu /= D;
    let v = 0;
    for (let c = 0; c < D; c++) v += (x[off + c]! - mu) ** 2;
    const rs = 1 / Math.sqrt(v / D + eps);
    mean[r] = mu; rstd[r] = rs;
    for (let c = 0; c < D; c++) y[off + c] = (x[off + c]! - mu) * rs * gamma[c]! + beta[c]!;
  }
}

/** Differentiates (N1) of docs/MATH.md, y = (x − μ)·r⊙γ + β, by (N2); ADDS into dx, dGamma, dBeta (null: not wanted). */
export function tsLayerNormBackward({ x, gamma, mean, rstd, dy, dx, dGamma, dBeta, rows, D }: LayerNormBwdArgs): void {
  for (let r = 0; r < rows; r++) {
    const off = r * D, mu = mean[r]!, rs = rstd[r]!;
    let mg = 0, mgx = 0;
    for (let c = 0; c < D; c++) {
      const xb = (x[off + c]! - mu) * rs, dyc = dy[off + c]!;
      if (dGamma) dGamma[c] = dGamma[c]! + dyc * xb;
      if (dBeta) dBeta[c] = dBeta[c]! + dyc;
      const gh = dyc * gamma[c]!;
      mg += gh; mgx += gh * xb;
    }
    if (!dx) continue;
    mg /= D; mgx /= D;
    for (let c = 0; c < D; c++) {
      const xb = (x[off + c]! - mu) * rs;
      dx[off + c] = dx[off + c]! + rs * (dy[off + c]! * gamma[c]! - mg - xb * mgx);
    }
  }
}
