// The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)), which PyTorch's nn.GELU computes, and its gated form
// GEGLU (performer-pytorch's ff_glu), as differentiable ops on their input's engine. The model's
// default GELU is the tanh approximation (./ops.ts); the two differ by up to ~5e-4, which is why a
// performer-pytorch model needs this one to reproduce its logits. The math is in
// src/kernels/reference/grad/gelu-erf.ts.
import type { GeluKind } from '../kernels/engine.js';
import { formatShape } from '../tensor/shape.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import type { Var } from './var.js';

export type { GeluKind } from '../kernels/engine.js';
export { erf, geluValue } from '../kernels/reference/grad/gelu-erf.js';

/** Exact (erf) GELU, elementwise. */
export function geluErf(x: Var): Var {
  const e = engineOf('geluErf', x);
  const y = output(e, x.shape, x.dtype, recording(x));
  e.geluErfForward({ x: x.storage, y: y.storage });
  if (y.requiresGrad) {
    record(() => {
      const dy = y.gradStorage;
      if (dy === null) return;
      e.geluErfBackward({ x: x.storage, dy, dx: x.gradBuf() });
    });
  }
  return y;
}

/** h [..., 2H] → act(h[..., :H]) ⊙ h[..., H:]  [..., H]. */
export function geglu(h: Var, kind: GeluKind): Var {
  const D2 = h.shape[h.rank - 1]!;
  if (h.rank < 1 || D2 % 2 !== 0) throw new Error(`geglu needs an even last dim, got ${formatShape(h.shape)}`);
  const H = D2 / 2, rows = h.size / D2;
  const e = engineOf('geglu', h);
  const y = output(e, [...h.shape.slice(0, -1), H], h.dtype, recording(h));
  e.gegluForward({ h: h.storage, y: y.storage, rows, H, kind });
  if (y.requiresGrad) {
    record(() => {
      const dy = y.gradStorage;
      if (dy === null) return;
      e.gegluBackward({ h: h.storage, dy, dh: h.gradBuf(), rows, H, kind });
    });
  }
  return y;
}
