// FAVOR+ backward (equations (B1)–(B4) of docs/MATH.md), one task item per
// (batch, head), features recomputed one chunk at a time: working memory O(C·m' + m'·Dv) per
// thread (+ 3 floats per position for causal). The big products go through the packed gemm; the
// per-row feature derivatives are SIMD. All gradients are ADDED into dq, dk, dv.
//
// Feature scaling: a row's features f may carry any constant factor as long as its gradient df
// refers to the same f (only df⊙f enters dx). Queries use ρ_i (shift = own s), bidirectional
// keys e^{s_j−M}κ_j (final M), causal keys e^{s_j−M(j)}κ_j with M(j) their own running max, so
// every in-chunk weight e^{M(j)−M(i)} (j ≤ i) and every carried factor is ≤ 1.
import * as L from '../generated/layout';
import { word, addr, real } from './desc';
import { scratchBytes, scratchRegion } from './scratch';
import { GEMM_SCRATCH_BYTES, gemm } from './gemm';
import { axpy, dot, scale } from './simd';
import { expf } from './exp';
import { featureCount, logWeight, writeFeatures } from './features';

const R_UK = 0; // key projections u [C, m]
const R_FK = 1; // key features [C, m']
const R_UQ = 2; // query projections [C, m]
const R_FQ = 3; // query features [C, m']
const R_DF = 4; // feature gradients [C, m']
const R_TM = 5; // feature-derivative rows [C, m]
const R_S = 6; // S (causal: then the suffix T) [m', Dv]
const R_Z = 7; // z (causal: then t) [m']
const R_T = 8; // bidirectional T [m', Dv]
const R_TZ = 9; // bidirectional t [m']
const R_P = 10; // causal P / Y [C, C]
const R_GV = 11; // causal G·Vᵀ / X [C, C]
const R_OB = 12; // [C, Dv]
const R_ROWS = 13; // 6 vectors of C floats
const R_LROWS = 14; // causal: M(i), den_i, go_i over the sequence
const R_GEMM = 15;
const R_END = 16;

function regionBytes(desc: usize, r: i32): usize {
  const C = <usize>word(desc, L.FBWD_CHUNK), m = <usize>word(desc, L.FBWD_M);
  const mp = <usize>featureCount(word(desc, L.FBWD_FEATURE_MAP), word(desc, L.FBWD_M));
  const Dv = <usize>word(desc, L.FBWD_VALUE_DIM);
  const causal = word(desc, L.FBWD_CAUSAL) != 0;
  switch (r) {
    case R_UK: case R_UQ: case R_TM: return C * m << 2;
    case R_FK: case R_FQ: case R_DF: return C * mp << 2;
    case R_S: case R_T: return mp * Dv << 2;
    case R_Z: case R_TZ: return mp << 2;
    case R_P: case R_GV: return causal ? C * C << 2 : 0;
    case R_OB: return C * Dv << 2;
    case R_ROWS: return 6 * C << 2;
    case R_LROWS: return causal ? <usize>(3 * word(desc, L.FBWD_LQ)) << 2 : 0;
    default: return GEMM_SCRATCH_BYTES;
  }
}

/** Bytes of one thread's scratch. */
export function favorBwdScratchBytes(desc: usize): usize {
  return scratchBytes(desc, R_END, regionBytes);
}

function region(desc: usize, tid: i32, r: i32): usize {
  return scratchRegion(desc, tid, r, regionBytes);
}

// Per-call constants: module globals are per instance, i.e. per thread.
let gC: i32 = 0, gD: i32 = 0, gDv: i32 = 0, gM: i32 = 0, gMP: i32 = 0, gFeatureMap: i32 = 0;
let gAlpha: f32 = 0, gLogNorm: f32 = 0, gInvSqrtM: f32 = 0;
let gW: usize = 0, gWork: usize = 0;
let rUK: usize = 0, rFK: usize = 0, rUQ: usize = 0, rFQ: usize = 0, rDF: usize = 0, rTM: usize = 0;
let rS: usize = 0, rZ: usize = 0, rT: usize = 0, rTZ: usize = 0, rP: usize = 0, rGV: usize = 0, rOB: usize = 0;
let rRows: usize = 0, rLRows: usize = 0;

