// JS driver of the embedding kernels (assembly/embedding.ts): gather rows of the table (items =
// blocks of tokens) and scatter-add gradient rows into the table gradient (items = blocks of
// columns, tokens in order: race-free, and the same result for any thread count).
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import type { Staging } from './staging.js';
import type { TaskName } from './kernels.js';
import { checkDims, checkLength } from './check.js';

/** Forward: about this many elements per item. */
const ITEM_ELEMENTS = 16384;
/** From this many elements moved the workers take part: both directions are memory-bound and the
 *  copies dominate. Measured per call including them, µs on one thread / two (D = 128): gather
 *  271/257 and scatter-add 377/425 at 2^20 elements, 2465/2083 and 3288/2825 at 2^22. */
const PARALLEL_MIN_ELEMENTS = 1 << 21;

/** out[i, :] = table[ids[i], :]; table is [V, D] with V = table.length / D. */
export interface EmbeddingArgs { table: Float32Array; ids: Int32Array; out: Float32Array; D: number }
/** dTable[ids[i], :] += dOut[i, :]. */
export interface EmbeddingBackwardArgs { dOut: Float32Array; ids: Int32Array; dTable: Float32Array; D: number }

function checkIds(what: string, ids: Int32Array, table: Float32Array, tableName: string, D: number): void {
  checkDims(what, { D });
  if (!(ids instanceof Int32Array)) throw new TypeError(`${what}: ids must be an Int32Array`);
  if (!(table instanceof Float32Array)) throw new TypeError(`${what}: ${tableName} must be a Float32Array`);
  if (D === 0) return; // nothing is read or written
  if (table.length % D !== 0) throw new RangeError(`${what}: ${tableName} has ${table.length} elements, not whole rows of ${D}`);
  const V = table.length / D;
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i]! >= 0 && ids[i]! < V)) throw new RangeError(`${what}: id ${ids[i]} at ${i} is out of range [0, ${V})`);
  }
}

function run(ctx: Context, task: TaskName, items: number, parallel: boolean, n: number, D: number, perItem: number,
  stage: (s: Staging) => { table: number; ids: number; rows: number }): void {
  ctx.call((staging) => {
    const a = stage(staging);
    const { u32 } = ctx.descriptor(); // after staging: it may have grown the heap
    u32[L.EMB_TABLE] = a.table; u32[L.EMB_IDS] = a.ids; u32[L.EMB_ROWS] = a.rows;
    u32[L.EMB_N] = n; u32[L.EMB_D] = D; u32[L.EMB_PER_ITEM] = perItem;
    ctx.run(task, items, parallel);
  });
}

export function runEmbeddingForward(ctx: Context, a: EmbeddingArgs): void {
  checkIds('wasm embedding', a.ids, a.table, 'table', a.D);
  checkLength('wasm embedding', 'out', a.out, a.ids.length * a.D);
  const n = a.ids.length;
  if (n === 0 || a.D === 0) return;
  const per = Math.max(1, Math.floor(ITEM_ELEMENTS / a.D));
  run(ctx, 'embeddingGatherRows', Math.ceil(n / per), n * a.D >= PARALLEL_MIN_ELEMENTS, n, a.D, per,
    (s) => ({ table: s.input(a.table), ids: s.input(a.ids), rows: s.output(a.out) }));
}

export function runEmbeddingBackward(ctx: Context, a: EmbeddingBackwardArgs): void {
  checkIds('wasm embedding backward', a.ids, a.dTable, 'dTable', a.D);
  checkLength('wasm embedding backward', 'dOut', a.dOut, a.ids.length * a.D);
  const n = a.ids.length;
  if (n === 0 || a.D === 0) return;
  const parallel = n * a.D >= PARALLEL_MIN_ELEMENTS;
  // Column blocks of whole 16-float cache lines, about two per thread.
  const per = parallel ? Math.max(16, Math.ceil(a.D / (2 * ctx.threads) / 16) * 16) : a.D;
  run(ctx, 'embeddingScatterCols', Math.ceil(a.D / per), parallel, n, a.D, per,
    (s) => ({ table: s.output(a.dTable, true), ids: s.input(a.ids), rows: s.input(a.dOut) }));
}
