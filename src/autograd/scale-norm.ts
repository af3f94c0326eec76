// ScaleNorm (Nguyen & Salazar 2019, performer-pytorch's use_scalenorm) and the scalar gate of
// ReZero (Bachlechner et al. 2020, use_rezero).
//   scaleNorm: n = max(‖x‖, eps) over the last dim, y = g·x/n (g one learned scalar).
//     backward: dg += Σ dy·x/n; dx = (g/n)·(dy − x·(x·dy)/n²) where ‖x‖ > eps, else (g/eps)·dy.
//   gate: y = g·x, dg += Σ dy·x, dx += g·dy.
import { formatShape } from '../tensor/shape.js';
import { record, recording } from './tape.js';
import { alloc, Var } from './var.js';

function checkScalar(op: string, g: Var): void {
  if (g.size !== 1) throw new Error(`${op}: the gain must hold one value, got ${formatShape(g.shape)}`);
}

export function scaleNorm(x: Var, g: Var, eps = 1e-5): Var {
  checkScalar('scaleNorm', g);
  const D = x.shape[x.rank - 1]!, rows = x.size / D;
  const y = new Var(x.shape, alloc(x.data, x.size), recording(x, g));
  const norms = new Float64Array(rows);
  const gv = g.data[0]!;
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += x.data[r * D + c]! ** 2;
    const n = Math.max(Math.sqrt(s), eps);
    norms[r] = n;
    for (let c = 0; c < D; c++) y.data[r * D + c] = (x.data[r * D + c]! / n) * gv;
  }
  if (y.requiresGrad) {
    record(() => {
      const gy = y.grad;
      if (!gy) return;
      let dg = 0;
      for (let r = 0; r < rows; r++) {
        const n = norms[r]!, off = r * D;
        let xdy = 0;
        for (let c = 0; c < D; c++) xdy += x.data[off + c]! * gy[off + c]!;
        dg += xdy / n;
        if (x.requiresGrad) {
          const gx = x.gradData();
          const clamped = n <= eps;
          for (let c = 0; c < D; c++) {
            const v = clamped ? gy[off + c]! : gy[off + c]! - (x.data[off + c]! * xdy) / (n * n);
            gx[off + c] = gx[off + c]! + (gv / n) * v;
          }
        }
      }
      if (g.requiresGrad) g.gradData()[0] = g.gradData()[0]! + dg;
    });
  }
  return y;
}

export function gate(x: Var, g: Var): Var {
  checkScalar('gate', g);
  const gv = g.data[0]!;
  const y = new Var(x.shape, alloc(x.data, x.size), recording(x, g));
  for (let i = 0; i < x.size; i++) y.data[i] = x.data[i]! * gv;
  if (y.requiresGrad) {
    record(() => {
      const gy = y.grad;
      if (!gy) return;
      let dg = 0;
      for (let i = 0; i < x.size; i++) dg += gy[i]! * x.data[i]!;
      if (g.requiresGrad) g.gradData()[0] = g.gradData()[0]! + dg;
      if (x.requiresGrad) {
        const gx = x.gradData();
        for (let i = 0; i < x.size; i++) gx[i] = gx[i]! + gv * gy[i]!;
      }
    });
  }
  return y;
}
