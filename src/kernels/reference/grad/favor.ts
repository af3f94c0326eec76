// FAVOR+ forward and backward, plain TS, for float32 or float64 arrays. The equations, tagged (F1)–(F3)
// and (B1)–(B4), are in docs/MATH.md; this header restates them in the code's names.
//
// Notation (per batch·head): x̂ = x·d^(-1/4), u = W·x̂; the stabilised features φ(x) = exp(s(x))·κ(x);
// queries use ρ_i = κ(q_i), keys κ_j with log-weights s_j; out_i = num_i / den_i where
//   bidirectional: num_i = ρ_iᵀS, den_i = ρ_i·z,  S = Σ_j e^{s_j−M} κ_j v_jᵀ,  z = Σ_j e^{s_j−M} κ_j;
//   causal:        the same sums over j ≤ i only, stabilised by the strictly causal running max M(i).
//
// BACKWARD. out_i is homogeneous of degree 0 in ρ_i and in the set {exp(s_j)κ_j}: any common positive
// factor cancels. Hence the stabilisers (s(q_i), M, M(i), and even the max inside s(k_j) for the
// softmax maps) may be treated as constants: their derivative directions (scaling) contribute
// exactly zero. With dOut_i = dL/dout_i and go_i = dOut_i·out_i:
//   (B1) dL/dρ_i  = Σ_{j∈J(i)} w_ij κ_j (dOut_i·v_j − go_i) / den_i          (w_ij = e^{s_j − M(i)} ≤ 1)
//                = (S_i dOut_i − z_i go_i) / den_i                           (S_i, z_i: the forward sums row i used)
//   (B2) dL/dκ_j  = Σ_{i∈I(j)} w_ij ρ_i (dOut_i·v_j − go_i) / den_i = e^{s_j}·(T v_j − t) scaled as below
//   (B3) dL/dv_j  = Σ_{i∈I(j)} w_ij (ρ_i·κ_j) dOut_i / den_i
// where I(j) = rows that see key j (all rows, or i ≥ j causal), T = Σ ρ_i dOut_iᵀ w/den_i, t = Σ ρ_i go_i w/den_i.
// Here "dL/dκ_j" is the gradient w.r.t. the key feature vector scaled by the constant e^{s_j} at the
// current point, so in (B2) every weight is e^{s_j − M(i)} ≤ 1 because M(i) ≥ s_j for every row that
// sees key j: nothing can overflow. Rows with den_i = 0 (fully masked, total underflow) output a
// constant 0 and get and give no gradient.
//
// (B4) Feature derivatives (f = the feature row, any constant scale; df = dL/df; result dx = d^(-1/4)·dx̂):
//   softmax     f_l = c·e^{u_l − ‖x̂‖²/2}:          dx̂ = Wᵀ(df⊙f) − x̂ (df·f)
//   softmax-hyp f = c·[e^{u−‖x̂‖²/2}, e^{−u−‖x̂‖²/2}]: dx̂ = Wᵀ(df_a⊙f_a − df_b⊙f_b) − x̂ (df·f)
//   trig        f = c·e^{‖x̂‖²/2}[sin u, cos u]:      dx̂ = Wᵀ(df_a⊙f_b − df_b⊙f_a) + x̂ (df·f)
//   relu        f = max(u, 0) + 0.001:             dx̂ = Wᵀ(df ⊙ 1[u > 0])
//   softmax++   f_l = c·e^{A‖ω_l‖² + B·u_l − ‖x̂‖²/2}: dx̂ = B·Wᵀ(df⊙f) − x̂ (df·f)   (A held constant)
// (for queries the x̂(df·f) terms vanish since df·ρ = 0 by homogeneity; keeping them is harmless).
import { featureCount, type FeatureMap } from '../../backend.js';
import { featureRow } from '../features.js';
import {
  advanceState, bidirectionalState, chunkFeatures, featureRows, forEachHead, keyKept, referenceFavor, runningMax, type Head,
} from '../favor.js';
import { FavorState } from '../state.js';
import type { FavorBwdArgs, FavorFwdArgs } from '../../engine.js';
import type { Floats } from '../../../tensor/floats.js';

/**
 * Adds to dx[dxOff..+d) the gradient through one feature row (table in the header): f is the row's
 * features (any constant scale), df = dL/df. `t` is scratch of length m, `u` of length m (relu).
 */
