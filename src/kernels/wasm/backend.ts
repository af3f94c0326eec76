// createWasmBackend: the WebAssembly SIMD (+ threads) implementation of the Backend interface.
import type { Backend, ExactArgs, FavorArgs } from '../backend.js';
import { hardwareThreads, kernelBytes, optimiseWasmEagerly, relaxedSimdAvailable, sharedMemoryAvailable } from './features.js';
import { instantiateKernels, type SimdVariant } from './kernels.js';
import { WasmHeap } from './heap.js';
import { SerialRunner, ThreadPool, type Runner } from './pool.js';
import { Context } from './context.js';
import { runFavor } from './favor.js';
import { runExact } from './exact.js';
import { runExactBackward, type ExactBackwardArgs } from './exact-backward.js';
import { runMatmul, type MatmulArgs } from './matmul.js';
import { runFavorBackward, type FavorBackwardArgs } from './favor-backward.js';
import { runDropoutBackward, runDropoutForward, runGeluBackward, runGeluForward, type DropoutArgs,
  type DropoutBackwardArgs, type GeluArgs, type GeluBackwardArgs } from './pointwise.js';
import { runLayerNormBackward, runLayerNormForward, type LayerNormArgs, type LayerNormBackwardArgs } from './layernorm.js';
import { runEmbeddingBackward, runEmbeddingForward, type EmbeddingArgs, type EmbeddingBackwardArgs } from './embedding.js';
import { runCrossEntropyBackward, runCrossEntropyForward, type CrossEntropyArgs,
  type CrossEntropyBackwardArgs } from './cross-entropy.js';

export interface WasmBackendOptions {
  /** Threads including the caller; default: all cores (1 without SharedArrayBuffer). */
  threads?: number;
  /** 'relaxed': relaxed-SIMD FMA build, throws where unsupported; 'plain': mul+add build;
   *  'auto' (default): relaxed when the engine supports it, else plain. */
  simd?: 'relaxed' | 'plain' | 'auto';
}

export interface WasmBackend extends Backend {
  readonly name: 'wasm-relaxed' | 'wasm-simd';
  /** The kernel build in use. */
  readonly variant: SimdVariant;
  /** Threads taking part in each call, the caller included. */
  readonly threads: number;
  /** false when SharedArrayBuffer is unavailable (browser page not cross-origin isolated): the
   *  memory is then an ordinary one, threads is 1, and growing the heap detaches earlier alloc() views. */
  readonly sharedMemory: boolean;
  /** The memory all kernels work in. */
  readonly memory: WebAssembly.Memory;
  /** C = alpha·op(A)·op(B) + beta·C, see MatmulArgs. */
  matmul(args: MatmulArgs): void;
  /** FAVOR+ backward (float32): ADDS dL/dq, dL/dk, dL/dv into dq, dk, dv given out and dOut. */
  favorBackward(args: FavorBackwardArgs): void;
  /** Exact-attention backward (float32): ADDS dL/dq, dL/dk, dL/dv into dq, dk, dv given out and dOut. */
  exactBackward(args: ExactBackwardArgs): void;
  /** The row and elementwise kernels of the differentiable ops (float32); every backward ADDS into
   *  its gradients. Results do not depend on the thread count. GELU uses the tanh approximation. */
  geluForward(args: GeluArgs): void;
  geluBackward(args: GeluBackwardArgs): void;
  layerNormForward(args: LayerNormArgs): void;
  layerNormBackward(args: LayerNormBackwardArgs): void;
  embeddingForward(args: EmbeddingArgs): void;
  embeddingBackward(args: EmbeddingBackwardArgs): void;
  dropoutForward(args: DropoutArgs): void;
  dropoutBackward(args: DropoutBackwardArgs): void;
  /** Returns the mean loss over the rows that count. */
  crossEntropyForward(args: CrossEntropyArgs): number;
  crossEntropyBackward(args: CrossEntropyBackwardArgs): void;
  /** A float32 buffer inside the wasm memory: pass it to favor/exact/matmul to avoid copies. */
  alloc(n: number): Float32Array;
  /** Returns a buffer from alloc to the heap. */
  free(arr: Float32Array): void;
  /** Stops the worker threads; the backend cannot be used afterwards. */
  dispose(): void;
}

const INITIAL_PAGES = 64; // 4 MiB; the heap grows on demand
const MAXIMUM_PAGES = [65536, 16384]; // 4 GiB, or 1 GiB where the engine cannot reserve 4

