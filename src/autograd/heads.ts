// Head groups of x [B, H, L, dh]: the heads [h0, h1) as their own tensor, and two groups side by
// side again. A layer with local heads runs its first heads through FAVOR+ and the rest locally.
// Backward: the slice's gradient goes back to its heads; the concatenation's splits in two. Both run
// on their inputs' engine (the headCopy kernel).
import { formatShape } from '../tensor/shape.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import type { Var } from './var.js';

function dims4(x: Var, op: string): [number, number, number, number] {
  if (x.rank !== 4) throw new Error(`${op}: need [B, H, L, dh], got ${formatShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** x[:, h0:h1] of x [B, H, L, dh]. */
export function sliceHeads(x: Var, h0: number, h1: number): Var {
  const [B, H, L, dh] = dims4(x, 'sliceHeads');
  if (!(Number.isInteger(h0) && Number.isInteger(h1) && 0 <= h0 && h0 < h1 && h1 <= H)) throw new Error(`sliceHeads: heads [${h0}, ${h1}) out of 0..${H}`);
  const per = L * dh, n = (h1 - h0) * per;
  const e = engineOf('sliceHeads', x);
  const out = output(e, [B, h1 - h0, L, dh], x.dtype, recording(x));
  e.headCopy({ src: x.storage, dst: out.storage, B, srcStride: H * per, srcOff: h0 * per, dstStride: n, dstOff: 0, n, accumulate: false });
  if (out.requiresGrad) {
    record(() => {
      const g = out.gradStorage;
      if (g !== null) e.headCopy({ src: g, dst: x.gradBuf(), B, srcStride: n, srcOff: 0, dstStride: H * per, dstOff: h0 * per, n, accumulate: true });
    });
  }
  return out;
}

/** [a, b] along the head axis: a [B, Ha, L, dh], b [B, Hb, L, dh] → [B, Ha + Hb, L, dh]. */
export function concatHeads(a: Var, b: Var): Var {
  const [B, Ha, L, dh] = dims4(a, 'concatHeads');
  const [Bb, Hb, Lb, dhb] = dims4(b, 'concatHeads');
  if (Bb !== B || Lb !== L || dhb !== dh) throw new Error(`concatHeads: ${formatShape(a.shape)} and ${formatShape(b.shape)} differ outside the head axis`);
  const na = Ha * L * dh, nb = Hb * L * dh, n = na + nb;
  const e = engineOf('concatHeads', a, b);
  const out = output(e, [B, Ha + Hb, L, dh], a.dtype, recording(a, b));
  e.headCopy({ src: a.storage, dst: out.storage, B, srcStride: na, srcOff: 0, dstStride: n, dstOff: 0, n: na, accumulate: false });
  e.headCopy({ src: b.storage, dst: out.storage, B, srcStride: nb, srcOff: 0, dstStride: n, dstOff: na, n: nb, accumulate: false });
  if (out.requiresGrad) {
    record(() => {
      const g = out.gradStorage;
      if (g === null) return;
      if (a.requiresGrad) e.headCopy({ src: g, dst: a.gradBuf(), B, srcStride: n, srcOff: 0, dstStride: na, dstOff: 0, n: na, accumulate: true });
      if (b.requiresGrad) e.headCopy({ src: g, dst: b.gradBuf(), B, srcStride: n, srcOff: na, dstStride: nb, dstOff: 0, n: nb, accumulate: true });
    });
  }
  return out;
}
