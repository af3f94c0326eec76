// The row and elementwise kernels behind GELU, LayerNorm, embedding, dropout and cross-entropy on
// the WebAssembly backend (SIMD, threaded, results independent of the thread count), for float32
// data. Each call copies its arrays into the wasm memory and its outputs back, a cost the plain-TS
// loop does not have, so calls below the measured sizes here stay on the plain-TS kernels (which
// also serve float64 data).
import type { WasmBackend } from '../kernels/wasm/index.js';
import type { Floats } from '../tensor/floats.js';
import type { GradKernels } from './kernels.js';
import { tsDropoutBackward, tsDropoutForward, tsGeluBackward, tsGeluForward } from '../kernels/reference/grad/pointwise.js';
import { tsLayerNormBackward, tsLayerNormForward } from '../kernels/reference/grad/layernorm.js';
import { tsEmbeddingBackward, tsEmbeddingForward } from '../kernels/reference/grad/embedding.js';
import { tsCrossEntropyBackward, tsCrossEntropyForward } from '../kernels/reference/grad/cross-entropy.js';

type RowOp = 'geluForward' | 'geluBackward' | 'layerNormForward' | 'layerNormBackward' | 'embeddingForward' |
  'embeddingBackward' | 'dropoutForward' | 'dropoutBackward' | 'crossEntropyForward' | 'crossEntropyBackward';

/**
 * Elements (of x, the logits or the gathered rows) from which a call runs on wasm. Measured per
 * call on one thread (Node 20, x86-64, wasm-relaxed, bench: min of 7), µs plain TS / wasm with its
 * copies in and out: 1024 elements: GELU 18.8/2.7, LayerNorm 4.4/3.1 (backward 6.2/5.1),
 * cross-entropy (V = 256) 11.2/3.1, dropout 1.8/1.9; 2048: dropout 3.8/2.4. Calls below are a
 * few µs either way.
 */
const MIN_ELEMENTS = 2048;
/**
 * The embedding gather and scatter-add move as much data as their copies do, and the whole table
 * (gradient) is staged: wasm wins only from more rows (D = 128, V = 256 measured): gather 6.1/10.5
 * µs at 16384 elements, 29.7/23.8 at 65536; scatter-add 16.8/20.4 at 8192, 29.2/15.3 at 16384. A
 * table over 4× the rows moved stays on plain TS as well (its staging would dominate).
 */
const MIN_EMBEDDING_GATHER = 65536;
const MIN_EMBEDDING_SCATTER = 16384;
const MAX_TABLE_PER_ROWS = 4;

/** The argument object with its float arrays typed as float32. */
type F32<T> = { [K in keyof T]: T[K] extends Floats ? Float32Array : T[K] extends Floats | null ? Float32Array | null : T[K] };

/** p itself, typed for the wasm backend, when the call is worth it and no array is float64. */
function wasmArgs<T extends object>(p: T, worth: boolean): F32<T> | undefined {
  if (!worth) return undefined;
  for (const v of Object.values(p)) if (v instanceof Float64Array) return undefined;
  return p as F32<T>;
}

export function rowKernels(backend: WasmBackend): Pick<GradKernels, RowOp> {
  return {
    geluForward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.geluForward(w); else tsGeluForward(p);
    },
    geluBackward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.geluBackward(w); else tsGeluBackward(p);
    },
    dropoutForward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.dropoutForward(w); else tsDropoutForward(p);
    },
    dropoutBackward(p) {
      const w = wasmArgs(p, p.dy.length >= MIN_ELEMENTS);
      if (w) backend.dropoutBackward(w); else tsDropoutBackward(p);
    },
    layerNormForward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.layerNormForward(w); else tsLayerNormForward(p);
    },
    layerNormBackward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.layerNormBackward(w); else tsLayerNormBackward(p);
    },
    crossEntropyForward(p) {
      const w = wasmArgs(p, p.logits.length >= MIN_ELEMENTS);
      return w ? backend.crossEntropyForward(w) : tsCrossEntropyForward(p);
    },
    crossEntropyBackward(p) {
      const w = wasmArgs(p, p.logits.length >= MIN_ELEMENTS);
      if (w) backend.crossEntropyBackward(w); else tsCrossEntropyBackward(p);
    },
    embeddingForward(p) {
      const w = wasmArgs(p, p.out.length >= MIN_EMBEDDING_GATHER && p.table.length <= MAX_TABLE_PER_ROWS * p.out.length);
      if (w) backend.embeddingForward(w); else tsEmbeddingForward(p);
    },
    embeddingBackward(p) {
      const w = wasmArgs(p, p.dOut.length >= MIN_EMBEDDING_SCATTER && p.dTable.length <= MAX_TABLE_PER_ROWS * p.dOut.length);
      if (w) backend.embeddingBackward(w); else tsEmbeddingBackward(p);
    },
  };
}
