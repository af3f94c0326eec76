// The user-facing matmul as a task over tiles of C (each tile is an independent gemm).
import * as L from '../generated/layout';
import { word, addr, real } from './desc';
import { GEMM_SCRATCH_BYTES, gemm } from './gemm';
import { threadScratch } from './scratch';

/** Bytes of scratch one thread needs for matmulTile. */
export function matmulScratchBytes(): usize {
  return GEMM_SCRATCH_BYTES;
}

/** Task: item = matrix·tiles + tile row·tilesN + tile column, for a batch of
 *  C = alpha·op(A)·op(B) + beta·C where op(A) is M×K and op(B) is K×N, densely stored row-major
 *  (A as K×M when transposed, B as N×K); matrix t starts t·stride elements into each array. */
export function matmulTile(desc: usize, item: i32, tid: i32): void {
  const M = word(desc, L.MATMUL_M), N = word(desc, L.MATMUL_N), K = word(desc, L.MATMUL_K);
  const transA = word(desc, L.MATMUL_TRANS_A) != 0, transB = word(desc, L.MATMUL_TRANS_B) != 0;
  const tm = word(desc, L.MATMUL_TILE_M), tn = word(desc, L.MATMUL_TILE_N);
  const tilesN = word(desc, L.MATMUL_TILES_N), tiles = word(desc, L.MATMUL_TILES);
  const matrix = <usize>(item / tiles), tile = item % tiles;
  const m0 = (tile / tilesN) * tm, n0 = (tile % tilesN) * tn;
  const a = addr(desc, L.MATMUL_A) + (matrix * addr(desc, L.MATMUL_STRIDE_A) + <usize>(transA ? m0 : m0 * K) << 2);
  const b = addr(desc, L.MATMUL_B) + (matrix * addr(desc, L.MATMUL_STRIDE_B) + <usize>(transB ? n0 * K : n0) << 2);
  const c = addr(desc, L.MATMUL_C) + (matrix * addr(desc, L.MATMUL_STRIDE_C) + <usize>m0 * <usize>N + <usize>n0 << 2);
  const scratch = threadScratch(desc, tid);
  gemm(transA, transB, min(tm, M - m0), min(tn, N - n0), K, real(desc, L.MATMUL_ALPHA_F32),
    a, transA ? M : K, b, transB ? K : N, real(desc, L.MATMUL_BETA_F32), c, N, scratch);
}
