// Loader for adamw.wgsl.ts: elementwise over n values, cut wherever any of the four tensors changes part.
import { expectLength, type AdamWArgs } from './args.js';
import type { GpuContext } from './context.js';
import { adamwWgsl } from './adamw.wgsl.js';
import { pieces, type Binding } from './pieces.js';
import { floatBits } from './wgsl.js';

export function adamw(ctx: GpuContext, a: AdamWArgs): void {
  for (const [name, t] of [['p', a.p], ['dp', a.dp], ['m', a.m], ['v', a.v]] as const) expectLength(t, a.n, `adamw: ${name}`);
  const hyper = [a.lr, a.beta1, a.beta2, a.eps, a.c1, a.c2, a.decay, 1 - a.beta1, 1 - a.beta2].map(floatBits);
  const flat = [a.p, a.dp, a.m, a.v].map((t, i) => ({ t, name: `adamw ${['p', 'dp', 'm', 'v'][i]}`, headStride: 0, posStride: 1, span: 1 }));
  const pipeline = ctx.pipeline(adamwWgsl());
  const run = ctx.batch();
  for (const piece of pieces(flat, 1, a.n)) {
    const [p, g, m, v] = piece.binds as [Binding, Binding, Binding, Binding];
    run.dispatch(pipeline, [p.buffer, g.buffer, m.buffer, v.buffer], [piece.p1 - piece.p0, p.base, g.base, m.base, v.base, ...hyper],
      [Math.ceil((piece.p1 - piece.p0) / 256), 1, 1]);
  }
  run.submit();
}
