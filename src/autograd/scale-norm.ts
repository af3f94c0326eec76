// ScaleNorm (Nguyen & Salazar 2019, performer-pytorch's use_scalenorm) and the scalar gate of
// ReZero (Bachlechner et al. 2020, use_rezero) as differentiable ops on their input's engine; the
// math is in src/kernels/reference/grad/scale-norm.ts.
import { formatShape } from '../tensor/shape.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import type { Var } from './var.js';

function checkScalar(op: string, g: Var): void {
  if (g.size !== 1) throw new Error(`${op}: the gain must hold one value, got ${formatShape(g.shape)}`);
}

/** y = g·x/max(‖x‖, eps) over the last dim. Saves the row norms. */
export function scaleNorm(x: Var, g: Var, eps = 1e-5): Var {
  checkScalar('scaleNorm', g);
  const D = x.shape[x.rank - 1]!, rows = x.size / D;
  const e = engineOf('scaleNorm', x, g);
  const y = output(e, x.shape, x.dtype, recording(x, g));
  const norms = e.zeros(rows, 'float64');
  e.scaleNormForward({ x: x.storage, g: g.storage, y: y.storage, norms, rows, D, eps });
  if (y.requiresGrad) {
    record(() => {
      const dy = y.gradStorage;
      if (dy === null) return;
      e.scaleNormBackward({
        x: x.storage, g: g.storage, norms, dy, rows, D, eps,
        dx: x.requiresGrad ? x.gradBuf() : null, dg: g.requiresGrad ? g.gradBuf() : null,
      });
    });
  }
  return y;
}

/** y = g·x (ReZero's gate). */
export function gate(x: Var, g: Var): Var {
  checkScalar('gate', g);
  const e = engineOf('gate', x, g);
  const y = output(e, x.shape, x.dtype, recording(x, g));
  e.gateForward({ x: x.storage, g: g.storage, y: y.storage, n: x.size });
  if (y.requiresGrad) {
    record(() => {
      const dy = y.gradStorage;
      if (dy === null) return;
      e.gateBackward({
        x: x.storage, g: g.storage, dy, n: x.size,
        dx: x.requiresGrad ? x.gradBuf() : null, dg: g.requiresGrad ? g.gradBuf() : null,
      });
    });
  }
  return y;
}
