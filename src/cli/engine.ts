// The one place where the CLI chooses its compute kernels. Commands that run models call
// initEngine() once at start-up. By default it installs the WebAssembly SIMD backend (threads over
// all cores): the attention forwards through useBackend, and through useGradKernels the
// differentiable ops' kernels: matmul, the FAVOR+ and exact-attention backwards, GELU, LayerNorm,
// embedding, dropout and cross-entropy (small calls of the row ops stay on plain TS by measured
// thresholds, src/autograd/kernels-wasm-rows.ts). If the wasm backend
// cannot start, the command fails with the reason; it never falls back silently.

import { availableParallelism } from 'node:os';
import { currentGradKernels, useGradKernels } from '../autograd/kernels.js';
import { wasmGradKernels } from '../autograd/kernels-wasm.js';
import { defaultBackend, useBackend } from '../kernels/default.js';
import { referenceBackend } from '../kernels/reference/index.js';
import { createWasmBackend } from '../kernels/wasm/index.js';

export type EngineKind = 'wasm' | 'reference';
export const ENGINE_KINDS: readonly EngineKind[] = ['wasm', 'reference'];

export interface EngineOptions {
  /** Threads the wasm kernels use (default: the machine's available parallelism). */
  threads?: number;
  /** 'wasm' (default) or 'reference' (plain TypeScript, single-threaded, float64 sums). */
  engine?: EngineKind;
}

export interface EngineInfo {
  /** Kernels behind the differentiable ops, e.g. "wasm-relaxed-matmul+favor-backward+exact-backward+rows+ts". */
  gradKernels: string;
  /** Backend of the attention forwards, e.g. "wasm-relaxed". */
  backend: string;
  /** Threads the wasm kernels use (1 for the reference engine). */
  threads: number;
}

let current: Promise<EngineInfo> | undefined;
let currentKey = '';

/** Installs the compute kernels once per process; a second call must ask for the same engine. */
export function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  const engine = opts.engine ?? 'wasm';
  const threads = opts.threads ?? availableParallelism();
  const key = `${engine}/${threads}`;
  if (current && key !== currentKey) {
    return Promise.reject(new Error(`the compute engine is already ${currentKey}; cannot switch to ${key} in the same process`));
  }
  currentKey = key;
  current ??= (async () => {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
    if (engine === 'reference') {
      useBackend(referenceBackend);
      return { gradKernels: currentGradKernels().name, backend: defaultBackend().name, threads: 1 };
    }
    if (engine !== 'wasm') throw new Error(`unknown engine '${String(engine)}' (wasm|reference)`);
    const backend = await createWasmBackend({ threads });
    useBackend(backend);
    useGradKernels(wasmGradKernels(backend));
    return { gradKernels: currentGradKernels().name, backend: backend.name, threads: backend.threads };
  })();
  current.catch(() => { current = undefined; }); // a failed start may be retried
  return current;
}

/** One line for logs, e.g. "kernels wasm-relaxed-matmul+favor-backward+exact-backward+ts, attention wasm-relaxed, 2 threads". */
export function describeEngine(e: EngineInfo): string {
  return `kernels ${e.gradKernels}, attention ${e.backend}, ${e.threads} thread${e.threads === 1 ? '' : 's'}`;
}
