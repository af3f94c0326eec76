// JS driver of the packed SIMD matmul: C = alpha·op(A)·op(B) + beta·C over tiles of C.
import * as L from './layout.js';
import type { Context } from './context.js';
import { Staging } from './staging.js';
import { checkDims, checkLength } from './check.js';

/** Dense row-major operands: op(A) is M×K and op(B) is K×N; A is stored K×M when transA, B is
 *  stored N×K when transB. C is M×N. alpha defaults to 1, beta to 0 (C is then only written). */
export interface MatmulArgs {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  M: number; N: number; K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
}

/** Below this many multiply-adds a single tile on the calling thread is cheaper than a wake-up. */
const PARALLEL_MIN_MACS = 1 << 18;

export function runMatmul(ctx: Context, a: MatmulArgs): void {
  const what = 'wasm matmul';
  const { M, N, K } = a;
  checkDims(what, { M, N, K });
  checkLength(what, 'a', a.a, M * K);
  checkLength(what, 'b', a.b, K * N);
  checkLength(what, 'c', a.c, M * N);
  const alpha = a.alpha ?? 1, beta = a.beta ?? 0;
  const tiles = tiling(M, N, M * N * K < PARALLEL_MIN_MACS ? 1 : ctx.threads);

  const staging = new Staging(ctx.heap);
  try {
    const pa = staging.input(a.a), pb = staging.input(a.b), pc = staging.output(a.c, beta !== 0);
    const stride = ctx.kernels.matmulScratchBytes();
    const scratch = ctx.scratch(stride * ctx.threads);
    const { u32, f32 } = ctx.descriptor();
    u32[L.MATMUL_A] = pa; u32[L.MATMUL_B] = pb; u32[L.MATMUL_C] = pc;
    u32[L.MATMUL_M] = M; u32[L.MATMUL_N] = N; u32[L.MATMUL_K] = K;
    u32[L.MATMUL_TRANS_A] = a.transA ? 1 : 0; u32[L.MATMUL_TRANS_B] = a.transB ? 1 : 0;
    u32[L.MATMUL_TILE_M] = tiles.rows; u32[L.MATMUL_TILE_N] = tiles.cols; u32[L.MATMUL_TILES_N] = tiles.tilesN;
    u32[L.MATMUL_SCRATCH] = scratch; u32[L.MATMUL_SCRATCH_STRIDE] = stride;
    f32[L.MATMUL_ALPHA_F32] = alpha; f32[L.MATMUL_BETA_F32] = beta;
    ctx.run('matmulTile', tiles.count);
    staging.commit();
  } finally {
    staging.release();
  }
}

/** Tiles of C: about 4 per thread, split along M in multiples of 4 rows when M allows, else
 *  along N in multiples of 8 columns (the micro-kernel's 4×8 shape). */
function tiling(M: number, N: number, threads: number): { rows: number; cols: number; tilesN: number; count: number } {
  const want = threads === 1 ? 1 : 4 * threads;
  const rows = Math.max(4, roundUp(Math.ceil(M / want), 4));
  const rowTiles = Math.max(1, Math.ceil(M / rows));
  const cols = rowTiles >= want ? Math.max(N, 1) : Math.max(8, roundUp(Math.ceil(N / Math.ceil(want / rowTiles)), 8));
  const tilesN = Math.max(1, Math.ceil(N / cols));
  return { rows, cols, tilesN, count: rowTiles * tilesN };
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
