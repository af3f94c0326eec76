// The wasm engine: the WebAssembly SIMD backend (packed, threaded) behind every float32 kernel
// where it pays: matmul, the FAVOR+ and exact-attention forwards and backwards, and from measured
// sizes the row kernels (GELU, LayerNorm, embedding, dropout, cross-entropy). Float64 data, small
// row calls and the cheap elementwise/layout/optimiser loops run the reference kernels on the same
// host arrays, so storage is plain Float32Array/Float64Array (or views of the wasm memory from
// `backend.alloc`, which the kernels then use in place).
import type { Floats, Engine, Kernels } from '../engine.js';
import { hostDevice } from '../../tensor/storage.js';
import { referenceKernels } from '../reference/engine.js';
import { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backend.js';
import { favorPlusPlus, favorPlusPlusBackward } from './favor-plus-plus.js';

export interface WasmEngineOptions extends WasmBackendOptions {
  /** The attention backwards on the reference kernels (single-threaded), for comparison in `bench`. */
  referenceBackward?: boolean;
}

export interface WasmEngine extends Engine<Floats> {
  /** The raw kernels and memory (alloc/free put arrays into the wasm heap). */
  readonly backend: WasmBackend;
}

/**
 * Elements (of x, the logits or the gathered rows) from which a row call runs on wasm. Each call
 * copies its arrays into the wasm memory and its outputs back, a cost the plain-TS loop does not
 * have. Measured per call on one thread (Node 20, x86-64, wasm-relaxed, bench: min of 7), µs plain
 * TS / wasm with its copies in and out: 1024 elements: GELU 18.8/2.7, LayerNorm 4.4/3.1 (backward
 * 6.2/5.1), cross-entropy (V = 256) 11.2/3.1, dropout 1.8/1.9; 2048: dropout 3.8/2.4. Calls below
 * are a few µs either way.
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
type F32<T> = { [K in keyof T]: T[K] extends Floats ? Float32Array : T[K] extends Floats | null ? Float32Array | null
  : T[K] extends Floats | undefined ? Float32Array | undefined : T[K] };

/** p itself, typed for the wasm backend, when the call is worth it and no array is float64. */
function wasmArgs<T extends object>(p: T, worth = true): F32<T> | undefined {
  if (!worth) return undefined;
  for (const k in p) if (p[k] instanceof Float64Array) return undefined; // (no array of the values per call)
  return p as F32<T>;
}

function wasmKernels(backend: WasmBackend, referenceBackward: boolean): Kernels<Floats> {
  const ref = referenceKernels;
  return {
    ...ref,
    matmul(p) {
      const w = wasmArgs(p);
      // The whole batch is one parallel job; stride 0 broadcasts a shared matrix (e.g. a weight).
      // (an explicit literal, not a spread: this runs for every matmul, and a spread costs µs per call)
      if (w) {
        backend.matmul({ a: w.a, b: w.b, c: w.c, M: w.M, N: w.N, K: w.K, transA: w.transA, transB: w.transB,
          beta: w.accumulate ? 1 : 0, batch: w.batch, strideA: w.strideA, strideB: w.strideB, strideC: w.strideC });
      } else ref.matmul(p);
    },
    favorForward(p) {
      const w = wasmArgs(p);
      if (!w) ref.favorForward(p);
      else if (w.featureMap === 'softmax++') favorPlusPlus(w, (a) => backend.favor(a));
      else backend.favor(w);
    },
    exactForward(p) {
      const w = wasmArgs(p);
      if (w) backend.exact(w); else ref.exactForward(p);
    },
    favorBackward(p) {
      const w = wasmArgs(p, !referenceBackward);
      if (!w) ref.favorBackward(p);
      else if (w.featureMap === 'softmax++') favorPlusPlusBackward(w, (a) => backend.favorBackward(a));
      else backend.favorBackward(w);
    },
    exactBackward(p) {
      const w = wasmArgs(p, !referenceBackward);
      if (w) backend.exactBackward(w); else ref.exactBackward(p);
    },
    geluForward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.geluForward(w); else ref.geluForward(p);
    },
    geluBackward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.geluBackward(w); else ref.geluBackward(p);
    },
    dropoutForward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.dropoutForward(w); else ref.dropoutForward(p);
    },
    dropoutBackward(p) {
      const w = wasmArgs(p, p.dy.length >= MIN_ELEMENTS);
      if (w) backend.dropoutBackward(w); else ref.dropoutBackward(p);
    },
    layerNormForward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.layerNormForward(w); else ref.layerNormForward(p);
    },
    layerNormBackward(p) {
      const w = wasmArgs(p, p.x.length >= MIN_ELEMENTS);
      if (w) backend.layerNormBackward(w); else ref.layerNormBackward(p);
    },
    crossEntropyForward(p) {
      const w = wasmArgs(p, p.logits.length >= MIN_ELEMENTS);
      if (w) w.loss[0] = backend.crossEntropyForward(w); else ref.crossEntropyForward(p);
    },
    crossEntropyBackward(p) {
      const w = wasmArgs(p, p.logits.length >= MIN_ELEMENTS);
      if (w) backend.crossEntropyBackward({ ...w, dLoss: w.dLoss[0]! }); else ref.crossEntropyBackward(p);
    },
    embeddingForward(p) {
      const w = wasmArgs(p, p.out.length >= MIN_EMBEDDING_GATHER && p.table.length <= MAX_TABLE_PER_ROWS * p.out.length);
      if (w) backend.embeddingForward(w); else ref.embeddingForward(p);
    },
    embeddingBackward(p) {
      const w = wasmArgs(p, p.dOut.length >= MIN_EMBEDDING_SCATTER && p.dTable.length <= MAX_TABLE_PER_ROWS * p.dOut.length);
      if (w) backend.embeddingBackward(w); else ref.embeddingBackward(p);
    },
  };
}

export async function createWasmEngine(opts: WasmEngineOptions = {}): Promise<WasmEngine> {
  const { referenceBackward = false, ...backendOpts } = opts;
  return wasmEngineOf(await createWasmBackend(backendOpts), { referenceBackward });
}

/** The engine over an existing wasm backend (disposing the engine disposes the backend). */
export function wasmEngineOf(backend: WasmBackend, opts: { referenceBackward?: boolean } = {}): WasmEngine {
  const referenceBackward = opts.referenceBackward ?? false;
  const rows = `rows from ${MIN_ELEMENTS} elements`;
  return {
    ...hostDevice,
    ...wasmKernels(backend, referenceBackward),
    name: 'wasm',
    kernels: `${backend.name} (matmul, attention${referenceBackward ? ' forwards; backwards on reference' : ''}, ${rows}; float64 and the rest on reference)`,
    threads: backend.threads,
    backend,
    dispose: () => backend.dispose(),
  };
}
