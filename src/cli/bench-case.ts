// One benchmark case: set up inputs in the backend's memory, warm up, then time repeats.
// `performer bench` runs each case in a child process (bench-child.ts) so its peak memory is its own.
import { drawProjection } from '../favor/projection.js';
import { featureCount } from '../kernels/backend.js';
import { createWasmBackend, type WasmBackend } from '../kernels/wasm/index.js';
import { currentGradKernels, tsKernels, useGradKernels } from '../autograd/kernels.js';
import { wasmGradKernels } from '../autograd/kernels-wasm.js';

export interface BenchCase {
  impl: 'favor' | 'exact';
  mode: 'bidirectional' | 'causal';
  L: number; heads: number; d: number; features: number; batch: number;
  threads: number;
  seconds: number; // measure until about this long has passed
  simd: 'auto' | 'relaxed' | 'plain';
  backward: boolean; // time forward + backward (the autograd attention kernels)
  tsBackward: boolean; // with backward: the plain-TS backward kernels instead of the wasm ones
}

/** Fills with uniform values in [-1, 1) from a xorshift32 stream: the inputs only need to be generic. */
function fill(a: Float32Array, seed: number): void {
  let x = seed | 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    a[i] = (x >>> 0) / 2147483648 - 1;
  }
}

export async function runCase(c: BenchCase): Promise<{ ms: number; times: number[]; backend: string }> {
  const backend: WasmBackend = await createWasmBackend({ threads: c.threads, simd: c.simd });
  try {
    const { L, heads: H, d, batch: B } = c;
    const n = B * H * L * d;
    // Inputs live in the backend's memory, so the kernels read them in place (no copies).
    const q = backend.alloc(n), k = backend.alloc(n), v = backend.alloc(n), out = backend.alloc(n);
    fill(q, 1); fill(k, 2); fill(v, 3);
    const W = drawProjection({ features: c.features, dim: d, seed: 0 }).data;
    const favorArgs = { q, k, v, out, projection: W, B, H, Lq: L, Lk: L, d, Dv: d, m: c.features, featureMap: 'softmax' as const, causal: c.mode === 'causal', chunk: 64 };
    const exactArgs = { q, k, v, out, B, H, Lq: L, Lk: L, d, Dv: d, causal: c.mode === 'causal' };
    const forward = c.impl === 'favor' ? () => backend.favor(favorArgs) : () => backend.exact(exactArgs);
    let once = forward;
    let backwardName = '';
    if (c.backward) {
      // The gradients of q, k, v given dL/dout, through the kernels autograd uses: installed as
      // the CLI engine does, both backwards run on the wasm backend (threaded); tsBackward times
      // the plain-TS kernels they replace (single-threaded) for comparison.
      useGradKernels(c.tsBackward ? tsKernels : wasmGradKernels(backend));
      const { favorBackward, exactBackward } = currentGradKernels();
      const dOut = backend.alloc(n), dq = backend.alloc(n), dk = backend.alloc(n), dv = backend.alloc(n);
      fill(dOut, 4);
      once = c.impl === 'favor'
        ? () => { forward(); favorBackward({ ...favorArgs, dOut, dq, dk, dv }); }
        : () => { forward(); exactBackward({ ...exactArgs, dOut, dq, dk, dv }); };
      backwardName = c.tsBackward ? ', backward ts' : ', backward wasm';
    }
    once(); // warm-up: compiles, grows memory, starts the workers
    const times: number[] = [];
    const start = performance.now();
    do {
      const t0 = performance.now();
      once();
      times.push(performance.now() - t0);
    } while (performance.now() - start < c.seconds * 1000);
    for (let i = 0; i < out.length; i += 9973) {
      if (!Number.isFinite(out[i]!)) throw new Error(`non-finite output at ${i}`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    return { ms: sorted[sorted.length >> 1]!, times, backend: `${backend.name} x${backend.threads}${backwardName}` };
  } finally {
    backend.dispose();
  }
}

/** FLOPs counted for a case (multiply and add count as two), documented in docs/BENCHMARKS.md. */
export function caseFlops(c: Pick<BenchCase, 'impl' | 'mode' | 'L' | 'heads' | 'd' | 'features' | 'batch'>): number {
  const { L, heads, d, features: m, batch } = c;
  const perHead = c.impl === 'favor'
    // W·x̂ for queries and keys (2·2·L·m·d), S = Σ κ vᵀ and the output ρᵀS (2·2·L·m'·Dv)
    ? 4 * L * m * d + 4 * L * featureCount('softmax', m) * d
    // QKᵀ and A·V; the causal mask halves both
    : (c.mode === 'causal' ? 0.5 : 1) * 4 * L * L * d;
  return perHead * heads * batch;
}
