// JS driver of LayerNorm (assembly/layernorm.ts): one task item per block of rows; the backward
// then adds the per-item partial sums of dγ and dβ in a second, column-split task. Rows per item
// depend on D only (never on the thread count), so every result is the same for any thread count.
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkDims, checkLength } from './check.js';

/** About this many elements per row item. */
const ITEM_ELEMENTS = 16384;
/** Columns of [dγ | dβ] per item of the partial-sum reduction. */
const REDUCE_COLS = 512;
/** From this many elements the workers take part: measured per call including the copies, µs on
 *  one thread / two (forward, backward; D = 128): 59/55 and 83/102 at 2^16 elements, 220/193 and
 *  306/300 at 2^18, 899/671 and 1584/1174 at 2^20. */
const PARALLEL_MIN_ELEMENTS = 1 << 18;

export interface LayerNormArgs {
  x: Float32Array; gamma: Float32Array; beta: Float32Array; y: Float32Array;
  /** Written: μ and 1/√(var + eps) per row (the backward's inputs). */
  mean: Float32Array; rstd: Float32Array;
  rows: number; D: number; eps: number;
}

/** ADDS into dx, dGamma, dBeta; a null one is not computed. */
export interface LayerNormBackwardArgs {
  x: Float32Array; gamma: Float32Array; mean: Float32Array; rstd: Float32Array; dy: Float32Array;
  dx: Float32Array | null; dGamma: Float32Array | null; dBeta: Float32Array | null;
  rows: number; D: number;
}

function rowsPerItem(D: number): number {
  return Math.max(1, Math.floor(ITEM_ELEMENTS / D));
}

function check(what: string, a: { x: Float32Array; gamma: Float32Array; mean: Float32Array; rstd: Float32Array; rows: number; D: number }): void {
  checkDims(what, { rows: a.rows, D: a.D });
  checkLength(what, 'x', a.x, a.rows * a.D);
  checkLength(what, 'gamma', a.gamma, a.D);
  checkLength(what, 'mean', a.mean, a.rows);
  checkLength(what, 'rstd', a.rstd, a.rows);
}

export function runLayerNormForward(ctx: Context, a: LayerNormArgs): void {
  const what = 'wasm layerNorm';
  check(what, a);
  checkLength(what, 'beta', a.beta, a.D);
  checkLength(what, 'y', a.y, a.rows * a.D);
  if (!(a.eps >= 0)) throw new RangeError(`${what}: eps must be ≥ 0, got ${a.eps}`);
  if (a.rows === 0 || a.D === 0) return;
  const per = rowsPerItem(a.D);
  ctx.call((staging) => {
    const x = staging.input(a.x), gamma = staging.input(a.gamma), beta = staging.input(a.beta);
    const y = staging.output(a.y), mean = staging.output(a.mean), rstd = staging.output(a.rstd);
    const { u32, f32 } = ctx.descriptor();
    u32.fill(0, 0, L.LN_WORDS);
    u32[L.LN_X] = x; u32[L.LN_GAMMA] = gamma; u32[L.LN_BETA] = beta; u32[L.LN_Y] = y;
    u32[L.LN_MEAN] = mean; u32[L.LN_RSTD] = rstd; u32[L.LN_ROWS] = a.rows; u32[L.LN_D] = a.D;
    u32[L.LN_ROWS_PER_ITEM] = per; f32[L.LN_EPS_F32] = a.eps;
    ctx.run('layerNormForwardRows', Math.ceil(a.rows / per), a.rows * a.D >= PARALLEL_MIN_ELEMENTS);
  });
}

export function runLayerNormBackward(ctx: Context, a: LayerNormBackwardArgs): void {
  const what = 'wasm layerNorm backward';
  check(what, a);
  const n = a.rows * a.D;
  checkLength(what, 'dy', a.dy, n);
  if (a.dx) checkLength(what, 'dx', a.dx, n);
  if (a.dGamma) checkLength(what, 'dGamma', a.dGamma, a.D);
  if (a.dBeta) checkLength(what, 'dBeta', a.dBeta, a.D);
  if (n === 0 || (!a.dx && !a.dGamma && !a.dBeta)) return;
  const per = rowsPerItem(a.D), items = Math.ceil(a.rows / per);
  ctx.call((staging) => {
    const x = staging.input(a.x), gamma = staging.input(a.gamma), dy = staging.input(a.dy);
    const mean = staging.input(a.mean), rstd = staging.input(a.rstd);
    const dx = a.dx ? staging.output(a.dx, true) : 0;
    const dGamma = a.dGamma ? staging.output(a.dGamma, true) : 0, dBeta = a.dBeta ? staging.output(a.dBeta, true) : 0;
    const partials = ctx.scratch(items * 2 * a.D * 4);
    const { u32 } = ctx.descriptor();
    u32.fill(0, 0, L.LN_WORDS);
    u32[L.LN_X] = x; u32[L.LN_GAMMA] = gamma; u32[L.LN_DY] = dy; u32[L.LN_MEAN] = mean; u32[L.LN_RSTD] = rstd;
    u32[L.LN_DX] = dx; u32[L.LN_DGAMMA] = dGamma; u32[L.LN_DBETA] = dBeta; u32[L.LN_PARTIALS] = partials;
    u32[L.LN_ROWS] = a.rows; u32[L.LN_D] = a.D; u32[L.LN_ROWS_PER_ITEM] = per; u32[L.LN_ITEMS] = items;
    u32[L.LN_COLS_PER_ITEM] = REDUCE_COLS;
    ctx.run('layerNormBackwardRows', items, n >= PARALLEL_MIN_ELEMENTS);
    if (dGamma || dBeta) ctx.run('layerNormReduceCols', Math.ceil((2 * a.D) / REDUCE_COLS), 2 * a.D * items >= PARALLEL_MIN_ELEMENTS);
  });
}
