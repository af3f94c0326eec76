// Plain-TypeScript FAVOR+ (docs/MATH.md), the readable reference every fast backend is tested
// against. Inner sums run in float64.
import { featureCount, type FavorArgs } from '../backend.js';
import { featureRow } from './features.js';
import { FavorState } from './state.js';
import type { Floats } from '../../tensor/floats.js';

/** FavorArgs on float32 or float64 arrays (the autograd checks run this same code in float64). */
export type AnyFavorArgs = Omit<FavorArgs, 'q' | 'k' | 'v' | 'out' | 'projection' | 'keyMask' | 'oprfA'> & {
  q: Floats; k: Floats; v: Floats; out: Floats; projection: Floats; keyMask?: Floats | undefined; oprfA?: Floats | undefined;
};

/** Feature rows are kept in the data's own precision (float64 in checks, float32 otherwise). */
export function featureRows(a: AnyFavorArgs, n: number): Floats {
  return a.q instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Offsets of one (batch, head) in q, k, v, out and the key mask. */
export interface Head {
  qOff: number; kOff: number; vOff: number; oOff: number; maskOff: number;
  A: number; // FAVOR++'s coefficient of this (batch, head) (0 unless softmax++)
}

/** Runs fn for every (batch, head). */
export function forEachHead(a: AnyFavorArgs, fn: (a: AnyFavorArgs, head: Head) => void): void {
  const { B, H, Lq, Lk, d, Dv } = a;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const A = a.oprfA ? a.oprfA[bh]! : 0;
      fn(a, { qOff: bh * Lq * d, kOff: bh * Lk * d, vOff: bh * Lk * Dv, oOff: bh * Lq * Dv, maskOff: b * Lk, A });
    }
  }
}

export function referenceFavor(a: AnyFavorArgs): void {
  forEachHead(a, a.causal ? causalHead : bidirectionalHead);
}

export function keyKept(a: AnyFavorArgs, head: Head, j: number): boolean {
  return !a.keyMask || a.keyMask[head.maskOff + j] !== 0;
}

/** The state over every kept key: S = Σ ω_j κ_j v_jᵀ, z = Σ ω_j κ_j, ω_j = e^{s_j − M}, M kept online. */
export function bidirectionalState(a: AnyFavorArgs, head: Head, st: FavorState, kappa: Floats, u: Float64Array): void {
  const { Lk, d, m, featureMap, projection: w } = a;
  for (let j = 0; j < Lk; j++) {
    if (!keyKept(a, head, j)) continue;
    const s = featureRow(featureMap, w, m, d, a.k, head.kOff + j * d, kappa, 0, u, head.A);
    st.addKey(kappa, s, a.v, head.vOff + j * a.Dv);
  }
}

/** out_i = ρ_iᵀS / ρ_i·z. */
function bidirectionalHead(a: AnyFavorArgs, head: Head): void {
  const { Lq, d, Dv, m, featureMap, projection: w } = a;
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m);
  const st = new FavorState(mf, Dv);
  bidirectionalState(a, head, st, featureRows(a, mf), u);
  const rho = featureRows(a, mf);
  const num = new Float64Array(Dv);
  for (let i = 0; i < Lq; i++) {
    featureRow(featureMap, w, m, d, a.q, head.qOff + i * d, rho, 0, u, head.A);
    writeRow(a.out, head.oOff + i * Dv, num, st.readOut(rho, 0, 1, num));
  }
}

/** The features of chunk rows c0 .. c0+n: κ_j and s_j of the keys (s_j = −∞ when masked), ρ_i of the queries. */
export function chunkFeatures(a: AnyFavorArgs, head: Head, c0: number, n: number, kappa: Floats, rho: Floats, s: Float64Array, u: Float64Array): void {
  const { d, m, featureMap, projection: w } = a;
  const mf = featureCount(featureMap, m);
  for (let j = 0; j < n; j++) {
    s[j] = keyKept(a, head, c0 + j) ? featureRow(featureMap, w, m, d, a.k, head.kOff + (c0 + j) * d, kappa, j * mf, u, head.A) : -Infinity;
    featureRow(featureMap, w, m, d, a.q, head.qOff + (c0 + j) * d, rho, j * mf, u, head.A);
  }
}

/** M(i) = max(M, s_0 .. s_i) for the rows of a chunk into out[off ..): the strictly causal running maximum. */
export function runningMax(M: number, s: Float64Array, n: number, out: Float64Array, off: number): void {
  let run = M;
  for (let j = 0; j < n; j++) {
    run = Math.max(run, s[j]!);
    out[off + j] = run;
  }
}

/** Carries the state past a chunk: re-referenced to the chunk's running maximum Mnew, plus its keys. */
export function advanceState(st: FavorState, kappa: Floats, s: Float64Array, n: number, Mnew: number, v: Floats, vOff: number): void {
  if (Mnew === -Infinity) return; // every key so far is masked: the state stays zero
  st.rescale(Mnew);
  st.addKeys(kappa, s, n, v, vOff);
}

/** Chunked causal FAVOR+ with the strictly causal running maximum M(i) of docs/MATH.md. */
function causalHead(a: AnyFavorArgs, head: Head): void {
  const { Lq: L, Dv, m, featureMap, chunk } = a;
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m);
  const st = new FavorState(mf, Dv);
  const kappa = featureRows(a, chunk * mf);
  const rho = featureRows(a, chunk * mf);
  const s = new Float64Array(chunk);
  const Mi = new Float64Array(chunk);
  const num = new Float64Array(Dv);
  for (let c0 = 0; c0 < L; c0 += chunk) {
    const n = Math.min(chunk, L - c0);
    chunkFeatures(a, head, c0, n, kappa, rho, s, u);
    runningMax(st.M, s, n, Mi, 0);
    for (let i = 0; i < n; i++) {
      const alpha = st.M === -Infinity ? 0 : Math.exp(st.M - Mi[i]!);
      let den = st.readOut(rho, i * mf, alpha, num);
      for (let j = 0; j <= i; j++) {
        if (s[j] === -Infinity) continue;
        let p = 0;
        for (let l = 0; l < mf; l++) p += rho[i * mf + l]! * kappa[j * mf + l]!;
        const aij = p * Math.exp(s[j]! - Mi[i]!);
        den += aij;
        const vRow = head.vOff + (c0 + j) * Dv;
        for (let e = 0; e < Dv; e++) num[e] = num[e]! + aij * a.v[vRow + e]!;
      }
      writeRow(a.out, head.oOff + (c0 + i) * Dv, num, den);
    }
    advanceState(st, kappa, s, n, Mi[n - 1]!, a.v, head.vOff + c0 * Dv);
  }
}

/** A zero normaliser (fully masked row, or total underflow) gives a zero row; see docs/MATH.md. */
export function writeRow(out: Floats, off: number, num: Float64Array, den: number): void {
  const inv = den === 0 ? 0 : 1 / den;
  for (let e = 0; e < num.length; e++) out[off + e] = num[e]! * inv;
}
