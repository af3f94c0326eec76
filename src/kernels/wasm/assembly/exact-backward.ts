// Exact softmax attention backward (docs/MATH.md "Exact attention"), FlashAttention-2 style, with
// the math of src/kernels/reference/grad/exact.ts.
// With S = QKᵀ/√d (−∞ for masked keys and, causal, for j > i), P = softmax_rows(S), dO = dL/dO,
// (E2) in matrix form:
//   D_i = dO_i·O_i,   dS = P∘(dO Vᵀ − D),   dV += Pᵀ dO,   dQ += dS K/√d,   dK += dSᵀ Q/√d.
// One task item per (batch, head): the item owns that head's dq, dk, dv rows, so it adds into them
// in place with no atomics. Per block of R query rows, pass 1 writes S for every key the block sees
// into an R×Lk panel and turns it into P row by row (max, exp, 1/sum; the forward's softmax, so
// nothing from the forward besides O is needed); pass 2 streams key blocks of C through the packed
// gemm. Nothing of size L×L: scratch O(R·(Lk + d + Dv) + C·(d + Dv)) per thread.
import * as L from '../generated/layout';
import { word, addr, real, roundUp8 } from './desc';
import { scratchBytes, scratchRegion } from './scratch';
import { PANELS_SCRATCH_BYTES, gemmPanels, packB } from './gemm';
import { dot, maxOf, scale, sumOf } from './simd';
import { expRow } from './exp';

const R: i32 = 48; // query rows per block: a multiple of the micro-tile rows (6 and 4)
const C: i32 = 96; // keys per block: whole 8-column panels, and a multiple of 6 and 4 as rows of dV, dK

const R_P = 0; // P panel [R, ldp]
const R_DS = 1; // dP, then dS [R, C]
const R_KT = 2; // Kᵀ block packed (B operand of S = QKᵀ)
const R_VT = 3; // Vᵀ block packed (B operand of G Vᵀ)
const R_K = 4; // K block packed (B operand of dS K)
const R_Q = 5; // Q block packed (B operand of dSᵀ Q)
const R_DOUT = 6; // G block packed (B operand of Pᵀ G)
const R_BIAS = 7; // 0 for kept keys, −∞ for masked ones [Lk]
const R_D = 8; // D_i of the block [R]
const R_WORK = 9;
const R_END = 10;

/** Row stride of the P panel in floats: an odd multiple of 8 (32 B), so successive rows fall in
 *  different L1 sets; a power-of-two stride (Lk = 2048) would put a whole column of the panel, which
 *  packA reads for Pᵀ, into one set. */
function panelStride(lk: i32): i32 {
  return ((lk + 15) & ~15) + 8;
}

function regionBytes(desc: usize, r: i32): usize {
  const lk = word(desc, L.EBWD_LK), d = <usize>word(desc, L.EBWD_D), Dv = <usize>word(desc, L.EBWD_VALUE_DIM);
  switch (r) {
    case R_P: return <usize>R * <usize>panelStride(lk) << 2;
    case R_DS: return <usize>(R * C) << 2;
    case R_KT: case R_K: return <usize>C * <usize>roundUp8(<i32>d) << 2;
    case R_VT: return <usize>C * <usize>roundUp8(<i32>Dv) << 2;
    case R_Q: return <usize>R * <usize>roundUp8(<i32>d) << 2;
    case R_DOUT: return <usize>R * <usize>roundUp8(<i32>Dv) << 2;
    case R_BIAS: return addr(desc, L.EBWD_MASK) != 0 ? <usize>lk << 2 : 0;
    case R_D: return <usize>R << 2;
    default: return PANELS_SCRATCH_BYTES;
  }
}

/** Bytes of one thread's scratch. */
export function exactBwdScratchBytes(desc: usize): usize {
  return scratchBytes(desc, R_END, regionBytes);
}

function region(desc: usize, tid: i32, r: i32): usize {
  return scratchRegion(desc, tid, r, regionBytes);
}

// @ts-ignore: decorator
@inline function rowOf(base: usize, i: i32, width: i32): usize { return base + (<usize>i * <usize>width << 2); }

/** row[j] += bias[j] over n floats (−∞ marks a masked key). */
function addRow(row: usize, bias: usize, n: i32): void {
  let j = 0;
  for (; j + 4 <= n; j += 4) { const o = <usize>j << 2; v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o))); }
  for (; j < n; j++) { const o = <usize>j << 2; store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o)); }
}

/** ds[j] = p[j]·(ds[j] − D) over n floats: dS = P∘(dP − D) with dP already in ds. */
function dsRow(ds: usize, p: usize, D: f32, n: i32): void {
  const dd = f32x4.splat(D);
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    const o = <usize>j << 2;
    v128.store(ds + o, f32x4.mul(v128.load(p + o), f32x4.sub(v128.load(ds + o), dd)));
  }
  for (; j < n; j++) { const o = <usize>j << 2; store<f32>(ds + o, load<f32>(p + o) * (load<f32>(ds + o) - D)); }
}

/** Rows of S over keys [0, keyEnd) → P in place; returns how many rows see at least one key.
 *  A row that sees none (all its keys masked) gets P = 0: output 0 and no gradient (MATH.md). */
