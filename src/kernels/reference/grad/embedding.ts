// Embedding lookup, forward (gather rows of the table) and backward (scatter-add rows of the
// output gradient into the table gradient, in token order). Ids are in range (the op checks).
import type { EmbeddingBwdArgs, EmbeddingFwdArgs } from '../../engine.js';

export function tsEmbeddingForward({ table, ids, out, D }: EmbeddingFwdArgs): void {
  for (let i = 0; i < ids.length; i++) out.set(table.subarray(ids[i]! * D, ids[i]! * D + D), i * D);
}

/** Differentiates (T1) of docs/MATH.md, out_i = table[id_i], by (T2): dTable[id_i] += dOut_i in token order. */
export function tsEmbeddingBackward({ dOut, ids, dTable, D }: EmbeddingBwdArgs): void {
  for (let i = 0; i < ids.length; i++) {
    const row = ids[i]! * D;
    for (let c = 0; c < D; c++) dTable[row + c] = dTable[row + c]! + dOut[i * D + c]!;
  }
}
