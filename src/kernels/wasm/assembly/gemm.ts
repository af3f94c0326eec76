// Packed, register-blocked SGEMM: C = alpha·op(A)·op(B) + beta·C, all row-major.
//
// Both operands are packed before the micro-kernel runs, which is where every transpose is
// handled: op(B) into panels of 8 columns (K rows × 8 floats), op(A) into panels of MR rows
// (K × MR floats). The MR×8 micro-kernel then streams both linearly whatever the layout, so A·B,
// Aᵀ·B and A·Bᵀ run at the same speed, and no access strides by a large power of two (which
// would thrash L1 sets). With FMA, MR = 6: 12 accumulators + 2 B vectors + 1 broadcast use 15 of
// the 16 xmm registers (V8 keeps one as scratch), 8 loads per 12 FMAs, ~15% faster than 4×8.
// The plain build needs a register more per product (mul, then add), so it uses MR = 4.
import { madd, scale } from './simd';

const KC: i32 = 256; // K block: a B panel (KC×8 floats = 8 KiB) stays in L1
const NC: i32 = 512; // columns packed per block
/** Rows of a micro-tile (a compile-time constant per build). */
const MR: i32 = ASC_FEATURE_RELAXED_SIMD ? 6 : 4;
const A_PANEL_K_BYTES: usize = <usize>MR << 2; // one k of an A panel
const A_PACK_FLOATS: i32 = 126 * 256; // rows × K of A packed at a time (~128 KiB, L2-resident)
const A_PACK_BYTES: usize = <usize>A_PACK_FLOATS << 2;
const TILE_BYTES: usize = <usize>(MR * 8) << 2;
/** Scratch for gemmPanels: packed A rows, then one edge tile. */
export const PANELS_SCRATCH_BYTES: usize = A_PACK_BYTES + TILE_BYTES;
/** Scratch for gemm(): one packed KC×NC block of B, then a gemmPanels scratch. */
export const GEMM_SCRATCH_BYTES: usize = <usize>(KC * NC * 4) + PANELS_SCRATCH_BYTES;

/** One MR×8 tile: C[r][0..8) (+)= Σ_k a(k)[r]·b(k)[0..8) for r < MR, adding to C when accumulate.
 *  a is a packed A panel (MR floats per k), b a packed B panel (8 floats per k). Up to 15 vectors
 *  are live in the loop, so the shape around it matters: no float parameters (gemmPanels applies
 *  alpha to the packed A and beta to C beforehand), and accumulating starts the sums from C
 *  rather than adding after the loop. Either of those made V8 spill accumulators (−45%). */
function kernel(k: i32, a: usize, b: usize, c: usize, ldc: usize, accumulate: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  let c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  if (accumulate) {
    c00 = v128.load(c); c01 = v128.load(c, 16);
    c10 = v128.load(c + ldc); c11 = v128.load(c + ldc, 16);
    c20 = v128.load(c + 2 * ldc); c21 = v128.load(c + 2 * ldc, 16);
    c30 = v128.load(c + 3 * ldc); c31 = v128.load(c + 3 * ldc, 16);
    if (MR == 6) {
      c40 = v128.load(c + 4 * ldc); c41 = v128.load(c + 4 * ldc, 16);
      c50 = v128.load(c + 5 * ldc); c51 = v128.load(c + 5 * ldc, 16);
    }
  }
  for (let i = 0; i < k; i++) {
    const b0 = v128.load(b), b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(a, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    if (MR == 6) {
      x = v128.load32_splat(a, 16);
      c40 = madd(x, b0, c40); c41 = madd(x, b1, c41);
      x = v128.load32_splat(a, 20);
      c50 = madd(x, b0, c50); c51 = madd(x, b1, c51);
    }
    a += A_PANEL_K_BYTES; b += 32;
  }
  v128.store(c, c00); v128.store(c, c01, 16);
  v128.store(c + ldc, c10); v128.store(c + ldc, c11, 16);
  v128.store(c + 2 * ldc, c20); v128.store(c + 2 * ldc, c21, 16);
  v128.store(c + 3 * ldc, c30); v128.store(c + 3 * ldc, c31, 16);
  if (MR == 6) {
    v128.store(c + 4 * ldc, c40); v128.store(c + 4 * ldc, c41, 16);
    v128.store(c + 5 * ldc, c50); v128.store(c + 5 * ldc, c51, 16);
  }
}

/** C[r][j] (+)= tile[r][j] for the valid part of an edge tile. */
function mergeTile(tile: usize, c: usize, ldc: usize, rows: i32, cols: i32, accumulate: bool): void {
  if (cols == 8) { // a row edge (M % MR) of full panels: whole vectors
    for (let r = 0; r < rows; r++) {
      const t = tile + (<usize>r << 5), cr = c + <usize>r * ldc;
      let lo = v128.load(t), hi = v128.load(t, 16);
      if (accumulate) { lo = f32x4.add(lo, v128.load(cr)); hi = f32x4.add(hi, v128.load(cr, 16)); }
      v128.store(cr, lo); v128.store(cr, hi, 16);
    }
    return;
  }
  for (let r = 0; r < rows; r++) {
    const t = tile + (<usize>r << 5), cr = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(cr + o, load<f32>(t + o) + (accumulate ? load<f32>(cr + o) : 0));
    }
  }
}

