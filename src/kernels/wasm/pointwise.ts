// JS drivers of the elementwise kernels (assembly/pointwise.ts): GELU and dropout, forward and
// backward, one task item per block of elements over the thread pool. Backward gradients are ADDED
// into dx (staged as a read-write output).
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import type { Staging } from './staging.js';
import type { TaskName } from './kernels.js';
import { checkLength } from './check.js';

/** Elements per task item: 32 KiB per float array, enough work per item to pay for handing it out. */
const BLOCK = 8192;
/** Sizes from which the workers take part, measured per call including the copies, µs on one
 *  thread / two (2-core x86-64): GELU forward 114/87 at 2^16 elements, 1905/1133 at 2^20. Dropout
 *  is memory-bound and the copies dominate: 140/163 at 2^18, 588/566 at 2^20, 4403/3777 at 2^22. */
const PARALLEL_MIN_GELU = 1 << 16;
const PARALLEL_MIN_DROPOUT = 1 << 21;

export interface GeluArgs { x: Float32Array; y: Float32Array }
export interface GeluBackwardArgs { x: Float32Array; dy: Float32Array; dx: Float32Array }
/** mask: one byte per element, non-zero = keep; scale = 1/(1 − p). */
export interface DropoutArgs { x: Float32Array; mask: Uint8Array; scale: number; y: Float32Array }
export interface DropoutBackwardArgs { dy: Float32Array; mask: Uint8Array; scale: number; dx: Float32Array }

interface Staged { x: number; dy?: number; out: number; mask?: number }

function run(ctx: Context, task: TaskName, n: number, parallelMin: number, scale: number, stage: (s: Staging) => Staged): void {
  if (n === 0) return;
  ctx.call((staging) => {
    const a = stage(staging);
    const { u32, f32 } = ctx.descriptor(); // after staging: it may have grown the heap
    u32[L.POINT_X] = a.x; u32[L.POINT_DY] = a.dy ?? 0; u32[L.POINT_OUT] = a.out; u32[L.POINT_MASK] = a.mask ?? 0;
    u32[L.POINT_N] = n; u32[L.POINT_BLOCK] = BLOCK; f32[L.POINT_SCALE_F32] = scale;
    ctx.run(task, Math.ceil(n / BLOCK), n >= parallelMin);
  });
}

function checkMask(what: string, mask: Uint8Array, n: number, scale: number): void {
  if (!(mask instanceof Uint8Array) || mask.length !== n) throw new RangeError(`${what}: mask must be a Uint8Array of ${n} bytes`);
  if (!Number.isFinite(scale)) throw new RangeError(`${what}: scale must be finite, got ${scale}`);
}

/** y = GELU(x), tanh approximation. */
export function runGeluForward(ctx: Context, a: GeluArgs): void {
  const n = a.x.length;
  checkLength('wasm gelu', 'x', a.x, n);
  checkLength('wasm gelu', 'y', a.y, n);
  run(ctx, 'geluForward', n, PARALLEL_MIN_GELU, 0, (s) => ({ x: s.input(a.x), out: s.output(a.y) }));
}

/** dx += dy·GELU′(x). */
export function runGeluBackward(ctx: Context, a: GeluBackwardArgs): void {
  const n = a.x.length;
  checkLength('wasm gelu backward', 'x', a.x, n);
  checkLength('wasm gelu backward', 'dy', a.dy, n);
  checkLength('wasm gelu backward', 'dx', a.dx, n);
  run(ctx, 'geluBackward', n, PARALLEL_MIN_GELU, 0, (s) => ({ x: s.input(a.x), dy: s.input(a.dy), out: s.output(a.dx, true) }));
}

/** y = x·scale where kept, 0 where dropped. */
export function runDropoutForward(ctx: Context, a: DropoutArgs): void {
  const n = a.x.length;
  checkLength('wasm dropout', 'x', a.x, n);
  checkLength('wasm dropout', 'y', a.y, n);
  checkMask('wasm dropout', a.mask, n, a.scale);
  run(ctx, 'dropoutForward', n, PARALLEL_MIN_DROPOUT, a.scale, (s) => ({ x: s.input(a.x), mask: s.input(a.mask), out: s.output(a.y) }));
}

/** dx += dy·scale where kept. */
export function runDropoutBackward(ctx: Context, a: DropoutBackwardArgs): void {
  const n = a.dy.length;
  checkLength('wasm dropout backward', 'dy', a.dy, n);
  checkLength('wasm dropout backward', 'dx', a.dx, n);
  checkMask('wasm dropout backward', a.mask, n, a.scale);
  run(ctx, 'dropoutBackward', n, PARALLEL_MIN_DROPOUT, a.scale, (s) => ({ x: s.input(a.dy), mask: s.input(a.mask), out: s.output(a.dx, true) }));
}