function setup(desc: usize, tid: i32): void {
  gC = word(desc, L.FBWD_CHUNK); gD = word(desc, L.FBWD_D); gDv = word(desc, L.FBWD_VALUE_DIM);
  gM = word(desc, L.FBWD_M); gFeatureMap = word(desc, L.FBWD_FEATURE_MAP); gMP = featureCount(gFeatureMap, gM);
  gAlpha = real(desc, L.FBWD_ALPHA_F32); gLogNorm = real(desc, L.FBWD_LOG_NORM_F32);
  gInvSqrtM = real(desc, L.FBWD_INV_SQRT_M_F32); gW = addr(desc, L.FBWD_W);
  rUK = region(desc, tid, R_UK); rFK = region(desc, tid, R_FK); rUQ = region(desc, tid, R_UQ);
  rFQ = region(desc, tid, R_FQ); rDF = region(desc, tid, R_DF); rTM = region(desc, tid, R_TM);
  rS = region(desc, tid, R_S); rZ = region(desc, tid, R_Z); rT = region(desc, tid, R_T); rTZ = region(desc, tid, R_TZ);
  rP = region(desc, tid, R_P); rGV = region(desc, tid, R_GV); rOB = region(desc, tid, R_OB);
  rRows = region(desc, tid, R_ROWS); rLRows = region(desc, tid, R_LROWS); gWork = region(desc, tid, R_GEMM);
}

// @ts-ignore: decorator
@inline function f32At(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function setF32(p: usize, i: i32, x: f32): void { store<f32>(p + (<usize>i << 2), x); }
// @ts-ignore: decorator
@inline function rowOf(base: usize, i: i32, width: i32): usize { return base + (<usize>i * <usize>width << 2); }

function maskRow(desc: usize, head: i32): usize {
  const mask = addr(desc, L.FBWD_MASK);
  if (mask == 0) return 0;
  const lk = word(desc, L.FBWD_LK);
  return mask + (<usize>((head / word(desc, L.FBWD_H)) * lk) << 2);
}

/** U = α·x·Wᵀ [n, m] and hs[i] = α²‖x_i‖²/2. */
function project(x: usize, n: i32, U: usize, hs: usize): void {
  gemm(false, true, n, gM, gD, gAlpha, x, gD, gW, gD, 0, U, gM, gWork);
  const half: f32 = 0.5 * gAlpha * gAlpha;
  for (let i = 0; i < n; i++) {
    const xi = rowOf(x, i, gD);
    setF32(hs, i, half * dot(xi, xi, gD));
  }
}

/** Feature row i of F = exp(s − shift)·κ from U row i (zero when shift is −∞ or skip). */
function featureRowAt(U: usize, F: usize, i: i32, h: f32, shift: f32, acc: usize): void {
  const f = rowOf(F, i, gMP);
  if (shift == -Infinity) { memory.fill(f, 0, <usize>gMP << 2); return; }
  memory.copy(f, rowOf(U, i, gM), <usize>gM << 2);
  writeFeatures(gFeatureMap, f, gM, h, shift, gLogNorm, gInvSqrtM, acc);
}

/** Log-weights of key rows (−∞ for masked keys j0 + i). */
function keyLogWeights(U: usize, n: i32, hs: usize, mask: usize, j0: i32, ss: usize): void {
  for (let i = 0; i < n; i++) {
    const kept = mask == 0 || f32At(mask, j0 + i) != 0;
    setF32(ss, i, kept ? logWeight(gFeatureMap, rowOf(U, i, gM), gM, f32At(hs, i)) : -Infinity);
  }
}

/** Query features ρ_i (each row shifted by its own s). */
function queryFeatures(n: i32, hs: usize): void {
  for (let i = 0; i < n; i++) {
    const h = f32At(hs, i);
    featureRowAt(rUQ, rFQ, i, h, logWeight(gFeatureMap, rowOf(rUQ, i, gM), gM, h), 0);
  }
}

/** t = a⊙b over n floats. */
function mulRow(t: usize, a: usize, b: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(t + o, f32x4.mul(v128.load(a + o), v128.load(b + o))); }
  for (; i < n; i++) setF32(t, i, f32At(a, i) * f32At(b, i));
}

/** t = a⊙b − c⊙e over n floats. */
function mulSubRow(t: usize, a: usize, b: usize, c: usize, e: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(t + o, f32x4.sub(f32x4.mul(v128.load(a + o), v128.load(b + o)), f32x4.mul(v128.load(c + o), v128.load(e + o))));
  }
  for (; i < n; i++) setF32(t, i, f32At(a, i) * f32At(b, i) - f32At(c, i) * f32At(e, i));
}

