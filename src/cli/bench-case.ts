// One benchmark case: set up inputs on the engine (in the wasm memory for the wasm engine, so the
// kernels read them in place), warm up, then time repeats.
// `performer bench` runs each case in a child process (bench-child.ts) so its peak memory is its own.
import { drawProjection } from '../favor/projection.js';
import { featureCount } from '../kernels/backend.js';
import { createEngine, type EngineName } from '../kernels/registry.js';
import type { WasmEngine } from '../kernels/wasm/engine.js';

export interface BenchCase {
  impl: 'favor' | 'exact';
  mode: 'bidirectional' | 'causal';
  L: number; heads: number; d: number; features: number; batch: number;
  engine: EngineName;
  threads: number;
  seconds: number; // measure until about this long has passed
  simd?: 'auto' | 'relaxed' | 'plain' | undefined; // wasm engine option
  backward: boolean; // time forward + backward (the autograd attention kernels)
  tsBackward: boolean; // wasm engine option: the reference (plain-TS) attention backwards instead
}

/** Fills with uniform values in [-1, 1) from a xorshift32 stream: the inputs only need to be generic. */
function fill(a: Float32Array, seed: number): Float32Array {
  let x = seed | 1;
  for (let i = 0; i < a.length; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    a[i] = (x >>> 0) / 2147483648 - 1;
  }
  return a;
}

export async function runCase(c: BenchCase): Promise<{ ms: number; times: number[]; backend: string }> {
  const engine = await createEngine(c.engine, c.engine === 'wasm'
    ? { threads: c.threads, ...(c.simd ? { simd: c.simd } : {}), referenceBackward: c.tsBackward }
    : {});
  try {
    const { L, heads: H, d, batch: B } = c;
    const n = B * H * L * d;
    // On the wasm engine the inputs live in its memory, so the kernels read them in place (no copies).
    const wasm = engine.name === 'wasm' ? (engine as WasmEngine).backend : undefined;
    const input = (seed: number): unknown => wasm ? fill(wasm.alloc(n), seed) : engine.upload(fill(new Float32Array(n), seed));
    const output = (): unknown => wasm ? wasm.alloc(n) : engine.zeros(n, 'float32');
    const q = input(1), k = input(2), v = input(3), out = output();
    const W = engine.upload(drawProjection({ features: c.features, dim: d, seed: 0 }).data);
    const favorArgs = { q, k, v, out, projection: W, B, H, Lq: L, Lk: L, d, Dv: d, m: c.features, featureMap: 'softmax' as const, causal: c.mode === 'causal', chunk: 64 };
    const exactArgs = { q, k, v, out, B, H, Lq: L, Lk: L, d, Dv: d, causal: c.mode === 'causal' };
    const forward = c.impl === 'favor' ? () => engine.favorForward(favorArgs) : () => engine.exactForward(exactArgs);
    let once = forward;
    let backwardName = '';
    if (c.backward) {
      // The gradients of q, k, v given dL/dout, through the kernels autograd uses: on the wasm
      // engine both backwards run threaded in wasm; tsBackward times the reference kernels they
      // replace (single-threaded) for comparison.
      const dOut = input(4), dq = output(), dk = output(), dv = output();
      once = c.impl === 'favor'
        ? () => { forward(); engine.favorBackward({ ...favorArgs, dOut, dq, dk, dv }); }
        : () => { forward(); engine.exactBackward({ ...exactArgs, dOut, dq, dk, dv }); };
      backwardName = c.tsBackward || !wasm ? ', backward ts' : ', backward wasm';
    }
    once(); // warm-up: compiles, grows memory, starts the workers
    const times: number[] = [];
    const start = performance.now();
    do {
      const t0 = performance.now();
      once();
      times.push(performance.now() - t0);
    } while (performance.now() - start < c.seconds * 1000);
    const values = await engine.read(out);
    for (let i = 0; i < values.length; i += 9973) {
      if (!Number.isFinite(values[i]!)) throw new Error(`non-finite output at ${i}`);
    }
    const sorted = [...times].sort((a, b) => a - b);
    return { ms: sorted[sorted.length >> 1]!, times, backend: `${wasm ? wasm.name : engine.name} x${engine.threads}${backwardName}` };
  } finally {
    engine.dispose();
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
