// JS driver of softmax cross-entropy (assembly/cross-entropy.ts): one task item per block of rows.
// The forward's per-row losses are added here in row order (float64), so the mean loss does not
// depend on the thread count.
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkDims, checkLength } from './check.js';

/** About this many logits per item. */
const ITEM_ELEMENTS = 16384;
/** From this many logits the workers take part: measured per call including the copies, µs on one
 *  thread / two (forward, backward; V = 256): 91/82 and 139/130 at 2^16 logits, 1190/806 and
 *  1448/1079 at 2^20. */
const PARALLEL_MIN_ELEMENTS = 1 << 16;

/** Rows of V logits with one target each; rows whose target is ignoreIndex do not count. The forward
 *  writes lse (log-sum-exp per counted row) and returns the mean loss over counted rows (0 if none). */
export interface CrossEntropyArgs {
  logits: Float32Array; targets: Int32Array; lse: Float32Array;
  rows: number; V: number; ignoreIndex: number;
}
/** ADDS (softmax − onehot(target))·dLoss/n into dLogits on the n counted rows. */
export interface CrossEntropyBackwardArgs extends CrossEntropyArgs { dLoss: number; dLogits: Float32Array }

/** Validates the arguments; returns the number of counted rows. */
function check(what: string, a: CrossEntropyArgs): number {
  checkDims(what, { rows: a.rows, V: a.V });
  if (!Number.isInteger(a.ignoreIndex)) throw new RangeError(`${what}: ignoreIndex must be an integer, got ${a.ignoreIndex}`);
  checkLength(what, 'logits', a.logits, a.rows * a.V);
  checkLength(what, 'lse', a.lse, a.rows);
  if (!(a.targets instanceof Int32Array) || a.targets.length !== a.rows) throw new RangeError(`${what}: targets must be an Int32Array of ${a.rows}`);
  let count = 0;
  for (let r = 0; r < a.rows; r++) {
    const t = a.targets[r]!;
    if (t === a.ignoreIndex) continue;
    if (!(t >= 0 && t < a.V)) throw new RangeError(`${what}: target ${t} at row ${r} is out of range [0, ${a.V})`);
    count++;
  }
  return count;
}

function rowsPerItem(V: number): number {
  return Math.max(1, Math.floor(ITEM_ELEMENTS / V));
}

/** The descriptor fields both directions share (call after staging: it may have grown the heap). */
function describe(ctx: Context, a: CrossEntropyArgs, logits: number, targets: number, lse: number): ReturnType<Context['descriptor']> {
  const desc = ctx.descriptor(), u32 = desc.u32;
  u32.fill(0, 0, L.CE_WORDS);
  u32[L.CE_LOGITS] = logits; u32[L.CE_TARGETS] = targets; u32[L.CE_LSE] = lse;
  u32[L.CE_ROWS] = a.rows; u32[L.CE_V] = a.V; u32[L.CE_IGNORE] = a.ignoreIndex >>> 0;
  u32[L.CE_ROWS_PER_ITEM] = rowsPerItem(a.V);
  return desc;
}

export function runCrossEntropyForward(ctx: Context, a: CrossEntropyArgs): number {
  const count = check('wasm cross-entropy', a);
  if (count === 0) return 0;
  return ctx.call((staging) => {
    const logits = staging.input(a.logits), targets = staging.input(a.targets), lse = staging.output(a.lse);
    const loss = staging.temp(a.rows * 4);
    describe(ctx, a, logits, targets, lse).u32[L.CE_LOSS] = loss;
    ctx.run('crossEntropyForwardRows', Math.ceil(a.rows / rowsPerItem(a.V)), a.logits.length >= PARALLEL_MIN_ELEMENTS);
    const losses = new Float32Array(ctx.heap.buffer(), loss, a.rows);
    let total = 0;
    for (let r = 0; r < a.rows; r++) total += losses[r]!; // ignored rows hold 0
    return total / count;
  });
}

export function runCrossEntropyBackward(ctx: Context, a: CrossEntropyBackwardArgs): void {
  const what = 'wasm cross-entropy backward';
  const count = check(what, a);
  checkLength(what, 'dLogits', a.dLogits, a.rows * a.V);
  if (count === 0) return;
  ctx.call((staging) => {
    const logits = staging.input(a.logits), targets = staging.input(a.targets), lse = staging.input(a.lse);
    const grad = staging.output(a.dLogits, true);
    const { u32, f32 } = describe(ctx, a, logits, targets, lse);
    u32[L.CE_DLOGITS] = grad;
    f32[L.CE_SCALE_F32] = a.dLoss / count;
    ctx.run('crossEntropyBackwardRows', Math.ceil(a.rows / rowsPerItem(a.V)), a.logits.length >= PARALLEL_MIN_ELEMENTS);
  });
}
