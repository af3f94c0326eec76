// ScaleNorm (Nguyen & Salazar 2019, performer-pytorch's use_scalenorm) and the scalar gate of
// ReZero (Bachlechner et al. 2020, use_rezero), forward and backward (g: one learned scalar).
//   scaleNorm: n = max(‖x‖, eps) over the last dim, y = g·x/n.
//     backward: dg += Σ dy·x/n; dx = (g/n)·(dy − x·(x·dy)/n²) where ‖x‖ > eps, else (g/eps)·dy.
//   gate: y = g·x, dg += Σ dy·x, dx += g·dy.
import type { GateArgs, GateBwdArgs, ScaleNormArgs, ScaleNormBwdArgs } from '../../engine.js';

export function tsScaleNormForward({ x, g, y, norms, rows, D, eps }: ScaleNormArgs): void {
  const gv = g[0]!;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += x[r * D + c]! ** 2;
    const n = Math.max(Math.sqrt(s), eps);
    norms[r] = n;
    for (let c = 0; c < D; c++) y[r * D + c] = (x[r * D + c]! / n) * gv;
  }
}

export function tsScaleNormBackward({ x, g, norms, dy: gy, dx: gx, dg: dG, rows, D, eps }: ScaleNormBwdArgs): void {
  const gv = g[0]!;
  let dg = 0;
  for (let r = 0; r < rows; r++) {
    const n = norms[r]!, off = r * D;
    let xdy = 0;
    for (let c = 0; c < D; c++) xdy += x[off + c]! * gy[off + c]!;
    dg += xdy / n;
    if (gx) {
      const clamped = n <= eps;
      for (let c = 0; c < D; c++) {
        const v = clamped ? gy[off + c]! : gy[off + c]! - (x[off + c]! * xdy) / (n * n);
        gx[off + c] = gx[off + c]! + (gv / n) * v;
      }
    }
  }
  if (dG) dG[0] = dG[0]! + dg;
}

export function tsGateForward({ x, g, y, n }: GateArgs): void {
  const gv = g[0]!;
  for (let i = 0; i < n; i++) y[i] = x[i]! * gv;
}

export function tsGateBackward({ x, g, dy: gy, dx: gx, dg: dG, n }: GateBwdArgs): void {
  const gv = g[0]!;
  let dg = 0;
  for (let i = 0; i < n; i++) dg += gy[i]! * x[i]!;
  if (dG) dG[0] = dG[0]! + dg;
  if (gx) for (let i = 0; i < n; i++) gx[i] = gx[i]! + gv * gy[i]!;
}
