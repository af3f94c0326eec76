// Packed, register-blocked SGEMM: C = alpha·op(A)·op(B) + beta·C, all row-major.
//
// Both operands are packed before the micro-kernel runs, which is where every transpose is
// handled: op(B) into panels of 8 columns (K rows × 8 floats), op(A) into panels of 4 rows
// (K × 4 floats). The 4×8 micro-kernel then streams both linearly whatever the layout, so A·B,
// Aᵀ·B and A·Bᵀ run at the same speed, and no access strides by a large power of two (which
// would thrash L1 sets). 8 accumulators × 4 lanes hide the FMA latency (2 FMAs/cycle × 4 cycles).
import { madd } from './simd';

export const KC: i32 = 256; // K block: a B panel (KC×8 floats = 8 KiB) stays in L1
export const NC: i32 = 512; // columns packed per block
const A_PACK_FLOATS: i32 = 128 * 256; // rows × K of A packed at a time (128 KiB, L2-resident)
const A_PACK_BYTES: usize = <usize>A_PACK_FLOATS << 2;
const TILE_BYTES: usize = 4 * 8 * 4;
/** Scratch for gemmPanels: packed A rows, then one 4×8 edge tile. */
export const PANELS_SCRATCH_BYTES: usize = A_PACK_BYTES + TILE_BYTES;
/** Scratch for gemm(): one packed KC×NC block of B, then a gemmPanels scratch. */
export const GEMM_SCRATCH_BYTES: usize = <usize>(KC * NC * 4) + PANELS_SCRATCH_BYTES;

// @ts-ignore: decorator
@inline function storeRow(c: usize, x0: v128, x1: v128, av: v128, bv: v128, beta: f32): void {
  if (beta == 0) {
    v128.store(c, f32x4.mul(x0, av));
    v128.store(c, f32x4.mul(x1, av), 16);
  } else {
    v128.store(c, madd(x0, av, f32x4.mul(v128.load(c), bv)));
    v128.store(c, madd(x1, av, f32x4.mul(v128.load(c, 16), bv)), 16);
  }
}

/** One 4×8 tile: C[r][0..8) = alpha·Σ_k a(k)[r]·b(k)[0..8) + beta·C[r] for r < 4.
 *  a is a packed A panel (16 bytes per k), b a packed B panel (32 bytes per k).
 *  beta = 0 never reads C (it may hold garbage). */
function kernel4x8(k: i32, a: usize, b: usize, c: usize, ldc: usize, alpha: f32, beta: f32): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
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
    a += 16; b += 32;
  }
  const av = f32x4.splat(alpha), bv = f32x4.splat(beta);
  storeRow(c, c00, c01, av, bv, beta);
  storeRow(c + ldc, c10, c11, av, bv, beta);
  storeRow(c + 2 * ldc, c20, c21, av, bv, beta);
  storeRow(c + 3 * ldc, c30, c31, av, bv, beta);
}

/** C[r][j] = tile[r][j] + beta·C[r][j] for the valid part of an edge tile. */
function mergeTile(tile: usize, c: usize, ldc: usize, rows: i32, cols: i32, beta: f32): void {
  for (let r = 0; r < rows; r++) {
    const t = tile + (<usize>r << 5), cr = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j << 2;
      const prev: f32 = beta == 0 ? 0 : beta * load<f32>(cr + o);
      store<f32>(cr + o, load<f32>(t + o) + prev);
    }
  }
}

/** C[M×N] = alpha·op(A)·B + beta·C with B already packed.
 *  op(A)(i, k) = transA ? a[k·lda + i] : a[i·lda + k]. B: ⌈N/8⌉ panels, panel p at bp + p·panelStride,
 *  each ≥ K rows of 8 floats, zero beyond column N. C: row stride ldc floats.
 *  scratch: PANELS_SCRATCH_BYTES. Edge tiles (M % 4, N % 8) run the same micro-kernel into a
 *  tile, then merge. */
export function gemmPanels(M: i32, N: i32, K: i32, a: usize, lda: i32, transA: bool, bp: usize,
  panelStride: usize, c: usize, ldc: i32, alpha: f32, beta: f32, scratch: usize): void {
  const ldcb = <usize>ldc << 2;
  const tile = scratch + A_PACK_BYTES;
  // Rows per A block: as many as fit the pack buffer (at least one micro-tile).
  const rowsPerBlock = max(4, (A_PACK_FLOATS / max(K, 1)) & ~3);
  const panelBytes = <usize>K << 4;
  for (let m0 = 0; m0 < M; m0 += rowsPerBlock) {
    const mc = min(rowsPerBlock, M - m0);
    const aBlock = a + (<usize>(transA ? m0 : m0 * lda) << 2);
    packA(transA, aBlock, lda, mc, K, scratch);
    for (let j = 0; j < N; j += 8) {
      const cols = min(8, N - j);
      const b = bp + <usize>(j >> 3) * panelStride;
      for (let i = 0; i < mc; i += 4) {
        const rows = min(4, mc - i);
        const ap = scratch + <usize>(i >> 2) * panelBytes;
        const cij = c + <usize>(m0 + i) * ldcb + (<usize>j << 2);
        if (rows == 4 && cols == 8) {
          kernel4x8(K, ap, b, cij, ldcb, alpha, beta);
        } else {
          kernel4x8(K, ap, b, tile, 32, alpha, 0);
          mergeTile(tile, cij, ldcb, rows, cols, beta);
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

/** Packs op(A) rows [0, rows) × [0, K) into ⌈rows/4⌉ panels of K×4 floats at dst, zero-padded.
 *  op(A)(i, k) = transA ? a[k·lda + i] : a[i·lda + k]. */
function packA(transA: bool, a: usize, lda: i32, rows: i32, K: i32, dst: usize): void {
  const ldab = <usize>lda << 2;
  for (let i = 0; i < rows; i += 4) {
    const valid = min(4, rows - i);
    const panel = dst + <usize>(i >> 2) * (<usize>K << 4);
    if (transA) {
      const src = a + (<usize>i << 2); // a(k, i..i+3) is contiguous
      if (valid == 4) {
        for (let k = 0; k < K; k++) v128.store(panel + (<usize>k << 4), v128.load(src + <usize>k * ldab));
      } else {
        for (let k = 0; k < K; k++) {
          const s = src + <usize>k * ldab, d = panel + (<usize>k << 4);
          for (let r = 0; r < 4; r++) store<f32>(d + (<usize>r << 2), r < valid ? load<f32>(s + (<usize>r << 2)) : 0);
        }
      }
    } else {
      const src = a + <usize>i * ldab; // row i, contiguous along k
      if (valid == 4) {
        let k = 0;
        for (; k + 4 <= K; k += 4) {
          const s = src + (<usize>k << 2);
          transpose4(v128.load(s), v128.load(s + ldab), v128.load(s + 2 * ldab), v128.load(s + 3 * ldab),
            panel + (<usize>k << 4), 16);
        }
        for (; k < K; k++) {
          const d = panel + (<usize>k << 4);
          for (let r = 0; r < 4; r++) store<f32>(d + (<usize>r << 2), load<f32>(src + <usize>r * ldab + (<usize>k << 2)));
        }
      } else {
        for (let k = 0; k < K; k++) {
          const d = panel + (<usize>k << 4);
          for (let r = 0; r < 4; r++) {
            store<f32>(d + (<usize>r << 2), r < valid ? load<f32>(src + <usize>r * ldab + (<usize>k << 2)) : 0);
          }
        }
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
