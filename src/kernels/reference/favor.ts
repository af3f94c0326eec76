// Plain-TypeScript FAVOR+ (docs/MATH.md), the readable reference every fast backend is tested
// against. Inner sums run in float64.
import { featureCount, type FavorArgs } from '../backend.js';
import { featureRow } from './features.js';
import type { Floats } from '../../tensor/floats.js';

/** FavorArgs on float32 or float64 arrays (the autograd checks run this same code in float64). */
export type AnyFavorArgs = Omit<FavorArgs, 'q' | 'k' | 'v' | 'out' | 'projection' | 'keyMask'> & {
  q: Floats; k: Floats; v: Floats; out: Floats; projection: Floats; keyMask?: Floats | undefined;
};

/** Feature rows are kept in the data's own precision. */
function features(a: AnyFavorArgs, n: number): Floats {
  return a.q instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

interface Head {
  qOff: number; kOff: number; vOff: number; oOff: number; maskOff: number;
}

export function referenceFavor(a: AnyFavorArgs): void {
  const { B, H, Lq, Lk, d, Dv } = a;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const bh = b * H + h;
      const head: Head = { qOff: bh * Lq * d, kOff: bh * Lk * d, vOff: bh * Lk * Dv, oOff: bh * Lq * Dv, maskOff: b * Lk };
      if (a.causal) causalHead(a, head);
      else bidirectionalHead(a, head);
    }
  }
}

function keep(a: AnyFavorArgs, head: Head, j: number): boolean {
  return !a.keyMask || a.keyMask[head.maskOff + j] !== 0;
}

/** out_i = ρ_iᵀS / ρ_i·z with S = Σ ω_j κ_j v_jᵀ, z = Σ ω_j κ_j; M kept online over keys. */
function bidirectionalHead(a: AnyFavorArgs, head: Head): void {
  const { Lq, Lk, d, Dv, m, featureMap, projection: w } = a;
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m);
  const kappa = features(a, mf);
  const S = new Float64Array(mf * Dv);
  const z = new Float64Array(mf);
  let M = -Infinity;
  for (let j = 0; j < Lk; j++) {
    if (!keep(a, head, j)) continue;
    const s = featureRow(featureMap, w, m, d, a.k, head.kOff + j * d, kappa, 0, u);
    if (s > M) {
      const r = M === -Infinity ? 0 : Math.exp(M - s); // online rescale to the new maximum
      for (let x = 0; x < S.length; x++) S[x] = S[x]! * r;
      for (let x = 0; x < mf; x++) z[x] = z[x]! * r;
      M = s;
    }
    const omega = Math.exp(s - M);
    const vRow = head.vOff + j * Dv;
    for (let l = 0; l < mf; l++) {
      const c = omega * kappa[l]!;
      z[l] = z[l]! + c;
      for (let e = 0; e < Dv; e++) S[l * Dv + e] = S[l * Dv + e]! + c * a.v[vRow + e]!;
    }
  }
  const rho = features(a, mf);
  const num = new Float64Array(Dv);
  for (let i = 0; i < Lq; i++) {
    featureRow(featureMap, w, m, d, a.q, head.qOff + i * d, rho, 0, u);
    num.fill(0);
    let den = 0;
    for (let l = 0; l < mf; l++) {
      const r = rho[l]!;
      den += r * z[l]!;
      for (let e = 0; e < Dv; e++) num[e] = num[e]! + r * S[l * Dv + e]!;
    }
    writeRow(a.out, head.oOff + i * Dv, num, den);
  }
}

/** Chunked causal FAVOR+ with the strictly causal running maximum M(i) of docs/MATH.md. */
function causalHead(a: AnyFavorArgs, head: Head): void {
  const { Lq: L, d, Dv, m, featureMap, projection: w, chunk } = a;
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m);
  const S = new Float64Array(mf * Dv);
  const z = new Float64Array(mf);
  const kappa = features(a, chunk * mf);
  const rho = features(a, chunk * mf);
  const s = new Float64Array(chunk);
  const Mi = new Float64Array(chunk);
  const num = new Float64Array(Dv);
  let Mprev = -Infinity;
  for (let c0 = 0; c0 < L; c0 += chunk) {
    const n = Math.min(chunk, L - c0);
    let run = Mprev;
    for (let j = 0; j < n; j++) {
      s[j] = keep(a, head, c0 + j) ? featureRow(featureMap, w, m, d, a.k, head.kOff + (c0 + j) * d, kappa, j * mf, u) : -Infinity;
      featureRow(featureMap, w, m, d, a.q, head.qOff + (c0 + j) * d, rho, j * mf, u);
      run = Math.max(run, s[j]!);
      Mi[j] = run;
    }
    for (let i = 0; i < n; i++) {
      const alpha = Mprev === -Infinity ? 0 : Math.exp(Mprev - Mi[i]!);
      num.fill(0);
      let den = 0;
      for (let l = 0; l < mf; l++) {
        const r = alpha * rho[i * mf + l]!;
        den += r * z[l]!;
        for (let e = 0; e < Dv; e++) num[e] = num[e]! + r * S[l * Dv + e]!;
      }
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
    const Mnew = Mi[n - 1]!;
    if (Mnew === -Infinity) continue; // every key so far is masked: the state stays zero
    const r = Mprev === -Infinity ? 0 : Math.exp(Mprev - Mnew);
    for (let x = 0; x < S.length; x++) S[x] = S[x]! * r;
    for (let x = 0; x < mf; x++) z[x] = z[x]! * r;
    for (let j = 0; j < n; j++) {
      if (s[j] === -Infinity) continue;
      const omega = Math.exp(s[j]! - Mnew);
      const vRow = head.vOff + (c0 + j) * Dv;
      for (let l = 0; l < mf; l++) {
        const c = omega * kappa[j * mf + l]!;
        z[l] = z[l]! + c;
        for (let e = 0; e < Dv; e++) S[l * Dv + e] = S[l * Dv + e]! + c * a.v[vRow + e]!;
      }
    }
    Mprev = Mnew;
  }
}

/** A zero normaliser (fully masked row, or total underflow) gives a zero row; see docs/MATH.md. */
export function writeRow(out: Floats, off: number, num: Float64Array, den: number): void {
  const inv = den === 0 ? 0 : 1 / den;
  for (let e = 0; e < num.length; e++) out[off + e] = num[e]! * inv;
}
