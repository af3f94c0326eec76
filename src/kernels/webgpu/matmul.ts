// Loader for matmul.wgsl.ts: validates, cuts the batch × rows at binding boundaries, dispatches.
import type { MatmulArgs } from './args.js';
import type { GpuContext } from './context.js';
import { matmulWgsl, TILE } from './matmul.wgsl.js';
import { pieces, type Binding } from './pieces.js';

export function matmul(ctx: GpuContext, a: MatmulArgs): void {
  const { M, N, K, batch, transA, transB } = a;
  for (const [name, x] of Object.entries({ M, N, K, batch })) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`webgpu: matmul: ${name} = ${x} is not a positive integer`);
  }
  const need = (stride: number, size: number, t: { length: number }, name: string) => {
    if (t.length < (batch - 1) * stride + size) throw new Error(`webgpu: matmul: ${name} holds ${t.length} values, needs ${(batch - 1) * stride + size}`);
  };
  need(a.strideA, M * K, a.a, 'a');
  need(a.strideB, K * N, a.b, 'b');
  need(a.strideC, M * N, a.c, 'c');
  // Positions are C's rows; for Aᵀ a row m is a column of the stored [K, M], spanning (K−1)·M + 1 values.
  const views = [
    { t: a.a, name: 'matmul a', headStride: a.strideA, posStride: transA ? 1 : K, span: transA ? (K - 1) * M + 1 : K },
    { t: a.b, name: 'matmul b', headStride: a.strideB, posStride: 0, span: K * N },
    { t: a.c, name: 'matmul c', headStride: a.strideC, posStride: N, span: N },
  ];
  const pipeline = ctx.pipeline(matmulWgsl({ transA, transB }));
  const run = ctx.batch();
  for (const p of pieces(views, batch, M)) {
    const [A, B, C] = p.binds as [Binding, Binding, Binding];
    run.dispatch(pipeline, [A.buffer, B.buffer, C.buffer],
      [M, N, K, p.p1 - p.p0, A.base, B.base, C.base, a.strideA, a.strideB, a.strideC, a.accumulate ? 1 : 0],
      [Math.ceil((p.p1 - p.p0) / TILE), Math.ceil(N / TILE), p.nbh]);
  }
  run.submit();
}