/** C[M×N] = alpha·op(A)·B + beta·C with B already packed.
 *  op(A)(i, k) = transA ? a[k·lda + i] : a[i·lda + k]. B: ⌈N/8⌉ panels, panel p at bp + p·panelStride,
 *  each ≥ K rows of 8 floats, zero beyond column N. C: row stride ldc floats.
 *  scratch: PANELS_SCRATCH_BYTES. beta = 0 never reads C. Edge tiles (M % MR, N % 8) run the
 *  same micro-kernel into a tile, then merge. cPanelBytes: bytes from one 8-column block of C to
 *  the next (32 for row-major C; with ldc = 8 and cPanelBytes = M·32, C is itself a packed B
 *  operand, e.g. the causal FAVOR+ state, which is then read without repacking). */
export function gemmPanels(M: i32, N: i32, K: i32, a: usize, lda: i32, transA: bool, bp: usize,
  panelStride: usize, c: usize, ldc: i32, alpha: f32, beta: f32, scratch: usize, cPanelBytes: usize = 32): void {
  const ldcb = <usize>ldc << 2;
  const tile = scratch + A_PACK_BYTES;
  if (beta != 0 && beta != 1) {
    if (cPanelBytes == 32) {
      for (let i = 0; i < M; i++) scale(c + <usize>i * ldcb, N, beta);
    } else {
      for (let j = 0; j < N; j += 8) {
        for (let i = 0; i < M; i++) scale(c + <usize>i * ldcb + <usize>(j >> 3) * cPanelBytes, min(8, N - j), beta);
      }
    }
  }
  const accumulate = beta != 0;
  // Rows per A block: as many micro-tiles as fit the pack buffer (at least one).
  const rowsPerBlock = max(1, A_PACK_FLOATS / (MR * max(K, 1))) * MR;
  const panelBytes = <usize>K * A_PANEL_K_BYTES;
  for (let m0 = 0; m0 < M; m0 += rowsPerBlock) {
    const mc = min(rowsPerBlock, M - m0);
    const aBlock = a + (<usize>(transA ? m0 : m0 * lda) << 2);
    packA(transA, aBlock, lda, mc, K, scratch);
    if (alpha != 1) scale(scratch, ((mc + MR - 1) / MR) * MR * K, alpha);
    for (let j = 0; j < N; j += 8) {
      const cols = min(8, N - j);
      const b = bp + <usize>(j >> 3) * panelStride;
      for (let i = 0; i < mc; i += MR) {
        const rows = min(MR, mc - i);
        const ap = scratch + <usize>(i / MR) * panelBytes;
        const cij = c + <usize>(m0 + i) * ldcb + <usize>(j >> 3) * cPanelBytes;
        if (rows == MR && cols == 8) {
          kernel(K, ap, b, cij, ldcb, accumulate);
        } else {
          kernel(K, ap, b, tile, 32, false);
          mergeTile(tile, cij, ldcb, rows, cols, accumulate);
        }
      }
    }
  }
}

