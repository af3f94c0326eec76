// The shape rules of attention (docs/MATH.md): q [B, H, Lq, d], k [B, H, Lk, d], v [B, H, Lk, Dv],
// out [B, H, Lq, Dv], key mask [B, Lk] (0 = pad), and causal attention needs Lq = Lk. Written once:
// the Tensor API (src/favor), the differentiable ops (src/autograd) and the wasm drivers check their
// arguments with these, so a wrong shape fails the same way wherever it comes in.
import type { AttentionDims } from './backend.js';
import { formatShape, type Shape } from '../tensor/shape.js';

export type { AttentionDims };

/** Elements of each array for these dims. */
export function attentionSizes(a: AttentionDims): { q: number; k: number; v: number; out: number; keyMask: number } {
  const heads = a.B * a.H;
  return { q: heads * a.Lq * a.d, k: heads * a.Lk * a.d, v: heads * a.Lk * a.Dv, out: heads * a.Lq * a.Dv, keyMask: a.B * a.Lk };
}

/** Causal row i sees the keys j ≤ i of the same sequence, so there must be as many keys as queries. */
export function checkCausal(a: AttentionDims, causal: boolean, where = ''): void {
  if (causal && a.Lq !== a.Lk) throw new RangeError(`${where}causal attention needs Lq = Lk, got Lq=${a.Lq}, Lk=${a.Lk}`);
}

/** n elements where the layout needs `expected` (at least that many when atLeast). */
export function checkSize(name: string, n: number, expected: number, where = '', atLeast = false): void {
  if (atLeast ? n < expected : n !== expected) {
    throw new RangeError(`${where}${name} has ${n} elements, expected ${atLeast ? 'at least ' : ''}${expected}`);
  }
}

function checkRank(shape: Shape, name: string, layout: string): void {
  if (shape.length !== 4) throw new Error(`${name} must have shape ${layout}, got ${formatShape(shape)}`);
}

/** The dims of q, k, v read from their shapes; throws naming the first tensor that breaks the layout. */
export function attentionDims(q: Shape, k: Shape, v: Shape, causal: boolean): AttentionDims {
  checkRank(q, 'q', '[B, H, Lq, d]');
  checkRank(k, 'k', '[B, H, Lk, d]');
  checkRank(v, 'v', '[B, H, Lk, Dv]');
  const [B, H, Lq, d] = q as [number, number, number, number];
  const [kB, kH, Lk, kd] = k as [number, number, number, number];
  const [vB, vH, vL, Dv] = v as [number, number, number, number];
  if (kB !== B || kH !== H || kd !== d) {
    throw new Error(`k ${formatShape(k)} does not match q ${formatShape(q)} (need the same B, H and d)`);
  }
  if (vB !== B || vH !== H || vL !== Lk) {
    throw new Error(`v ${formatShape(v)} does not match k ${formatShape(k)} (need the same B, H and Lk)`);
  }
  if (d < 1 || Dv < 1) throw new Error(`head dimensions must be positive, got d=${d}, Dv=${Dv}`);
  const dims = { B, H, Lq, Lk, d, Dv };
  checkCausal(dims, causal);
  return dims;
}

/** A key mask given with a shape must be [B, Lk]. */
export function checkKeyMaskShape(a: AttentionDims, shape: Shape): void {
  if (shape.length !== 2 || shape[0] !== a.B || shape[1] !== a.Lk) {
    throw new Error(`key mask must have shape [B, Lk] = [${a.B}, ${a.Lk}], got ${formatShape(shape)}`);
  }
}