export function featureGradRow(
  featureMap: FeatureMap, w: Floats, m: number, d: number, x: Floats, xOff: number, f: Floats, fOff: number,
  df: Float64Array, dx: Floats, dxOff: number, t: Float64Array, u: Float64Array, A = 0,
): void {
  const scale = d ** -0.25;
  let dfDotf = 0;
  const mf = featureCount(featureMap, m);
  for (let l = 0; l < mf; l++) dfDotf += df[l]! * f[fOff + l]!;
  let selfCoef = 0; // coefficient of x̂ in dx̂
  switch (featureMap) {
    case 'softmax':
      for (let l = 0; l < m; l++) t[l] = df[l]! * f[fOff + l]!;
      selfCoef = -dfDotf;
      break;
    case 'softmax++': {
      // u enters as B·u (B = √(1−4A)); A‖ω‖² and ln D are constants (A is a statistic, no gradient)
      const Bc = Math.sqrt(1 - 4 * A);
      for (let l = 0; l < m; l++) t[l] = Bc * df[l]! * f[fOff + l]!;
      selfCoef = -dfDotf;
      break;
    }
    case 'softmax-hyp':
      for (let l = 0; l < m; l++) t[l] = df[l]! * f[fOff + l]! - df[m + l]! * f[fOff + m + l]!;
      selfCoef = -dfDotf;
      break;
    case 'trig':
      for (let l = 0; l < m; l++) t[l] = df[l]! * f[fOff + m + l]! - df[m + l]! * f[fOff + l]!;
      selfCoef = dfDotf;
      break;
    case 'relu':
      for (let l = 0; l < m; l++) {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += w[l * d + c]! * x[xOff + c]!;
        u[l] = acc * scale;
        t[l] = u[l]! > 0 ? df[l]! : 0;
      }
      break;
  }
  // dx = scale·(Wᵀt + selfCoef·x̂) = scale·Wᵀt + selfCoef·scale²·x
  const s2 = selfCoef * scale * scale;
  for (let c = 0; c < d; c++) {
    let acc = 0;
    for (let l = 0; l < m; l++) acc += w[l * d + c]! * t[l]!;
    dx[dxOff + c] = dx[dxOff + c]! + scale * acc + s2 * x[xOff + c]!;
  }
}

/** The forward is the reference backend's, which also runs on float64 arrays. */
export function tsFavorForward(a: FavorFwdArgs): void {
  referenceFavor(a);
}

// ---------------------------------------------------------------------------------------------
// Backward

/**
 * Differentiates (F2) out_i = ρ_iᵀS / ρ_i·z and (F3) out_i = (Σ_j A_ij v_j + α_i ρ_iᵀS) / (Σ_j A_ij + α_i ρ_i·z)
 * of docs/MATH.md, through the features (F1) φ(x) = exp(s(x))·κ(x), by (B1)–(B4).
 */
export function tsFavorBackward(a: FavorBwdArgs): void {
  forEachHead(a, (_, h) => (a.causal ? causalBackward(a, h) : bidiBackward(a, h)));
}

/** dOut_i·out_i and dOut_i·v_j helpers. */
function dot(x: Floats, xo: number, y: Floats, yo: number, n: number): number {
  let s = 0;
  for (let e = 0; e < n; e++) s += x[xo + e]! * y[yo + e]!;
  return s;
}

/**
 * Bidirectional: (1) rebuild S, z, M over the keys; (2) per query row: den_i, dρ_i by (B1) → dq_i,
 * and accumulate T = Σ ρ_i dOut_iᵀ/den_i, t = Σ ρ_i go_i/den_i; (3) per key: by (B2) gκ_j = e^{s_j−M}(T v_j − t),
 * by (B3) dv_j = e^{s_j−M} Tᵀκ_j → dk_j. Memory O(m'·Dv).
 */
