// Loader for exact.wgsl.ts. Query rows may be cut at binding boundaries; each head's keys and values
// are read by every query tile, so they must lie in one binding.
import { checkAttention, type ExactFwdArgs } from './args.js';
import type { GpuContext } from './context.js';
import { exactWgsl, ROWS } from './exact.wgsl.js';
import { pieces, whole, type Binding } from './pieces.js';

export function exact(ctx: GpuContext, a: ExactFwdArgs): void {
  checkAttention(a, 'exact');
  const { H, Lq, Lk, d, Dv } = a;
  const pipeline = ctx.pipeline(exactWgsl({ d, Dv }));
  const views = [
    { t: a.q, name: 'exact q', headStride: Lq * d, posStride: d, span: d },
    { t: a.out, name: 'exact out', headStride: Lq * Dv, posStride: Dv, span: Dv },
    { t: a.k, name: 'exact k (one head)', headStride: Lk * d, posStride: 0, span: Lk * d },
    { t: a.v, name: 'exact v (one head)', headStride: Lk * Dv, posStride: 0, span: Lk * Dv },
  ];
  const mask = a.keyMask ? whole(a.keyMask, 'exact keyMask') : ctx.absent;
  const run = ctx.batch();
  for (const p of pieces(views, a.B * H, Lq)) {
    const [q, o, k, v] = p.binds as [Binding, Binding, Binding, Binding];
    run.dispatch(pipeline, [q.buffer, k.buffer, v.buffer, o.buffer, mask],
      [Lk, p.p1 - p.p0, p.p0, p.bh0, H, q.base, k.base, v.base, o.base, Lq * d, Lk * d, Lk * Dv, Lq * Dv, a.causal ? 1 : 0, a.keyMask ? 1 : 0],
      [Math.ceil((p.p1 - p.p0) / ROWS), 1, p.nbh]);
  }
  run.submit();
}
