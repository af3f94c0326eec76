// Quick benchmark of the wasm engine's matmul and attention kernels (medians of repeated runs; the machine is noisy).
//   node --import tsx bench/wasm.ts [--threads 1,2] [--simd auto|plain] [--L 4096,16384] [--only matmul|favor|exact]
// Reports matmul GFLOP/s (2·M·N·K) and FAVOR+ GFLOP/s counting 4·L·m·d + 4·L·m·Dv per head
// (features of Q and K, then S and the output), at B=1, H=8, d=64, m=256, Dv=64.
import { createEngine } from '../src/kernels/registry.js';
import type { WasmEngine } from '../src/kernels/wasm/engine.js';
import type { FeatureMap } from '../src/kernels/backend.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const threadList = option('threads', '1,2').split(',').map(Number);
const simd = option('simd', 'auto') as 'auto' | 'plain' | 'relaxed';
const lengths = option('L', '4096,16384').split(',').map(Number);
const only = option('only', '');
const kernel = option('kernel', 'softmax') as FeatureMap;
const chunk = Number(option('chunk', '256'));

function fill(arr: Float32Array, scale = 1): Float32Array {
  for (let i = 0; i < arr.length; i++) arr[i] = (Math.random() * 2 - 1) * scale;
  return arr;
}

/** Median milliseconds of fn over enough repetitions to take ~minMs (at least 3, after a warm-up). */
function median(fn: () => void, minMs = 1500): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < minMs && times.length < 50)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}

function benchMatmul(e: WasmEngine): void {
  const be = e.backend;
  for (const n of [256, 512, 1024]) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true]]) {
      const a = fill(be.alloc(n * n)), b = fill(be.alloc(n * n)), c = be.alloc(n * n);
      const ms = median(() => e.matmul({ a, b, c, M: n, N: n, K: n, transA, transB, batch: 1, strideA: 0, strideB: 0, strideC: 0, accumulate: false }));
      const tag = transA ? 'AᵀB' : transB ? 'ABᵀ' : 'AB ';
      console.log(`matmul ${tag} n=${n} threads=${be.threads} ${be.name}: ${ms.toFixed(2)} ms, ${((2 * n ** 3) / ms / 1e6).toFixed(1)} GFLOP/s`);
      be.free(a); be.free(b); be.free(c);
    }
  }
}

function benchFavor(e: WasmEngine, causal: boolean): void {
  const be = e.backend;
  const B = 1, H = 8, d = 64, Dv = 64, m = 256;
  for (const L of lengths) {
    const q = fill(be.alloc(B * H * L * d)), k = fill(be.alloc(B * H * L * d)), v = fill(be.alloc(B * H * L * Dv));
    const out = be.alloc(B * H * L * Dv), projection = fill(be.alloc(m * d));
    const ms = median(() => e.favorForward({ q, k, v, out, projection, B, H, Lq: L, Lk: L, d, Dv, m, featureMap: kernel, causal, chunk }));
    const flops = B * H * (4 * L * m * d + 4 * L * m * Dv);
    console.log(`favor ${causal ? 'causal' : 'bidir '} ${kernel} L=${L} threads=${be.threads} ${be.name}: ${ms.toFixed(1)} ms, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`);
    for (const arr of [q, k, v, out, projection]) be.free(arr);
  }
}

function benchExact(e: WasmEngine, causal: boolean): void {
  const be = e.backend;
  const B = 1, H = 8, d = 64, Dv = 64;
  for (const L of lengths.filter((l) => l <= 4096)) {
    const q = fill(be.alloc(B * H * L * d)), k = fill(be.alloc(B * H * L * d)), v = fill(be.alloc(B * H * L * Dv));
    const out = be.alloc(B * H * L * Dv);
    const ms = median(() => e.exactForward({ q, k, v, out, B, H, Lq: L, Lk: L, d, Dv, causal }));
    const flops = B * H * 2 * L * L * (d + Dv) * (causal ? 0.5 : 1);
    console.log(`exact ${causal ? 'causal' : 'bidir '} L=${L} threads=${be.threads} ${be.name}: ${ms.toFixed(1)} ms, ${(flops / ms / 1e6).toFixed(1)} GFLOP/s`);
    for (const arr of [q, k, v, out]) be.free(arr);
  }
}

for (const threads of threadList) {
  const be = await createEngine('wasm', { threads, simd }) as WasmEngine;
  if (!only || only === 'matmul') benchMatmul(be);
  if (!only || only === 'favor') { benchFavor(be, false); benchFavor(be, true); }
  if (!only || only === 'exact') { benchExact(be, false); benchExact(be, true); }
  be.dispose();
}