function bidiBackward(a: FavorBwdArgs, h: Head): void {
  const { Lq, Lk, d, Dv, m, featureMap, projection: w } = a;
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m), tm = new Float64Array(m);
  const st = new FavorState(mf, Dv), { S, z } = st;
  const T = new Float64Array(mf * Dv), t = new Float64Array(mf);
  const f = featureRows(a, mf);
  const df = new Float64Array(mf);
  bidirectionalState(a, h, st, f, u);
  const M = st.M;
  for (let i = 0; i < Lq; i++) {
    featureRow(featureMap, w, m, d, a.q, h.qOff + i * d, f, 0, u, h.A);
    let den = 0;
    for (let l = 0; l < mf; l++) den += f[l]! * z[l]!;
    if (den === 0) continue;
    const gOff = h.oOff + i * Dv;
    const go = dot(a.dOut, gOff, a.out, gOff, Dv);
    const inv = 1 / den;
    for (let l = 0; l < mf; l++) {
      let sg = 0;
      for (let e = 0; e < Dv; e++) sg += S[l * Dv + e]! * a.dOut[gOff + e]!;
      df[l] = (sg - z[l]! * go) * inv; // (B1)
      const r = f[l]! * inv;
      t[l] = t[l]! + r * go;
      for (let e = 0; e < Dv; e++) T[l * Dv + e] = T[l * Dv + e]! + r * a.dOut[gOff + e]!;
    }
    featureGradRow(featureMap, w, m, d, a.q, h.qOff + i * d, f, 0, df, a.dq, h.qOff + i * d, tm, u, h.A);
  }
  for (let j = 0; j < Lk; j++) {
    if (!keyKept(a, h, j)) continue;
    const s = featureRow(featureMap, w, m, d, a.k, h.kOff + j * d, f, 0, u, h.A);
    const om = Math.exp(s - M);
    const vRow = h.vOff + j * Dv;
    for (let l = 0; l < mf; l++) {
      let tv = 0;
      for (let e = 0; e < Dv; e++) tv += T[l * Dv + e]! * a.v[vRow + e]!;
      df[l] = om * (tv - t[l]!); // (B2)
    }
    for (let e = 0; e < Dv; e++) {
      let acc = 0;
      for (let l = 0; l < mf; l++) acc += T[l * Dv + e]! * f[l]!;
      a.dv[vRow + e] = a.dv[vRow + e]! + om * acc; // (B3)
    }
    featureGradRow(featureMap, w, m, d, a.k, h.kOff + j * d, f, 0, df, a.dk, h.kOff + j * d, tm, u, h.A);
  }
}

/**
 * Causal, two sweeps over chunks, each recomputing the chunk's features; working memory
 * O(C·m' + m'·Dv) plus O(L) scalars (den_i, M(i)) per head.
 *  Forward sweep: the carried prefix state (S, z, Mprev) exactly as in the forward pass gives, per
 *    row, den_i and (B1): dρ_i = [α_i (S dOut_i − z go_i) + Σ_{j≤i in chunk} e^{s_j−M(i)} κ_j (dOut_i·v_j − go_i)] / den_i.
 *  Reverse sweep: the suffix state over rows after the chunk,
 *    T = Σ_i e^{Mref−M(i)} ρ_i dOut_iᵀ / den_i,  t = Σ_i e^{Mref−M(i)} ρ_i go_i / den_i,
 *    with Mref = M of the earliest row in it (M(i) is non-decreasing, so every factor is ≤ 1; when the
 *    suffix grows backwards, Mref only decreases and the old sums are multiplied by e^{Mref'−Mref} ≤ 1).
 *    For key j in the chunk: (B2) gκ_j = e^{s_j−Mref}(T v_j − t) + Σ_{i≥j in chunk} e^{s_j−M(i)} ρ_i (dOut_i·v_j − go_i)/den_i,
 *    (B3) dv_j = e^{s_j−Mref} Tᵀκ_j + Σ_{i≥j in chunk} e^{s_j−M(i)} (ρ_i·κ_j) dOut_i/den_i.
 *    Every exponent is ≤ 0 because a later row's running max includes s_j.
 */
