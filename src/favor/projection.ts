// Random projection W [m, d] shared by queries and keys (Performer §2.4, "orthogonal random features").
import { Tensor } from '../tensor/tensor.js';
import { Rng } from '../tensor/rng.js';

export type ProjectionKind = 'orthogonal' | 'iid';
/** Row norms: independent χ_d samples (unbiased for the softmax kernel) or √d ("regularized"). */
export type NormScaling = 'chi' | 'sqrt-d';

export interface ProjectionOptions {
  features: number; // m
  dim: number; // d
  kind?: ProjectionKind;
  scaling?: NormScaling;
  seed?: number;
}

/**
 * Householder QR of a square n×n matrix (float64, row-major), in place: returns Q with the sign
 * correction Q·diag(sign(diag R)), which makes Q exactly Haar-distributed when A is Gaussian
 * (Mezzadri, "How to generate random matrices from the classical compact groups", 2007).
 */
export function haarOrthogonal(a: Float64Array, n: number): Float64Array {
  const r = Float64Array.from(a);
  const q = new Float64Array(n * n);
  for (let i = 0; i < n; i++) q[i * n + i] = 1;
  const v = new Float64Array(n);
  const diagSign = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // Reflector that zeroes R[k+1.., k]; alpha takes the sign opposite to R[k,k] for stability.
    let norm = 0;
    for (let i = k; i < n; i++) norm += r[i * n + k]! ** 2;
    norm = Math.sqrt(norm);
    const rkk = r[k * n + k]!;
    const alpha = rkk > 0 ? -norm : norm;
    let vnorm2 = 0;
    for (let i = k; i < n; i++) {
      v[i] = r[i * n + k]! - (i === k ? alpha : 0);
      vnorm2 += v[i]! ** 2;
    }
    diagSign[k] = alpha === 0 ? 1 : Math.sign(alpha); // R[k,k] = alpha after the reflection
    if (vnorm2 === 0) continue;
    // R ← (I − 2vvᵀ/vᵀv) R and Q ← Q (I − 2vvᵀ/vᵀv)
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let i = k; i < n; i++) dot += v[i]! * r[i * n + j]!;
      const f = (2 * dot) / vnorm2;
      for (let i = k; i < n; i++) r[i * n + j] = r[i * n + j]! - f * v[i]!;
    }
    for (let i = 0; i < n; i++) {
      let dot = 0;
      for (let j = k; j < n; j++) dot += q[i * n + j]! * v[j]!;
      const f = (2 * dot) / vnorm2;
      for (let j = k; j < n; j++) q[i * n + j] = q[i * n + j]! - f * v[j]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) q[i * n + j] = q[i * n + j]! * diagSign[j]!;
  return q;
}

/** Draws W [m, d]. Same options and seed give the same W; a redraw is a new seed. */
export function drawProjection(opts: ProjectionOptions): Tensor {
  const { features: m, dim: d, kind = 'orthogonal', scaling = 'chi', seed = 0 } = opts;
  if (!Number.isInteger(m) || m < 1) throw new Error(`features must be a positive integer, got ${m}`);
  if (!Number.isInteger(d) || d < 1) throw new Error(`dim must be a positive integer, got ${d}`);
  if (kind !== 'orthogonal' && kind !== 'iid') throw new Error(`unknown projection kind '${kind}' (orthogonal|iid)`);
  if (scaling !== 'chi' && scaling !== 'sqrt-d') throw new Error(`unknown norm scaling '${scaling}' (chi|sqrt-d)`);
  const rng = new Rng(seed);
  const w = new Float32Array(m * d);
  if (kind === 'iid') {
    rng.fillNormal(w);
    return new Tensor([m, d], w);
  }
  const g = new Float64Array(d * d);
  for (let row0 = 0; row0 < m; row0 += d) {
    rng.fillNormal(g);
    const q = haarOrthogonal(g, d);
    const rows = Math.min(d, m - row0);
    for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) w[(row0 + i) * d + j] = q[i * d + j]!;
  }
  for (let i = 0; i < m; i++) {
    let norm: number;
    if (scaling === 'sqrt-d') norm = Math.sqrt(d);
    else {
      let s = 0;
      for (let j = 0; j < d; j++) s += rng.normal() ** 2;
      norm = Math.sqrt(s);
    }
    for (let j = 0; j < d; j++) w[i * d + j] = w[i * d + j]! * norm;
  }
  return new Tensor([m, d], w);
}
