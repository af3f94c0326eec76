// An independent float64 reference for FAVOR+ and exact attention, written straight from the
// textbook formulas of docs/MATH.md. It deliberately imports nothing from src/: no stabiliser, no
// chunking, no running maximum. φ(x) is evaluated exactly as in the feature-map table, and
//   out_i = Σ_j φ(q_i)·φ(k_j) v_j / Σ_j φ(q_i)·φ(k_j)
// over the unmasked keys j (and j ≤ i when causal), in O(Lq·Lk) time. A row with a zero
// normaliser (no unmasked key) is 0, the documented behaviour.
//
// Because nothing is stabilised, this only works while exp() stays in float64 range
// (‖x̂‖² up to a few hundred); that is the point: it is the formula, not an implementation of it.

export type RefFeatureMap = 'softmax' | 'softmax-hyp' | 'trig' | 'relu';

export function refFeatureCount(featureMap: RefFeatureMap, m: number): number {
  return featureMap === 'softmax-hyp' || featureMap === 'trig' ? 2 * m : m;
}

/**
 * φ(x) for the row x = src[off .. off+d), in float64, with W [m, d] row-major.
 * x̂ = x·d^(-1/4), u = W x̂.
 */
export function phi64(
  featureMap: RefFeatureMap, w: ArrayLike<number>, m: number, d: number, src: ArrayLike<number>, off = 0,
): Float64Array {
  const scale = Math.pow(d, -0.25);
  const xh = new Float64Array(d);
  let sq = 0;
  for (let c = 0; c < d; c++) {
    xh[c] = src[off + c]! * scale;
    sq += xh[c]! * xh[c]!;
  }
  const u = new Float64Array(m);
  for (let l = 0; l < m; l++) {
    let acc = 0;
    for (let c = 0; c < d; c++) acc += w[l * d + c]! * xh[c]!;
    u[l] = acc;
  }
  const out = new Float64Array(refFeatureCount(featureMap, m));
  switch (featureMap) {
    case 'softmax':
      for (let l = 0; l < m; l++) out[l] = Math.exp(u[l]! - sq / 2) / Math.sqrt(m);
      break;
    case 'softmax-hyp':
      for (let l = 0; l < m; l++) {
        out[l] = Math.exp(u[l]! - sq / 2) / Math.sqrt(2 * m);
        out[m + l] = Math.exp(-u[l]! - sq / 2) / Math.sqrt(2 * m);
      }
      break;
    case 'trig': {
      const g = Math.exp(sq / 2) / Math.sqrt(m);
      for (let l = 0; l < m; l++) {
        out[l] = g * Math.sin(u[l]!);
        out[m + l] = g * Math.cos(u[l]!);
      }
      break;
    }
    case 'relu':
      for (let l = 0; l < m; l++) out[l] = Math.max(u[l]!, 0) + 0.001;
      break;
    default:
      throw new Error(`reference: unknown feature map ${String(featureMap)}`);
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** The kernel estimate φ(q)·φ(k) for single rows q, k of length d. */
export function kernelEstimate64(
  featureMap: RefFeatureMap, w: ArrayLike<number>, m: number, d: number, q: ArrayLike<number>, k: ArrayLike<number>,
): number {
  return dot(phi64(featureMap, w, m, d, q), phi64(featureMap, w, m, d, k));
}

export interface RefAttentionArgs {
  q: ArrayLike<number>; // [B, H, Lq, d]
  k: ArrayLike<number>; // [B, H, Lk, d]
  v: ArrayLike<number>; // [B, H, Lk, Dv]
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number;
  keyMask?: ArrayLike<number>; // [B, Lk], 0 = pad
  causal?: boolean;
}

/** Textbook FAVOR+ attention in float64 (see the file comment). Returns [B, H, Lq, Dv]. */
export function favorReference64(
  a: RefAttentionArgs & { w: ArrayLike<number>; m: number; featureMap: RefFeatureMap },
): Float64Array {
  const { B, H, Lq, Lk, d, Dv, m, featureMap, w } = a;
  const out = new Float64Array(B * H * Lq * Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const phiK: Float64Array[] = [];
      for (let j = 0; j < Lk; j++) phiK.push(phi64(featureMap, w, m, d, a.k, (bh * Lk + j) * d));
      for (let i = 0; i < Lq; i++) {
        const phiQ = phi64(featureMap, w, m, d, a.q, (bh * Lq + i) * d);
        const num = new Float64Array(Dv);
        let den = 0;
        for (let j = 0; j < Lk; j++) {
          if (a.causal && j > i) break;
          if (a.keyMask && a.keyMask[b * Lk + j] === 0) continue;
          const kij = dot(phiQ, phiK[j]!);
          den += kij;
          for (let e = 0; e < Dv; e++) num[e] = num[e]! + kij * a.v[(bh * Lk + j) * Dv + e]!;
        }
        for (let e = 0; e < Dv; e++) out[(bh * Lq + i) * Dv + e] = den === 0 ? 0 : num[e]! / den;
      }
    }
  }
  return out;
}

/** Exact softmax attention, scores q·k/√d, in float64. A row with no unmasked key is 0. */
export function exactReference64(a: RefAttentionArgs): Float64Array {
  const { B, H, Lq, Lk, d, Dv } = a;
  const out = new Float64Array(B * H * Lq * Dv);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      for (let i = 0; i < Lq; i++) {
        const keys: number[] = [];
        const scores: number[] = [];
        for (let j = 0; j < Lk; j++) {
          if (a.causal && j > i) break;
          if (a.keyMask && a.keyMask[b * Lk + j] === 0) continue;
          let s = 0;
          for (let c = 0; c < d; c++) s += a.q[(bh * Lq + i) * d + c]! * a.k[(bh * Lk + j) * d + c]!;
          keys.push(j);
          scores.push(s / Math.sqrt(d));
        }
        if (keys.length === 0) continue; // zero row
        // Subtracting the max is the usual exact-softmax identity, not a FAVOR stabiliser.
        const mx = Math.max(...scores);
        let den = 0;
        const num = new Float64Array(Dv);
        for (let t = 0; t < keys.length; t++) {
          const p = Math.exp(scores[t]! - mx);
          den += p;
          for (let e = 0; e < Dv; e++) num[e] = num[e]! + p * a.v[(bh * Lk + keys[t]!) * Dv + e]!;
        }
        for (let e = 0; e < Dv; e++) out[(bh * Lq + i) * Dv + e] = num[e]! / den;
      }
    }
  }
  return out;
}

/**
 * The error metric used throughout: max_i |a_i − b_i| / max_i |b_i| over the whole output,
 * with b the reference. Any NaN in either array makes it Infinity (so it fails every bound).
 * If b is all zeros, returns max|a| (an absolute error).
 */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`relativeError: lengths ${a.length} and ${b.length} differ`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) return Infinity;
    num = Math.max(num, Math.abs(x - y));
    den = Math.max(den, Math.abs(y));
  }
  return den === 0 ? num : num / den;
}

export function maxAbs(a: ArrayLike<number>): number {
  let mx = 0;
  for (let i = 0; i < a.length; i++) mx = Math.max(mx, Math.abs(a[i]!));
  return mx;
}

export function allFinite(a: ArrayLike<number>): boolean {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return false;
  return true;
}
