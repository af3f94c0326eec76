// Head groups of x [B, H, L, dh]: the heads [h0, h1) as their own tensor, and two groups side by
// side again. A layer with local heads runs its first heads through FAVOR+ and the rest locally.
// Backward: the slice's gradient goes back to its heads; the concatenation's splits in two.
// Host loops (CPU engines).
import { formatShape } from '../tensor/shape.js';
import type { Floats } from '../tensor/floats.js';
import { record, recording } from './tape.js';
import { alloc, hostGrad, Var } from './var.js';

/** For each batch b: dst[b·dstStride + dstOff + i] (+)= src[b·srcStride + srcOff + i], i < n. */
function copyHeads(src: Floats, dst: Floats, B: number, srcStride: number, srcOff: number, dstStride: number, dstOff: number, n: number, add: boolean): void {
  for (let b = 0; b < B; b++) {
    const s = b * srcStride + srcOff, d = b * dstStride + dstOff;
    if (add) for (let i = 0; i < n; i++) dst[d + i] = dst[d + i]! + src[s + i]!;
    else for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
  }
}

function dims4(x: Var, op: string): [number, number, number, number] {
  if (x.rank !== 4) throw new Error(`${op}: need [B, H, L, dh], got ${formatShape(x.shape)}`);
  return x.shape as [number, number, number, number];
}

/** x[:, h0:h1] of x [B, H, L, dh]. */
export function sliceHeads(x: Var, h0: number, h1: number): Var {
  const [B, H, L, dh] = dims4(x, 'sliceHeads');
  if (!(Number.isInteger(h0) && Number.isInteger(h1) && 0 <= h0 && h0 < h1 && h1 <= H)) throw new Error(`sliceHeads: heads [${h0}, ${h1}) out of 0..${H}`);
  const per = L * dh, n = (h1 - h0) * per;
  const out = new Var([B, h1 - h0, L, dh], alloc(x.data, B * n), recording(x), x.device);
  copyHeads(x.data, out.data, B, H * per, h0 * per, n, 0, n, false);
  if (out.requiresGrad) {
    record(() => {
      const g = out.grad;
      if (g) copyHeads(g, hostGrad(x), B, n, 0, H * per, h0 * per, n, true);
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
  const out = new Var([B, Ha + Hb, L, dh], alloc(a.data, B * n), recording(a, b), a.device);
  copyHeads(a.data, out.data, B, na, 0, n, 0, na, false);
  copyHeads(b.data, out.data, B, nb, 0, n, na, nb, false);
  if (out.requiresGrad) {
    record(() => {
      const g = out.grad;
      if (!g) return;
      if (a.requiresGrad) copyHeads(g, hostGrad(a), B, n, 0, na, 0, na, true);
      if (b.requiresGrad) copyHeads(g, hostGrad(b), B, n, na, nb, 0, nb, true);
    });
  }
  return out;
}
