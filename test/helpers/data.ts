// Test inputs. These come from a small generator of their own (splitmix32 + Box–Muller), so the
// inputs never depend on the library's Philox RNG, which is itself under test.
import { Tensor } from '../../src/tensor/tensor.js';

export class TestRandom {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** splitmix32 */
  uint32(): number {
    this.s = (this.s + 0x9e3779b9) >>> 0;
    let z = this.s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  }
  uniform(): number {
    return (this.uint32() + 0.5) / 4294967296;
  }
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.uniform())) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/**
 * Independent N(0, std²) entries drawn from TestRandom(seed): the one random-data helper of the
 * tests. randn(n, …) gives a Float32Array of n values, randn(shape, …) a Tensor of that shape.
 */
export function randn(n: number, seed: number, std?: number): Float32Array;
export function randn(shape: readonly number[], seed: number, std?: number): Tensor;
export function randn(size: number | readonly number[], seed: number, std = 1): Float32Array | Tensor {
  const t = typeof size === 'number' ? null : new Tensor(size);
  const a = t ? t.data : new Float32Array(size as number);
  const r = new TestRandom(seed);
  for (let i = 0; i < a.length; i++) a[i] = std * r.normal();
  return t ?? a;
}

/** A [B, L] mask of 0/1; each row keeps about pKeep of its keys and always has both kinds. */
export function randomMask(B: number, L: number, seed: number, pKeep = 0.7): Tensor {
  const t = new Tensor([B, L]);
  const r = new TestRandom(seed);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < L; j++) t.data[b * L + j] = r.uniform() < pKeep ? 1 : 0;
    if (L >= 2) {
      const z = Math.floor(r.uniform() * L);
      t.data[b * L + z] = 0;
      t.data[b * L + ((z + 1 + Math.floor(r.uniform() * (L - 1))) % L)] = 1;
    }
  }
  return t;
}

/** Rescales every row (last axis) of t in place to Euclidean norm `norm`. */
export function setRowNorms(t: Tensor, norm: number): Tensor {
  const n = t.shape[t.shape.length - 1]!;
  for (let r = 0; r < t.data.length / n; r++) {
    let s = 0;
    for (let c = 0; c < n; c++) s += t.data[r * n + c]! ** 2;
    const f = norm / Math.sqrt(s);
    for (let c = 0; c < n; c++) t.data[r * n + c] = t.data[r * n + c]! * f;
  }
  return t;
}

export function clone(t: Tensor): Tensor {
  return new Tensor(t.shape, Float32Array.from(t.data));
}

/** Overwrites positions ≥ t (axis 2 of a [B, H, L, x] tensor) with values from `src`. */
export function replaceFrom(dst: Tensor, src: Tensor, t: number): Tensor {
  const [B, H, L, x] = dst.shape as [number, number, number, number];
  const out = clone(dst);
  for (let bh = 0; bh < B * H; bh++) {
    for (let i = t; i < L; i++) {
      for (let c = 0; c < x; c++) out.data[(bh * L + i) * x + c] = src.data[(bh * L + i) * x + c]!;
    }
  }
  return out;
}

/** The rows [.., start:end, ..] of axis 2 of a [B, H, L, x] tensor as a Float64Array. */
export function sliceRows(t: Tensor, start: number, end: number): Float64Array {
  const [B, H, L, x] = t.shape as [number, number, number, number];
  const out = new Float64Array(B * H * (end - start) * x);
  let p = 0;
  for (let bh = 0; bh < B * H; bh++) {
    for (let i = start; i < end; i++) for (let c = 0; c < x; c++) out[p++] = t.data[(bh * L + i) * x + c]!;
  }
  return out;
}

/** Mean and standard error of the mean of a sample. */
export function meanAndSE(xs: ArrayLike<number>): { mean: number; se: number; sd: number } {
  const n = xs.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += xs[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i]! - mean) ** 2;
  v /= n - 1;
  return { mean, se: Math.sqrt(v / n), sd: Math.sqrt(v) };
}
