// The one place where the CLI chooses its compute kernels. Commands that train or run models call
// initEngine() once at start-up; installing a faster backend (e.g. the WebAssembly SIMD matmul and
// attention through useGradKernels / useBackend) belongs here and nowhere else. For now it installs
// nothing and reports what is in use.

import { availableParallelism } from 'node:os';
import { currentGradKernels } from '../autograd/kernels.js';
import { defaultBackend } from '../kernels/default.js';

export interface EngineOptions {
  /** Threads the kernels may use (default: the machine's available parallelism). */
  threads?: number;
}

export interface EngineInfo {
  /** Kernels behind the differentiable ops (matmul, attention backward), e.g. "backend+ts". */
  gradKernels: string;
  /** Backend of the attention forwards, e.g. "reference". */
  backend: string;
  /** Threads the kernels use. */
  threads: number;
}

let current: Promise<EngineInfo> | undefined;

/** Installs the compute kernels (once; later calls return the same info). */
export function initEngine(opts: EngineOptions = {}): Promise<EngineInfo> {
  current ??= (async () => {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`threads must be a positive integer, got ${threads}`);
    // Plain TypeScript kernels for now: single-threaded whatever `threads` says.
    return { gradKernels: currentGradKernels().name, backend: defaultBackend().name, threads: 1 };
  })();
  current.catch(() => { current = undefined; }); // a failed start may be retried
  return current;
}

/** One line for logs, e.g. "kernels backend+ts, attention reference, 1 thread". */
export function describeEngine(e: EngineInfo): string {
  return `kernels ${e.gradKernels}, attention ${e.backend}, ${e.threads} thread${e.threads === 1 ? '' : 's'}`;
}