export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  const simd = opts.simd ?? 'auto';
  if (simd !== 'relaxed' && simd !== 'plain' && simd !== 'auto') {
    throw new RangeError(`wasm backend: simd must be 'relaxed', 'plain' or 'auto', got '${String(simd)}'`);
  }
  const shared = sharedMemoryAvailable();
  const threads = opts.threads ?? (shared ? await hardwareThreads() : 1);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`wasm backend: threads must be a positive integer, got ${threads}`);
  if (threads > 1 && !shared) {
    throw new Error(`wasm backend: ${threads} threads need SharedArrayBuffer (in browsers: a cross-origin isolated page); use threads: 1`);
  }
  const relaxed = simd !== 'plain' && (await relaxedSimdAvailable());
  if (simd === 'relaxed' && !relaxed) throw new Error('wasm backend: relaxed SIMD was requested but this engine does not support it');
  const variant: SimdVariant = relaxed ? 'relaxed' : 'plain';

  const bytes = kernelBytes(variant, shared);
  if (!WebAssembly.validate(bytes)) {
    throw new Error(`wasm backend: this engine cannot run the ${variant} build (needs WebAssembly SIMD${shared ? ' and threads' : ''})`);
  }
  await optimiseWasmEagerly();
  const module = await WebAssembly.compile(bytes);
  const { memory, maximum } = createMemory(shared);
  const kernels = await instantiateKernels(module, memory);
  const heap = new WasmHeap(memory, kernels.heapBase(), shared, maximum * 65536);
  const runner: Runner = threads > 1 ? await ThreadPool.start(module, memory, threads) : new SerialRunner();
  return new WasmEngine(new Context(heap, kernels, runner), variant);
}

function createMemory(shared: boolean): { memory: WebAssembly.Memory; maximum: number } {
  let failure: unknown;
  for (const maximum of MAXIMUM_PAGES) {
    try {
      return { memory: new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum, shared }), maximum };
    } catch (e) {
      failure = e; // could not reserve that much address space: try smaller
    }
  }
  throw new Error('wasm backend: cannot create the WebAssembly memory', { cause: failure });
}

class WasmEngine implements WasmBackend {
  readonly name: 'wasm-relaxed' | 'wasm-simd';
  readonly threads: number;
  readonly sharedMemory: boolean;
  readonly memory: WebAssembly.Memory;
  private disposed = false;

  constructor(private readonly ctx: Context, readonly variant: SimdVariant) {
    this.name = variant === 'relaxed' ? 'wasm-relaxed' : 'wasm-simd';
    this.threads = ctx.threads;
    this.sharedMemory = ctx.heap.shared;
    this.memory = ctx.heap.memory;
  }

  favor(args: FavorArgs): void {
    runFavor(this.live(), args);
  }

  exact(args: ExactArgs): void {
    runExact(this.live(), args);
  }

  matmul(args: MatmulArgs): void {
    runMatmul(this.live(), args);
  }

  favorBackward(args: FavorBackwardArgs): void {
    runFavorBackward(this.live(), args);
  }

  exactBackward(args: ExactBackwardArgs): void {
    runExactBackward(this.live(), args);
  }

  geluForward(args: GeluArgs): void {
    runGeluForward(this.live(), args);
  }

  geluBackward(args: GeluBackwardArgs): void {
    runGeluBackward(this.live(), args);
  }

  layerNormForward(args: LayerNormArgs): void {
    runLayerNormForward(this.live(), args);
  }

  layerNormBackward(args: LayerNormBackwardArgs): void {
    runLayerNormBackward(this.live(), args);
  }

  embeddingForward(args: EmbeddingArgs): void {
    runEmbeddingForward(this.live(), args);
  }

  embeddingBackward(args: EmbeddingBackwardArgs): void {
    runEmbeddingBackward(this.live(), args);
  }

  dropoutForward(args: DropoutArgs): void {
    runDropoutForward(this.live(), args);
  }

  dropoutBackward(args: DropoutBackwardArgs): void {
    runDropoutBackward(this.live(), args);
  }

  crossEntropyForward(args: CrossEntropyArgs): number {
    return runCrossEntropyForward(this.live(), args);
  }

  crossEntropyBackward(args: CrossEntropyBackwardArgs): void {
    runCrossEntropyBackward(this.live(), args);
  }

  alloc(n: number): Float32Array {
    return this.live().heap.alloc(n);
  }

  free(arr: Float32Array): void {
    this.live().heap.free(arr);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.ctx.runner.dispose();
  }

  private live(): Context {
    if (this.disposed) throw new Error('wasm backend: used after dispose()');
    return this.ctx;
  }
}
