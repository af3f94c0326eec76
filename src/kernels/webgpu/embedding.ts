// Loader for embedding.wgsl.ts; the table, the ids' rows and their gradients must fit one binding each.
import { expectLength, type EmbeddingBwdArgs, type EmbeddingFwdArgs } from './args.js';
import type { GpuContext } from './context.js';
import { embeddingBackwardWgsl, embeddingForwardWgsl } from './embedding.wgsl.js';
import { uploadInts } from './ints.js';
import { whole } from './pieces.js';
import type { GpuTensor } from './storage.js';

function checkIds(ids: Int32Array, table: GpuTensor, D: number, op: string): void {
  if (!Number.isInteger(D) || D < 1 || table.length % D !== 0) throw new RangeError(`webgpu: ${op}: a table of ${table.length} values has no rows of D = ${D}`);
  const rows = table.length / D;
  ids.forEach((id, i) => {
    if (!(id >= 0 && id < rows)) throw new RangeError(`webgpu: ${op}: id ${id} at position ${i} is outside the table's ${rows} rows`);
  });
}

export function embeddingForward(ctx: GpuContext, { table, ids, out, D }: EmbeddingFwdArgs): void {
  checkIds(ids, table, D, 'embedding');
  expectLength(out, ids.length * D, 'embedding: out [ids·D]');
  if (ids.length === 0) return;
  const I = uploadInts(ctx.device, ids);
  const run = ctx.batch();
  run.dispatch(ctx.pipeline(embeddingForwardWgsl()), [whole(table, 'embedding table'), I, whole(out, 'embedding out')], [ids.length, D], [Math.ceil((ids.length * D) / 256), 1, 1]);
  run.submit();
  I.destroy();
}

export function embeddingBackward(ctx: GpuContext, { dOut, ids, dTable, D }: EmbeddingBwdArgs): void {
  checkIds(ids, dTable, D, 'embedding backward');
  expectLength(dOut, ids.length * D, 'embedding backward: dOut [ids·D]');
  if (ids.length === 0) return;
  const I = uploadInts(ctx.device, ids);
  const run = ctx.batch();
  run.dispatch(ctx.pipeline(embeddingBackwardWgsl()), [whole(dOut, 'embedding dOut'), I, whole(dTable, 'embedding dTable')], [ids.length, D], [Math.ceil(D / 256), 1, 1]);
  run.submit();
  I.destroy();
}
