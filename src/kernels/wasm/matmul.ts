// JS driver of the packed SIMD matmul: C = alpha·op(A)·op(B) + beta·C over tiles of C.
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkDims, checkLength } from './check.js';

/** batch × (C = alpha·op(A)·op(B) + beta·C). Dense row-major operands: op(A) is M×K and op(B) is
 *  K×N; A is stored K×M when transA, B is stored N×K when transB; C is M×N. Matrix t of the batch
 *  starts t·stride elements into each array (defaults: packed, M·K, K·N and M·N); strideA or
 *  strideB 0 broadcasts one matrix, C matrices must not overlap. alpha defaults to 1, beta to 0
 *  (C is then only written). The whole batch is one parallel job. */
export interface MatmulArgs {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
  M: number; N: number; K: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/** Below this many multiply-adds a single tile on the calling thread is cheaper than a wake-up. */
const PARALLEL_MIN_MACS = 1 << 18;

export function runMatmul(ctx: Context, a: MatmulArgs): void {
  const what = 'wasm matmul';
  const { M, N, K } = a;
  const batch = a.batch ?? 1;
  const strideA = a.strideA ?? M * K, strideB = a.strideB ?? K * N, strideC = a.strideC ?? M * N;
  checkDims(what, { M, N, K, batch, strideA, strideB, strideC });
  if (batch > 1 && strideC < M * N) throw new RangeError(`${what}: strideC ${strideC} < M·N: the C matrices would overlap`);
  const span = (stride: number, size: number): number => (batch === 0 ? 0 : (batch - 1) * stride + size);
  checkLength(what, 'a', a.a, span(strideA, M * K), true);
  checkLength(what, 'b', a.b, span(strideB, K * N), true);
  checkLength(what, 'c', a.c, span(strideC, M * N), true);
  const alpha = a.alpha ?? 1, beta = a.beta ?? 0;
  const parallel = batch * M * N * K >= PARALLEL_MIN_MACS;
  const tiles = tiling(M, N, parallel ? Math.ceil((4 * ctx.threads) / Math.max(batch, 1)) : 1);

  ctx.call((staging) => {
    // C is read when accumulating, and when a copy must keep the gaps between strided matrices.
    const pa = staging.input(a.a), pb = staging.input(a.b), pc = staging.output(a.c, beta !== 0 || strideC > M * N);
    ctx.threadScratch(ctx.kernels.matmulScratchBytes());
    const { u32, f32 } = ctx.descriptor(); // after the scratch: it may have grown the heap
    u32[L.MATMUL_A] = pa; u32[L.MATMUL_B] = pb; u32[L.MATMUL_C] = pc;
    u32[L.MATMUL_M] = M; u32[L.MATMUL_N] = N; u32[L.MATMUL_K] = K;
    u32[L.MATMUL_TRANS_A] = a.transA ? 1 : 0; u32[L.MATMUL_TRANS_B] = a.transB ? 1 : 0;
    u32[L.MATMUL_TILE_M] = tiles.rows; u32[L.MATMUL_TILE_N] = tiles.cols;
    u32[L.MATMUL_TILES_N] = tiles.tilesN; u32[L.MATMUL_TILES] = tiles.count;
    u32[L.MATMUL_STRIDE_A] = strideA; u32[L.MATMUL_STRIDE_B] = strideB; u32[L.MATMUL_STRIDE_C] = strideC;
    f32[L.MATMUL_ALPHA_F32] = alpha; f32[L.MATMUL_BETA_F32] = beta;
    ctx.run('matmulTile', batch * tiles.count, parallel);
  });
}

/** About `want` tiles of one C matrix: split along M in multiples of 4 rows while M allows, then
 *  along N in multiples of 8 columns (the micro-kernel shapes are 4 or 6 rows × 8 columns). */
function tiling(M: number, N: number, want: number): { rows: number; cols: number; tilesN: number; count: number } {
  const rows = Math.max(4, roundUp(Math.ceil(M / want), 4));
  const rowTiles = Math.max(1, Math.ceil(M / rows));
  const cols = rowTiles >= want ? Math.max(N, 1) : Math.max(8, roundUp(Math.ceil(N / Math.ceil(want / rowTiles)), 8));
  const tilesN = Math.max(1, Math.ceil(N / cols));
  return { rows, cols, tilesN, count: rowTiles * tilesN };
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