// @ts-ignore: decorator
@inline function transpose4(v0: v128, v1: v128, v2: v128, v3: v128, dst: usize, step: usize): void {
  // Rows v0..v3 (4 values along k each) → 4 k-rows of 4, written `step` bytes apart.
  const t0 = v128.shuffle<f32>(v0, v1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(v2, v3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(v0, v1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(v2, v3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + step, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * step, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/** Packs op(A) rows [0, rows) × [0, K) into ⌈rows/MR⌉ panels of K×MR floats at dst, zero-padded.
 *  op(A)(i, k) = transA ? a[k·lda + i] : a[i·lda + k]. */
function packA(transA: bool, a: usize, lda: i32, rows: i32, K: i32, dst: usize): void {
  const ldab = <usize>lda << 2;
  for (let i = 0; i < rows; i += MR) {
    const valid = min(MR, rows - i);
    const panel = dst + <usize>(i / MR) * <usize>K * A_PANEL_K_BYTES;
    if (valid < MR) {
      for (let k = 0; k < K; k++) {
        const d = panel + <usize>k * A_PANEL_K_BYTES;
        for (let r = 0; r < MR; r++) {
          const at = transA ? <usize>k * ldab + (<usize>(i + r) << 2) : <usize>(i + r) * ldab + (<usize>k << 2);
          store<f32>(d + (<usize>r << 2), r < valid ? load<f32>(a + at) : 0);
        }
      }
    } else if (transA) {
      const src = a + (<usize>i << 2); // a(k, i .. i+MR) is contiguous
      for (let k = 0; k < K; k++) {
        const s = src + <usize>k * ldab, d = panel + <usize>k * A_PANEL_K_BYTES;
        v128.store(d, v128.load(s));
        if (MR == 6) store<u64>(d, load<u64>(s, 16), 16);
      }
    } else {
      const src = a + <usize>i * ldab; // row i, contiguous along k
      let k = 0;
      for (; k + 4 <= K; k += 4) {
        const s = src + (<usize>k << 2), d = panel + <usize>k * A_PANEL_K_BYTES;
        // Rows 0–3 by a 4×4 transpose, rows 4–5 (MR = 6) as (r4, r5) pairs, for k .. k+3.
        transpose4(v128.load(s), v128.load(s + ldab), v128.load(s + 2 * ldab), v128.load(s + 3 * ldab), d, A_PANEL_K_BYTES);
        if (MR == 6) {
          const v4 = v128.load(s + 4 * ldab), v5 = v128.load(s + 5 * ldab);
          const lo = v128.shuffle<f32>(v4, v5, 0, 4, 1, 5), hi = v128.shuffle<f32>(v4, v5, 2, 6, 3, 7);
          v128.store64_lane(d + 16, lo, 0);
          v128.store64_lane(d + 16 + A_PANEL_K_BYTES, lo, 1);
          v128.store64_lane(d + 16 + 2 * A_PANEL_K_BYTES, hi, 0);
          v128.store64_lane(d + 16 + 3 * A_PANEL_K_BYTES, hi, 1);
        }
      }
      for (; k < K; k++) {
        const d = panel + <usize>k * A_PANEL_K_BYTES;
        for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), load<f32>(src + <usize>r * ldab + (<usize>k << 2)));
      }
    }
  }
}

/** Packs op(B)[k0 .. k0+kc, n0 .. n0+nc] into ⌈nc/8⌉ panels of kc×8 floats at dst, zero-padded.
 *  op(B)(k, n) = transB ? b[n·ldb + k] : b[k·ldb + n]. */
export function packB(transB: bool, b: usize, ldb: i32, k0: i32, kc: i32, n0: i32, nc: i32, dst: usize): void {
  const ldbb = <usize>ldb << 2;
  for (let j = 0; j < nc; j += 8) {
    const cols = min(8, nc - j);
    const panel = dst + <usize>(j >> 3) * (<usize>kc << 5);
    if (!transB) {
      const src = b + <usize>k0 * ldbb + (<usize>(n0 + j) << 2);
      if (cols == 8) {
        for (let k = 0; k < kc; k++) {
          const s = src + <usize>k * ldbb, d = panel + (<usize>k << 5);
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const s = src + <usize>k * ldbb, d = panel + (<usize>k << 5);
          for (let c = 0; c < 8; c++) store<f32>(d + (<usize>c << 2), c < cols ? load<f32>(s + (<usize>c << 2)) : 0);
        }
      }
    } else {
      const src = b + <usize>(n0 + j) * ldbb + (<usize>k0 << 2); // row n0+j of Bᵀ, at column k0
      if (cols == 8) {
        let k = 0;
        for (; k + 4 <= kc; k += 4) {
          const s = src + (<usize>k << 2), d = panel + (<usize>k << 5);
          transpose4(v128.load(s), v128.load(s + ldbb), v128.load(s + 2 * ldbb), v128.load(s + 3 * ldbb), d, 32);
          const s4 = s + 4 * ldbb;
          transpose4(v128.load(s4), v128.load(s4 + ldbb), v128.load(s4 + 2 * ldbb), v128.load(s4 + 3 * ldbb), d + 16, 32);
        }
        for (; k < kc; k++) {
          const d = panel + (<usize>k << 5);
          for (let c = 0; c < 8; c++) store<f32>(d + (<usize>c << 2), load<f32>(src + <usize>c * ldbb + (<usize>k << 2)));
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const d = panel + (<usize>k << 5);
          for (let c = 0; c < 8; c++) {
            store<f32>(d + (<usize>c << 2), c < cols ? load<f32>(src + <usize>c * ldbb + (<usize>k << 2)) : 0);
          }
        }
      }
    }
  }
}

/** C[M×N] = alpha·op(A)·op(B) + beta·C (row-major; lda, ldb, ldc in floats, as stored).
 *  scratch: GEMM_SCRATCH_BYTES private to the calling thread. beta = 0 never reads C. */
export function gemm(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32,
  a: usize, lda: i32, b: usize, ldb: i32, beta: f32, c: usize, ldc: i32, scratch: usize): void {
  const work = scratch + <usize>(KC * NC * 4);
  if (K == 0) {
    // No products: C = beta·C (the micro-kernel never touches the operands when K = 0).
    gemmPanels(M, N, 0, a, lda, transA, scratch, 0, c, ldc, alpha, beta, work);
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const betaK: f32 = k0 == 0 ? beta : 1; // later K blocks accumulate onto the first
    const aK = a + (<usize>(transA ? k0 * lda : k0) << 2);
    for (let n0 = 0; n0 < N; n0 += NC) {
      const nc = min(NC, N - n0);
      packB(transB, b, ldb, k0, kc, n0, nc, scratch);
      gemmPanels(M, nc, kc, aK, lda, transA, scratch, <usize>kc << 5, c + (<usize>n0 << 2), ldc, alpha, betaK, work);
    }
  }
}