function causalBackward(a: FavorBwdArgs, h: Head): void {
  const { Lq: L, d, Dv, m, featureMap, chunk, projection: w } = a;
  const mf = featureCount(featureMap, m);
  const u = new Float64Array(m), tm = new Float64Array(m);
  const st = new FavorState(mf, Dv), { S, z } = st;
  const kappa = featureRows(a, chunk * mf), rho = featureRows(a, chunk * mf);
  const s = new Float64Array(chunk);
  const df = new Float64Array(mf), dvj = new Float64Array(Dv);
  const den = new Float64Array(L), Mrow = new Float64Array(L);
  const goRow = new Float64Array(L); // dOut_i·out_i
  // Forward sweep: den_i, M(i), dq, with the prefix state st (its M is the Mprev of the header).
  for (let c0 = 0; c0 < L; c0 += chunk) {
    const n = Math.min(chunk, L - c0);
    chunkFeatures(a, h, c0, n, kappa, rho, s, u);
    runningMax(st.M, s, n, Mrow, c0);
    for (let i = 0; i < n; i++) {
      const Mi = Mrow[c0 + i]!;
      const alpha = st.M === -Infinity ? 0 : Math.exp(st.M - Mi);
      const gOff = h.oOff + (c0 + i) * Dv;
      const go = dot(a.dOut, gOff, a.out, gOff, Dv);
      goRow[c0 + i] = go;
      let dn = 0;
      for (let l = 0; l < mf; l++) {
        const r = rho[i * mf + l]!;
        dn += alpha * r * z[l]!;
        let sg = 0;
        for (let e = 0; e < Dv; e++) sg += S[l * Dv + e]! * a.dOut[gOff + e]!;
        df[l] = alpha * (sg - z[l]! * go);
      }
      for (let j = 0; j <= i; j++) {
        if (s[j] === -Infinity) continue;
        const wij = Math.exp(s[j]! - Mi);
        let p = 0;
        for (let l = 0; l < mf; l++) p += rho[i * mf + l]! * kappa[j * mf + l]!;
        dn += p * wij;
        const c = wij * (dot(a.dOut, gOff, a.v, h.vOff + (c0 + j) * Dv, Dv) - go);
        for (let l = 0; l < mf; l++) df[l] = df[l]! + c * kappa[j * mf + l]!;
      }
      den[c0 + i] = dn;
      if (dn === 0) continue;
      const inv = 1 / dn;
      for (let l = 0; l < mf; l++) df[l] = df[l]! * inv;
      featureGradRow(featureMap, w, m, d, a.q, h.qOff + (c0 + i) * d, rho, i * mf, df, a.dq, h.qOff + (c0 + i) * d, tm, u, h.A);
    }
    advanceState(st, kappa, s, n, Mrow[c0 + n - 1]!, a.v, h.vOff + c0 * Dv);
  }
  // Reverse sweep: dk, dv with the suffix state (T, t) referenced to Mref.
  const T = S, t = z; // reuse the buffers
  T.fill(0); t.fill(0);
  let Mref = Infinity; // +∞: the suffix is empty
  const lastChunk = Math.floor((L - 1) / chunk) * chunk;
  for (let c0 = lastChunk; c0 >= 0; c0 -= chunk) {
    const n = Math.min(chunk, L - c0);
    chunkFeatures(a, h, c0, n, kappa, rho, s, u);
    for (let j = 0; j < n; j++) {
      if (s[j] === -Infinity) continue;
      const vRow = h.vOff + (c0 + j) * Dv;
      df.fill(0);
      dvj.fill(0);
      if (Mref !== Infinity) {
        const wr = Math.exp(s[j]! - Mref);
        for (let l = 0; l < mf; l++) {
          let tv = 0;
          for (let e = 0; e < Dv; e++) tv += T[l * Dv + e]! * a.v[vRow + e]!;
          df[l] = wr * (tv - t[l]!);
          const kf = wr * kappa[j * mf + l]!;
          for (let e = 0; e < Dv; e++) dvj[e] = dvj[e]! + kf * T[l * Dv + e]!;
        }
      }
      for (let i = j; i < n; i++) {
        const dn = den[c0 + i]!;
        if (dn === 0) continue;
        const wij = Math.exp(s[j]! - Mrow[c0 + i]!) / dn;
        const gOff = h.oOff + (c0 + i) * Dv;
        const c = wij * (dot(a.dOut, gOff, a.v, vRow, Dv) - goRow[c0 + i]!);
        let p = 0;
        for (let l = 0; l < mf; l++) {
          df[l] = df[l]! + c * rho[i * mf + l]!;
          p += rho[i * mf + l]! * kappa[j * mf + l]!;
        }
        const pw = p * wij;
        for (let e = 0; e < Dv; e++) dvj[e] = dvj[e]! + pw * a.dOut[gOff + e]!;
      }
      for (let e = 0; e < Dv; e++) a.dv[vRow + e] = a.dv[vRow + e]! + dvj[e]!;
      featureGradRow(featureMap, w, m, d, a.k, h.kOff + (c0 + j) * d, kappa, j * mf, df, a.dk, h.kOff + (c0 + j) * d, tm, u, h.A);
    }
    // Prepend this chunk's rows to the suffix.
    let first = -1;
    for (let i = 0; i < n; i++) if (den[c0 + i] !== 0) { first = i; break; }
    if (first < 0) continue;
    const Mnew = Mrow[c0 + first]!;
    if (Mref !== Infinity) {
      const r = Math.exp(Mnew - Mref);
      for (let x = 0; x < T.length; x++) T[x] = T[x]! * r;
      for (let x = 0; x < mf; x++) t[x] = t[x]! * r;
    }
    Mref = Mnew;
    for (let i = first; i < n; i++) {
      const dn = den[c0 + i]!;
      if (dn === 0) continue;
      const gOff = h.oOff + (c0 + i) * Dv;
      const go = goRow[c0 + i]!;
      const wi = Math.exp(Mref - Mrow[c0 + i]!) / dn;
      for (let l = 0; l < mf; l++) {
        const r = wi * rho[i * mf + l]!;
        t[l] = t[l]! + r * go;
        for (let e = 0; e < Dv; e++) T[l * Dv + e] = T[l * Dv + e]! + r * a.dOut[gOff + e]!;
      }
    }
  }
}