/** t = u > 0 ? df : 0 over n floats. */
function reluMaskRow(t: usize, df: usize, u: usize, n: i32): void {
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) { const o = <usize>i << 2; v128.store(t + o, v128.and(v128.load(df + o), f32x4.gt(v128.load(u + o), zero))); }
  for (; i < n; i++) setF32(t, i, f32At(u, i) > 0 ? f32At(df, i) : 0);
}

/** dX[n, d] += the gradient through the feature rows F (table in src/kernels/reference/grad/favor.ts), DF = dL/dF. */
function featureGrad(x: usize, n: i32, F: usize, DF: usize, U: usize, dX: usize): void {
  const m = gM, mp = gMP, co = rRows + (<usize>(5 * gC) << 2);
  for (let i = 0; i < n; i++) {
    const f = rowOf(F, i, mp), df = rowOf(DF, i, mp), t = rowOf(rTM, i, m);
    const fb = f + (<usize>m << 2), dfb = df + (<usize>m << 2);
    let coef: f32 = 0;
    if (gFeatureMap == L.FEATURE_MAP_SOFTMAX) { mulRow(t, df, f, m); coef = -dot(df, f, mp); }
    else if (gFeatureMap == L.FEATURE_MAP_SOFTMAX_HYP) { mulSubRow(t, df, f, dfb, fb, m); coef = -dot(df, f, mp); }
    else if (gFeatureMap == L.FEATURE_MAP_TRIG) { mulSubRow(t, df, fb, dfb, f, m); coef = dot(df, f, mp); }
    else reluMaskRow(t, df, rowOf(U, i, m), m);
    setF32(co, i, coef);
  }
  gemm(false, false, n, gD, m, gAlpha, rTM, m, gW, gD, 1, dX, gD, gWork);
  const a2 = gAlpha * gAlpha;
  for (let i = 0; i < n; i++) {
    const c = f32At(co, i);
    if (c != 0) axpy(rowOf(dX, i, gD), rowOf(x, i, gD), gD, c * a2);
  }
}

/** Bidirectional backward of one (batch, head): differentiates (F2) of docs/MATH.md,
 *  out_i = ρ_iᵀS / ρ_i·z, by (B1)–(B3) and through the features (F1) by (B4). */
