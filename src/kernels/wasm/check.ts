// Argument validation shared by the drivers: wrong shapes must fail loudly, not read past arrays.

export function checkDims(what: string, dims: Record<string, number>): void {
  for (const [name, value] of Object.entries(dims)) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what}: ${name} must be a non-negative integer, got ${value}`);
  }
}

/** arr must be a Float32Array of exactly `expected` elements (at least that many when atLeast). */
export function checkLength(what: string, name: string, arr: Float32Array, expected: number, atLeast = false): void {
  if (!(arr instanceof Float32Array)) throw new TypeError(`${what}: ${name} must be a Float32Array`);
  if (atLeast ? arr.length < expected : arr.length !== expected) {
    throw new RangeError(`${what}: ${name} has ${arr.length} elements, expected ${atLeast ? 'at least ' : ''}${expected}`);
  }
}

/** The arguments every attention driver shares: dims, causal Lq = Lk, and q, k, v, out, keyMask sizes. */
export function checkAttention(what: string, a: {
  q: Float32Array; k: Float32Array; v: Float32Array; out: Float32Array; keyMask?: Float32Array | undefined;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; causal: boolean;
}): void {
  checkDims(what, { B: a.B, H: a.H, Lq: a.Lq, Lk: a.Lk, d: a.d, Dv: a.Dv });
  if (a.causal && a.Lq !== a.Lk) throw new RangeError(`${what}: causal attention requires Lq === Lk (got ${a.Lq}, ${a.Lk})`);
  const heads = a.B * a.H;
  checkLength(what, 'q', a.q, heads * a.Lq * a.d);
  checkLength(what, 'k', a.k, heads * a.Lk * a.d);
  checkLength(what, 'v', a.v, heads * a.Lk * a.Dv);
  checkLength(what, 'out', a.out, heads * a.Lq * a.Dv);
  if (a.keyMask) checkLength(what, 'keyMask', a.keyMask, a.B * a.Lk);
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
export function checkAttentionGrads(what: string, a: {
  dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number;
}): void {
  const heads = a.B * a.H;
  checkLength(what, 'dOut', a.dOut, heads * a.Lq * a.Dv);
  checkLength(what, 'dq', a.dq, heads * a.Lq * a.d);
  checkLength(what, 'dk', a.dk, heads * a.Lk * a.d);
  checkLength(what, 'Dv', a.dv, heads * a.Lk * a.Dv);
}
