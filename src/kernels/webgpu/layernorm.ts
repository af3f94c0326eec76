// Loader for layernorm.wgsl.ts: a workgroup per row (rows cut where a tensor changes part); γ, β, the
// per-row μ and r, and the gradients dγ, dβ must each fit one binding.
import { expectLength, type LayerNormBwdArgs, type LayerNormFwdArgs } from './args.js';
import type { GpuContext } from './context.js';
import { layerNormBackwardParamsWgsl, layerNormBackwardXWgsl, layerNormForwardWgsl } from './layernorm.wgsl.js';
import { pieces, whole, type Binding, type View } from './pieces.js';
import { floatBits } from './wgsl.js';
import type { GpuTensor } from './storage.js';

const rowsOf = (t: GpuTensor, name: string, D: number): View => ({ t, name, headStride: 0, posStride: D, span: D });

function check(a: { x: GpuTensor; gamma: GpuTensor; mean: GpuTensor; rstd: GpuTensor; rows: number; D: number }, op: string): void {
  if (!Number.isInteger(a.rows) || a.rows < 1 || !Number.isInteger(a.D) || a.D < 1) {
    throw new RangeError(`webgpu: ${op}: rows = ${a.rows}, D = ${a.D} must be positive integers`);
  }
  expectLength(a.x, a.rows * a.D, `${op}: x [rows·D]`);
  expectLength(a.gamma, a.D, `${op}: gamma [D]`);
  expectLength(a.mean, a.rows, `${op}: mean [rows]`);
  expectLength(a.rstd, a.rows, `${op}: rstd [rows]`);
}

export function layerNormForward(ctx: GpuContext, a: LayerNormFwdArgs): void {
  check(a, 'layerNorm');
  expectLength(a.beta, a.D, 'layerNorm: beta [D]');
  expectLength(a.y, a.rows * a.D, 'layerNorm: y [rows·D]');
  const { D } = a;
  const gamma = whole(a.gamma, 'layerNorm gamma'), beta = whole(a.beta, 'layerNorm beta');
  const pipeline = ctx.pipeline(layerNormForwardWgsl());
  const run = ctx.batch();
  const mu = whole(a.mean, 'layerNorm mean'), rs = whole(a.rstd, 'layerNorm rstd');
  const epsBits = floatBits(a.eps);
  for (const p of pieces([rowsOf(a.x, 'layerNorm x', D), rowsOf(a.y, 'layerNorm y', D)], 1, a.rows)) {
    const [x, y] = p.binds as [Binding, Binding];
    run.dispatch(pipeline, [x.buffer, gamma, beta, y.buffer, mu, rs], [D, x.base, y.base, p.p0, epsBits], [p.p1 - p.p0, 1, 1]);
  }
  run.submit();
}

export function layerNormBackward(ctx: GpuContext, a: LayerNormBwdArgs): void {
  check(a, 'layerNorm backward');
  const { D } = a;
  expectLength(a.dy, a.rows * D, 'layerNorm backward: dy [rows·D]');
  if (a.dx) expectLength(a.dx, a.rows * D, 'layerNorm backward: dx [rows·D]');
  if (a.dGamma) expectLength(a.dGamma, D, 'layerNorm backward: dGamma [D]');
  if (a.dBeta) expectLength(a.dBeta, D, 'layerNorm backward: dBeta [D]');
  const gamma = whole(a.gamma, 'layerNorm gamma');
  const run = ctx.batch();
  const mu = whole(a.mean, 'layerNorm mean'), rs = whole(a.rstd, 'layerNorm rstd');
  const views = [rowsOf(a.x, 'layerNorm x', D), rowsOf(a.dy, 'layerNorm dy', D)];
  if (a.dx) views.push(rowsOf(a.dx, 'layerNorm dx', D));
  const which = (a.dGamma ? 1 : 0) | (a.dBeta ? 2 : 0);
  const dg = a.dGamma ? whole(a.dGamma, 'layerNorm dGamma') : ctx.absent;
  const db = a.dBeta ? whole(a.dBeta, 'layerNorm dBeta') : ctx.absent;
  for (const p of pieces(views, 1, a.rows)) {
    const [x, dy, dx] = p.binds as [Binding, Binding, Binding | undefined];
    if (dx) {
      run.dispatch(ctx.pipeline(layerNormBackwardXWgsl()), [x.buffer, gamma, mu, rs, dy.buffer, dx.buffer],
        [D, x.base, dy.base, dx.base, p.p0], [p.p1 - p.p0, 1, 1]);
    }
    if (which) {
      run.dispatch(ctx.pipeline(layerNormBackwardParamsWgsl()), [x.buffer, mu, rs, dy.buffer, dg, db],
        [D, p.p1 - p.p0, x.base, dy.base, p.p0, which], [Math.ceil(D / 256), 1, 1]);
    }
  }
  run.submit();
}