export function favorBwdBidirHead(desc: usize, head: i32, tid: i32): void {
  setup(desc, tid);
  const C = gC, d = gD, Dv = gDv, mp = gMP;
  const lq = word(desc, L.FBWD_LQ), lk = word(desc, L.FBWD_LK);
  const q = addr(desc, L.FBWD_Q) + (<usize>head * <usize>lq * <usize>d << 2);
  const k = addr(desc, L.FBWD_K) + (<usize>head * <usize>lk * <usize>d << 2);
  const v = addr(desc, L.FBWD_V) + (<usize>head * <usize>lk * <usize>Dv << 2);
  const o = addr(desc, L.FBWD_OUT) + (<usize>head * <usize>lq * <usize>Dv << 2);
  const dOut = addr(desc, L.FBWD_DOUT) + (<usize>head * <usize>lq * <usize>Dv << 2);
  const dq = addr(desc, L.FBWD_DQ) + (<usize>head * <usize>lq * <usize>d << 2);
  const dk = addr(desc, L.FBWD_DK) + (<usize>head * <usize>lk * <usize>d << 2);
  const dv = addr(desc, L.FBWD_DV) + (<usize>head * <usize>lk * <usize>Dv << 2);
  const mask = maskRow(desc, head);
  const hs = rRows, ss = rRows + (<usize>C << 2), inv = rRows + (<usize>(2 * C) << 2), gos = rRows + (<usize>(3 * C) << 2);
  const S = rS, z = rZ, T = rT, t = rTZ;
  memory.fill(S, 0, <usize>(mp * Dv) << 2); memory.fill(z, 0, <usize>mp << 2);
  memory.fill(T, 0, <usize>(mp * Dv) << 2); memory.fill(t, 0, <usize>mp << 2);

  // (1) S, z, M over the keys (online max).
  let M: f32 = -Infinity;
  for (let c0 = 0; c0 < lk; c0 += C) {
    const n = min(C, lk - c0);
    project(rowOf(k, c0, d), n, rUK, hs);
    keyLogWeights(rUK, n, hs, mask, c0, ss);
    let cmax: f32 = -Infinity;
    for (let j = 0; j < n; j++) cmax = max(cmax, f32At(ss, j));
    if (cmax == -Infinity) continue;
    if (cmax > M) {
      if (M != -Infinity) { const r = expf(M - cmax); scale(S, mp * Dv, r); scale(z, mp, r); }
      M = cmax;
    }
    for (let j = 0; j < n; j++) featureRowAt(rUK, rFK, j, f32At(hs, j), f32At(ss, j) == -Infinity ? -Infinity : M, z);
    gemm(true, false, mp, Dv, n, 1, rFK, mp, rowOf(v, c0, Dv), Dv, 1, S, Dv, gWork);
  }
  if (M == -Infinity) return; // every key masked: every output is 0, no gradient

  // (2) queries: (B1) → dq; T = Σ ρ_i g_iᵀ/den_i, t = Σ ρ_i go_i/den_i.
  for (let c0 = 0; c0 < lq; c0 += C) {
    const n = min(C, lq - c0);
    const qx = rowOf(q, c0, d), dOutC = rowOf(dOut, c0, Dv);
    project(qx, n, rUQ, hs);
    queryFeatures(n, hs);
    gemm(false, true, n, mp, Dv, 1, dOutC, Dv, S, Dv, 0, rDF, mp, gWork);
    for (let i = 0; i < n; i++) {
      const fi = rowOf(rFQ, i, mp), dfi = rowOf(rDF, i, mp);
      const den = dot(fi, z, mp);
      const go = dot(rowOf(dOutC, i, Dv), rowOf(o, c0 + i, Dv), Dv);
      setF32(gos, i, go);
      if (den == 0) { memory.fill(dfi, 0, <usize>mp << 2); setF32(inv, i, 0); continue; }
      const r: f32 = 1 / den;
      setF32(inv, i, r);
      axpy(dfi, z, mp, -go);
      scale(dfi, mp, r);
    }
    featureGrad(qx, n, rFQ, rDF, rUQ, rowOf(dq, c0, d));
    for (let i = 0; i < n; i++) {
      const fi = rowOf(rFQ, i, mp), r = f32At(inv, i);
      scale(fi, mp, r);
      if (r != 0) axpy(t, fi, mp, f32At(gos, i));
    }
    gemm(true, false, mp, Dv, n, 1, rFQ, mp, dOutC, Dv, 1, T, Dv, gWork);
  }

  // (3) keys: (B2) dOutκ_j = T v_j − t, (B3) dv_j = Tᵀκ_j, with κ_j = e^{s_j−M}κ_j.
  for (let c0 = 0; c0 < lk; c0 += C) {
    const n = min(C, lk - c0);
    const kx = rowOf(k, c0, d), vc = rowOf(v, c0, Dv);
    project(kx, n, rUK, hs);
    keyLogWeights(rUK, n, hs, mask, c0, ss);
    for (let j = 0; j < n; j++) featureRowAt(rUK, rFK, j, f32At(hs, j), f32At(ss, j) == -Infinity ? -Infinity : M, 0);
    gemm(false, true, n, mp, Dv, 1, vc, Dv, T, Dv, 0, rDF, mp, gWork);
    for (let j = 0; j < n; j++) {
      const dfj = rowOf(rDF, j, mp);
      if (f32At(ss, j) == -Infinity) memory.fill(dfj, 0, <usize>mp << 2);
      else axpy(dfj, t, mp, -1);
    }
    gemm(false, false, n, Dv, mp, 1, rFK, mp, T, Dv, 1, rowOf(dv, c0, Dv), Dv, gWork);
    featureGrad(kx, n, rFK, rDF, rUK, rowOf(dk, c0, d));
  }
}

/** Causal backward of one (batch, head): differentiates (F3) of docs/MATH.md,
 *  out_i = (Σ_j A_ij v_j + α_i ρ_iᵀS) / (Σ_j A_ij + α_i ρ_i·z), by (B1)–(B4). A forward sweep with the
 *  prefix state (S, z) gives den_i, M(i), go_i and dq; a reverse sweep with the suffix state (T, t) gives dk, dv. */
