// Loader for exact-backward.wgsl.ts: stats → dq → dk, dv. Every pass of a head reads all of its rows,
// so each head's q, k, v, out, dOut and gradients must lie in one binding; heads may be spread over
// parts (one dispatch per head then).
import { checkAttention, expectLength, type ExactBwdArgs } from './args.js';
import type { GpuContext } from './context.js';
import { exactDkDvWgsl, exactDqWgsl, exactStatsWgsl } from './exact-backward.wgsl.js';
import { pieces, whole, type Binding, type View } from './pieces.js';
import type { GpuTensor } from './storage.js';

export function exactBackward(ctx: GpuContext, a: ExactBwdArgs): void {
  checkAttention(a, 'exact backward');
  const { B, H, Lq, Lk, d, Dv } = a;
  expectLength(a.dOut, a.out.length, 'exact backward: dOut');
  expectLength(a.dq, a.q.length, 'exact backward: dq');
  expectLength(a.dk, a.k.length, 'exact backward: dk');
  expectLength(a.dv, a.v.length, 'exact backward: dv');
  const head = (t: GpuTensor, name: string, size: number): View => ({ t, name: `exact backward ${name} (one head)`, headStride: size, posStride: 0, span: size });
  const views = [
    head(a.q, 'q', Lq * d), head(a.k, 'k', Lk * d), head(a.v, 'v', Lk * Dv), head(a.out, 'out', Lq * Dv),
    head(a.dOut, 'dOut', Lq * Dv), head(a.dq, 'dq', Lq * d), head(a.dk, 'dk', Lk * d), head(a.dv, 'dv', Lk * Dv),
  ];
  const mask = a.keyMask ? whole(a.keyMask, 'exact backward keyMask') : ctx.absent;
  const statsBytes = B * H * Lq * 3 * 4;
  if (statsBytes > ctx.deviceBindingBytes) throw new Error(`webgpu: exact backward: the row statistics need ${statsBytes} bytes, over the device's storage-binding limit of ${ctx.deviceBindingBytes} bytes`);
  const stats = ctx.device.createBuffer({ size: Math.max(16, statsBytes), usage: 0x0080 });
  const shape = { d, Dv };
  const run = ctx.batch();
  for (const p of pieces(views, B * H, 1)) {
    const [q, k, v, o, dO, dq, dk, dv] = p.binds as Binding[] as [Binding, Binding, Binding, Binding, Binding, Binding, Binding, Binding];
    if (o.base !== dO.base || q.base !== dq.base || k.base !== dk.base || v.base !== dv.base) {
      throw new Error('webgpu: exact backward: each gradient must be cut into parts like its tensor (allocate both with the same row length)');
    }
    const params = [Lq, Lk, p.bh0, H, q.base, k.base, v.base, o.base, Lq * d, Lk * d, Lk * Dv, Lq * Dv, a.causal ? 1 : 0, a.keyMask ? 1 : 0];
    const inputs = [q.buffer, k.buffer, v.buffer, o.buffer, dO.buffer, mask, stats];
    const rowTiles = Math.ceil(Lq / 16);
    run.dispatch(ctx.pipeline(exactStatsWgsl(shape)), inputs, params, [rowTiles, 1, p.nbh]);
    run.dispatch(ctx.pipeline(exactDqWgsl(shape)), [q.buffer, k.buffer, v.buffer, null, dO.buffer, mask, stats, dq.buffer], params, [rowTiles, 1, p.nbh]);
    run.dispatch(ctx.pipeline(exactDkDvWgsl(shape)), [q.buffer, k.buffer, v.buffer, null, dO.buffer, mask, stats, dk.buffer, dv.buffer], params, [Math.ceil(Lk / 16), 1, p.nbh]);
  }
  run.submit();
  stats.destroy();
}
