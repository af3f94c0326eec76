// Argument validation shared by the drivers: wrong shapes must fail loudly, not read past arrays.
// The attention layouts and the causal rule are those of ../attention-shape.ts.
import { attentionSizes, checkCausal, checkSize, type AttentionDims } from '../attention-shape.js';

export function checkDims(what: string, dims: Record<string, number>): void {
  for (const [name, value] of Object.entries(dims)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what}: ${name} must be a non-negative integer, got ${value}`);
  }
}

/** arr must be a Float32Array of exactly `expected` elements (at least that many when atLeast). */
export function checkLength(what: string, name: string, arr: Float32Array, expected: number, atLeast = false): void {
  if (!(arr instanceof Float32Array)) throw new TypeError(`${what}: ${name} must be a Float32Array`);
  checkSize(name, arr.length, expected, `${what}: `, atLeast);
}

/** The arguments every attention driver shares: dims, the causal rule, and q, k, v, out, keyMask sizes. */
export function checkAttention(what: string, a: AttentionDims & {
  q: Float32Array; k: Float32Array; v: Float32Array; out: Float32Array; keyMask?: Float32Array | undefined; causal: boolean;
}): void {
  checkDims(what, { B: a.B, H: a.H, Lq: a.Lq, Lk: a.Lk, d: a.d, Dv: a.Dv });
  checkCausal(a, a.causal, `${what}: `);
  const size = attentionSizes(a);
  checkLength(what, 'q', a.q, size.q);
  checkLength(what, 'k', a.k, size.k);
  checkLength(what, 'v', a.v, size.v);
  checkLength(what, 'out', a.out, size.out);
  if (a.keyMask) checkLength(what, 'keyMask', a.keyMask, size.keyMask);
}

/** checkAttention plus the FAVOR+ extras: m, feature map, chunk and the projection [m, d]. */
export function checkFavor(what: string, a: Parameters<typeof checkAttention>[1] & {
  projection: Float32Array; m: number; featureMap: string; chunk: number;
}, featureMapIds: object): void {
  checkAttention(what, a);
  checkDims(what, { m: a.m });
  if (!(a.featureMap in featureMapIds)) throw new RangeError(`${what}: unknown feature map '${a.featureMap}'`);
  if (!Number.isInteger(a.chunk) || a.chunk < 1) throw new RangeError(`${what}: chunk must be a positive integer, got ${a.chunk}`);
  checkLength(what, 'projection', a.projection, a.m * a.d);
}

/** The gradient arrays of an attention backward: dOut like out, dq/dk/dv like q/k/v. */
export function checkAttentionGrads(what: string, a: AttentionDims & {
  dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array;
}): void {
  const size = attentionSizes(a);
  checkLength(what, 'dOut', a.dOut, size.out);
  checkLength(what, 'dq', a.dq, size.q);
  checkLength(what, 'dk', a.dk, size.k);
  checkLength(what, 'dv', a.dv, size.v);
}