export function favorBwdCausalHead(desc: usize, head: i32, tid: i32): void {
  setup(desc, tid);
  const C = gC, d = gD, Dv = gDv, mp = gMP;
  const len = word(desc, L.FBWD_LQ);
  const q = addr(desc, L.FBWD_Q) + (<usize>head * <usize>len * <usize>d << 2);
  const k = addr(desc, L.FBWD_K) + (<usize>head * <usize>len * <usize>d << 2);
  const v = addr(desc, L.FBWD_V) + (<usize>head * <usize>len * <usize>Dv << 2);
  const o = addr(desc, L.FBWD_OUT) + (<usize>head * <usize>len * <usize>Dv << 2);
  const dOut = addr(desc, L.FBWD_DOUT) + (<usize>head * <usize>len * <usize>Dv << 2);
  const dq = addr(desc, L.FBWD_DQ) + (<usize>head * <usize>len * <usize>d << 2);
  const dk = addr(desc, L.FBWD_DK) + (<usize>head * <usize>len * <usize>d << 2);
  const dv = addr(desc, L.FBWD_DV) + (<usize>head * <usize>len * <usize>Dv << 2);
  const mask = maskRow(desc, head);
  const hs = rRows, ss = rRows + (<usize>C << 2), al = rRows + (<usize>(2 * C) << 2);
  const Ms = rLRows, dens = rLRows + (<usize>len << 2), gos = rLRows + (<usize>(2 * len) << 2);
  const S = rS, z = rZ, P = rP, X = rGV;
  memory.fill(S, 0, <usize>(mp * Dv) << 2); memory.fill(z, 0, <usize>mp << 2);

  // Forward sweep.
  let Mprev: f32 = -Infinity;
  for (let c0 = 0; c0 < len; c0 += C) {
    const n = min(C, len - c0);
    const kx = rowOf(k, c0, d), qx = rowOf(q, c0, d), vc = rowOf(v, c0, Dv), dOutC = rowOf(dOut, c0, Dv);
    project(kx, n, rUK, hs);
    keyLogWeights(rUK, n, hs, mask, c0, ss);
    let run = Mprev;
    for (let j = 0; j < n; j++) { run = max(run, f32At(ss, j)); setF32(Ms, c0 + j, run); }
    for (let j = 0; j < n; j++) {
      featureRowAt(rUK, rFK, j, f32At(hs, j), f32At(ss, j) == -Infinity ? -Infinity : f32At(Ms, c0 + j), 0);
    }
    project(qx, n, rUQ, hs);
    queryFeatures(n, hs);
    gemm(false, true, n, n, mp, 1, rFQ, mp, rFK, mp, 0, P, C, gWork);
    gemm(false, true, n, n, Dv, 1, dOutC, Dv, vc, Dv, 0, X, C, gWork);
    for (let i = 0; i < n; i++) {
      const Mi = f32At(Ms, c0 + i);
      const go = dot(rowOf(dOutC, i, Dv), rowOf(o, c0 + i, Dv), Dv);
      setF32(gos, c0 + i, go);
      const alpha: f32 = Mprev == -Infinity ? 0 : expf(Mprev - Mi);
      setF32(al, i, alpha);
      let den: f32 = alpha != 0 ? alpha * dot(rowOf(rFQ, i, mp), z, mp) : 0;
      const pr = rowOf(P, i, C), xr = rowOf(X, i, C);
      for (let j = 0; j < n; j++) {
        if (j > i || f32At(ss, j) == -Infinity) { setF32(pr, j, 0); setF32(xr, j, 0); continue; }
        const e = expf(f32At(Ms, c0 + j) - Mi);
        const p = f32At(pr, j) * e;
        den += p;
        setF32(xr, j, e * (f32At(xr, j) - go));
      }
      setF32(dens, c0 + i, den);
    }
    if (Mprev != -Infinity) {
      gemm(false, true, n, mp, Dv, 1, dOutC, Dv, S, Dv, 0, rDF, mp, gWork);
      for (let i = 0; i < n; i++) {
        const dfi = rowOf(rDF, i, mp);
        axpy(dfi, z, mp, -f32At(gos, c0 + i));
        scale(dfi, mp, f32At(al, i));
      }
    } else {
      memory.fill(rDF, 0, <usize>(n * mp) << 2);
    }
    gemm(false, false, n, mp, n, 1, X, C, rFK, mp, 1, rDF, mp, gWork);
    for (let i = 0; i < n; i++) {
      const dfi = rowOf(rDF, i, mp), den = f32At(dens, c0 + i);
      if (den == 0) memory.fill(dfi, 0, <usize>mp << 2);
      else scale(dfi, mp, 1 / den);
    }
    featureGrad(qx, n, rFQ, rDF, rUQ, rowOf(dq, c0, d));
    const Mnew = f32At(Ms, c0 + n - 1);
    if (Mnew == -Infinity) continue;
    if (Mprev != -Infinity) { const r = expf(Mprev - Mnew); scale(S, mp * Dv, r); scale(z, mp, r); }
    for (let j = 0; j < n; j++) {
      if (f32At(ss, j) == -Infinity) continue;
      const kj = rowOf(rFK, j, mp);
      scale(kj, mp, expf(f32At(Ms, c0 + j) - Mnew));
      axpy(z, kj, mp, 1);
    }
    gemm(true, false, mp, Dv, n, 1, rFK, mp, vc, Dv, 1, S, Dv, gWork);
    Mprev = Mnew;
  }

  // Reverse sweep: T, t over the rows after the chunk, referenced to Mref (M of its first row).
  const T = S, t = z, Y = P;
  memory.fill(T, 0, <usize>(mp * Dv) << 2); memory.fill(t, 0, <usize>mp << 2);
  let Mref: f32 = 0, hasRef = false;
  const last = ((len - 1) / C) * C;
  for (let c0 = last; c0 >= 0; c0 -= C) {
    const n = min(C, len - c0);
    const kx = rowOf(k, c0, d), qx = rowOf(q, c0, d), vc = rowOf(v, c0, Dv), dOutC = rowOf(dOut, c0, Dv);
    project(kx, n, rUK, hs);
    keyLogWeights(rUK, n, hs, mask, c0, ss);
    for (let j = 0; j < n; j++) {
      featureRowAt(rUK, rFK, j, f32At(hs, j), f32At(ss, j) == -Infinity ? -Infinity : f32At(Ms, c0 + j), 0);
    }
    project(qx, n, rUQ, hs);
    queryFeatures(n, hs);
    gemm(false, true, n, n, mp, 1, rFQ, mp, rFK, mp, 0, Y, C, gWork);
    gemm(false, true, n, n, Dv, 1, dOutC, Dv, vc, Dv, 0, X, C, gWork);
    for (let i = 0; i < n; i++) {
      const den = f32At(dens, c0 + i), go = f32At(gos, c0 + i), Mi = f32At(Ms, c0 + i);
      const yr = rowOf(Y, i, C), xr = rowOf(X, i, C);
      for (let j = 0; j < n; j++) {
        if (j > i || den == 0 || f32At(ss, j) == -Infinity) { setF32(yr, j, 0); setF32(xr, j, 0); continue; }
        const e = expf(f32At(Ms, c0 + j) - Mi) / den;
        setF32(yr, j, f32At(yr, j) * e);
        setF32(xr, j, e * (f32At(xr, j) - go));
      }
    }
    const dvc = rowOf(dv, c0, Dv);
    if (hasRef) {
      gemm(false, true, n, mp, Dv, 1, vc, Dv, T, Dv, 0, rDF, mp, gWork);
      gemm(false, false, n, Dv, mp, 1, rFK, mp, T, Dv, 0, rOB, Dv, gWork);
      for (let j = 0; j < n; j++) {
        const dfj = rowOf(rDF, j, mp);
        const b: f32 = f32At(ss, j) == -Infinity ? 0 : expf(f32At(Ms, c0 + j) - Mref);
        axpy(dfj, t, mp, -1);
        scale(dfj, mp, b);
        if (b != 0) axpy(rowOf(dvc, j, Dv), rowOf(rOB, j, Dv), Dv, b);
      }
    } else {
      memory.fill(rDF, 0, <usize>(n * mp) << 2);
    }
    gemm(true, false, n, mp, n, 1, X, C, rFQ, mp, 1, rDF, mp, gWork);
    gemm(true, false, n, Dv, n, 1, Y, C, dOutC, Dv, 1, dvc, Dv, gWork);
    featureGrad(kx, n, rFK, rDF, rUK, rowOf(dk, c0, d));
    // Prepend this chunk's rows to the suffix.
    let first = -1;
    for (let i = 0; i < n; i++) if (f32At(dens, c0 + i) != 0) { first = i; break; }
    if (first < 0) continue;
    const Mnew = f32At(Ms, c0 + first);
    if (hasRef) { const r = expf(Mnew - Mref); scale(T, mp * Dv, r); scale(t, mp, r); }
    Mref = Mnew; hasRef = true;
    for (let i = 0; i < n; i++) {
      const fi = rowOf(rFQ, i, mp), den = f32At(dens, c0 + i);
      if (den == 0) { memory.fill(fi, 0, <usize>mp << 2); continue; }
      scale(fi, mp, expf(Mref - f32At(Ms, c0 + i)) / den);
      axpy(t, fi, mp, f32At(gos, c0 + i));
    }
    gemm(true, false, mp, Dv, n, 1, rFQ, mp, dOutC, Dv, 1, T, Dv, gWork);
  }
}