function softmaxRows(P: usize, ldp: i32, nr: i32, i0: i32, keyEnd: i32, causal: bool, bias: usize): i32 {
  let seen = 0;
  for (let r = 0; r < nr; r++) {
    const row = rowOf(P, r, ldp);
    const n = causal ? min(keyEnd, i0 + r + 1) : keyEnd; // keys row i0 + r may see
    if (bias != 0) addRow(row, bias, n);
    const m = maxOf(row, n);
    if (m == -Infinity) { memory.fill(row, 0, <usize>keyEnd << 2); continue; }
    expRow(row, row, n, m, 0);
    scale(row, n, 1 / sumOf(row, n));
    memory.fill(row + (<usize>n << 2), 0, <usize>(keyEnd - n) << 2);
    seen++;
  }
  return seen;
}

/** Task: the backward of one (batch, head): differentiates (E1) of docs/MATH.md,
 *  out_i = Σ_j p_ij v_j with p_ij = softmax_j(q_i·k_j/√d), by (E2). */
export function exactBwdHead(desc: usize, head: i32, tid: i32): void {
  const lq = word(desc, L.EBWD_LQ), lk = word(desc, L.EBWD_LK);
  const d = word(desc, L.EBWD_D), Dv = word(desc, L.EBWD_VALUE_DIM);
  const causal = word(desc, L.EBWD_CAUSAL) != 0, sc = real(desc, L.EBWD_SCALE_F32);
  const h = <usize>head;
  const q = addr(desc, L.EBWD_Q) + (h * <usize>lq * <usize>d << 2);
  const k = addr(desc, L.EBWD_K) + (h * <usize>lk * <usize>d << 2);
  const v = addr(desc, L.EBWD_V) + (h * <usize>lk * <usize>Dv << 2);
  const o = addr(desc, L.EBWD_OUT) + (h * <usize>lq * <usize>Dv << 2);
  const dOut = addr(desc, L.EBWD_DOUT) + (h * <usize>lq * <usize>Dv << 2);
  const dq = addr(desc, L.EBWD_DQ) + (h * <usize>lq * <usize>d << 2);
  const dk = addr(desc, L.EBWD_DK) + (h * <usize>lk * <usize>d << 2);
  const dv = addr(desc, L.EBWD_DV) + (h * <usize>lk * <usize>Dv << 2);

  const P = region(desc, tid, R_P), dS = region(desc, tid, R_DS), ktPack = region(desc, tid, R_KT);
  const vtPack = region(desc, tid, R_VT), kPack = region(desc, tid, R_K), qPack = region(desc, tid, R_Q);
  const dOutPack = region(desc, tid, R_DOUT), Drow = region(desc, tid, R_D), work = region(desc, tid, R_WORK);
  const ldp = panelStride(lk);

  const maskBase = addr(desc, L.EBWD_MASK);
  let bias: usize = 0;
  if (maskBase != 0) {
    const mask = maskBase + (<usize>((head / word(desc, L.EBWD_H)) * lk) << 2);
    bias = region(desc, tid, R_BIAS);
    for (let j = 0; j < lk; j++) {
      store<f32>(bias + (<usize>j << 2), load<f32>(mask + (<usize>j << 2)) == 0 ? -Infinity : 0);
    }
  }

  for (let i0 = 0; i0 < lq; i0 += R) {
    const nr = min(R, lq - i0);
    const keyEnd = causal ? min(lk, i0 + nr) : lk; // causal: key blocks above the diagonal are skipped
    const qi = rowOf(q, i0, d), dOutI = rowOf(dOut, i0, Dv);
    // Pass 1: S = QKᵀ/√d for the keys the block sees, then P.
    for (let j0 = 0; j0 < keyEnd; j0 += C) {
      const nc = min(C, keyEnd - j0);
      packB(true, rowOf(k, j0, d), d, 0, d, 0, nc, ktPack);
      gemmPanels(nr, nc, d, qi, d, false, ktPack, <usize>d << 5, P + (<usize>j0 << 2), ldp, sc, 0, work);
    }
    if (softmaxRows(P, ldp, nr, i0, keyEnd, causal, bias) == 0) continue;
    for (let r = 0; r < nr; r++) {
      store<f32>(Drow + (<usize>r << 2), dot(rowOf(dOutI, r, Dv), rowOf(o, i0 + r, Dv), Dv));
    }
    packB(false, qi, d, 0, nr, 0, d, qPack);
    packB(false, dOutI, Dv, 0, nr, 0, Dv, dOutPack);
    // Pass 2, per key block: dP = G Vᵀ, dS = P∘(dP − D), then dV, dQ, dK.
    for (let j0 = 0; j0 < keyEnd; j0 += C) {
      const nc = min(C, keyEnd - j0);
      const pj = P + (<usize>j0 << 2);
      packB(true, rowOf(v, j0, Dv), Dv, 0, Dv, 0, nc, vtPack);
      gemmPanels(nr, nc, Dv, dOutI, Dv, false, vtPack, <usize>Dv << 5, dS, C, 1, 0, work);
      for (let r = 0; r < nr; r++) dsRow(rowOf(dS, r, C), rowOf(pj, r, ldp), load<f32>(Drow + (<usize>r << 2)), nc);
      gemmPanels(nc, Dv, nr, pj, ldp, true, dOutPack, <usize>nr << 5, rowOf(dv, j0, Dv), Dv, 1, 1, work);
      packB(false, rowOf(k, j0, d), d, 0, nc, 0, d, kPack);
      gemmPanels(nr, d, nc, dS, C, false, kPack, <usize>nc << 5, rowOf(dq, i0, d), d, sc, 1, work);
      gemmPanels(nc, d, nr, dS, C, true, qPack, <usize>nr << 5, rowOf(dk, j0, d), d, sc, 1, work);
    }
  }
}
