// Loader for gelu.wgsl.ts: elementwise over x.length values, cut wherever any tensor changes part.
import { expectLength, type GeluBwdArgs, type GeluFwdArgs } from './args.js';
import type { GpuContext } from './context.js';
import { geluBackwardWgsl, geluForwardWgsl } from './gelu.wgsl.js';
import { pieces, type Binding, type View } from './pieces.js';
import type { GpuTensor } from './storage.js';

const flat = (t: GpuTensor, name: string): View => ({ t, name, headStride: 0, posStride: 1, span: 1 });

export function geluForward(ctx: GpuContext, { x, y }: GeluFwdArgs): void {
  expectLength(y, x.length, 'gelu: y');
  const pipeline = ctx.pipeline(geluForwardWgsl());
  const run = ctx.batch();
  for (const p of pieces([flat(x, 'gelu x'), flat(y, 'gelu y')], 1, x.length)) {
    const [a, b] = p.binds as [Binding, Binding];
    run.dispatch(pipeline, [a.buffer, b.buffer], [p.p1 - p.p0, a.base, b.base], [Math.ceil((p.p1 - p.p0) / 256), 1, 1]);
  }
  run.submit();
}

export function geluBackward(ctx: GpuContext, { x, dy, dx }: GeluBwdArgs): void {
  expectLength(dy, x.length, 'gelu backward: dy');
  expectLength(dx, x.length, 'gelu backward: dx');
  const pipeline = ctx.pipeline(geluBackwardWgsl());
  const run = ctx.batch();
  for (const p of pieces([flat(x, 'gelu x'), flat(dy, 'gelu dy'), flat(dx, 'gelu dx')], 1, x.length)) {
    const [a, b, c] = p.binds as [Binding, Binding, Binding];
    run.dispatch(pipeline, [a.buffer, b.buffer, c.buffer], [p.p1 - p.p0, a.base, b.base, c.base], [Math.ceil((p.p1 - p.p0) / 256), 1, 1]);
  }
  run.submit();
}
