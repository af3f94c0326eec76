// Tests of the WebAssembly backend (src/kernels/wasm): the packed matmul against a float64 loop,
// the vector exp and sin/cos, fused FAVOR+ and exact attention against the plain-TS reference,
// agreement across thread counts and SIMD builds, the heap, and loading the workers from dist/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { kernelBytes, relaxedSimdAvailable } from '../src/kernels/wasm/features.js';
import { instantiateKernels, type KernelExports, type SimdVariant } from '../src/kernels/wasm/kernels.js';
import { referenceBackend } from '../src/kernels/reference/index.js';
import type { ExactArgs, FavorArgs, FeatureMap } from '../src/kernels/backend.js';

/** Deterministic uniform values in [-scale, scale). */
function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}

/** max |a − b| / max(1, max |b|): every output here is O(1), so this is a relative error. */
function relError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let err = 0, scale = 1;
  for (let i = 0; i < a.length; i++) {
    assert.ok(Number.isFinite(a[i]), `non-finite output at ${i}: ${a[i]}`);
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
}

let relaxed1: WasmBackend, relaxed3: WasmBackend, plain2: WasmBackend;
before(async () => {
  relaxed1 = await createWasmBackend({ threads: 1, simd: 'relaxed' });
  relaxed3 = await createWasmBackend({ threads: 3, simd: 'relaxed' }); // more threads than cores is fine
  plain2 = await createWasmBackend({ threads: 2, simd: 'plain' });
});
after(() => {
  for (const b of [relaxed1, relaxed3, plain2]) b?.dispose();
});

describe('createWasmBackend', () => {
  test('reports the variant, threads and memory kind it runs with', () => {
    assert.equal(relaxed1.name, 'wasm-relaxed');
    assert.equal(relaxed1.variant, 'relaxed');
    assert.equal(relaxed1.threads, 1);
    assert.equal(relaxed3.threads, 3);
    assert.equal(plain2.name, 'wasm-simd');
    assert.equal(plain2.variant, 'plain');
    assert.equal(plain2.sharedMemory, true);
    assert.ok(plain2.memory.buffer instanceof SharedArrayBuffer);
  });

  test('rejects invalid options', async () => {
    await assert.rejects(createWasmBackend({ threads: 0 }), /threads must be a positive integer/);
    await assert.rejects(createWasmBackend({ threads: 1.5 }), /threads must be a positive integer/);
    await assert.rejects(createWasmBackend({ simd: 'fast' as 'auto' }), /simd must be/);
  });

  test('without SharedArrayBuffer: an ordinary memory and one thread, and threads > 1 is refused', () => {
    // A browser page that is not cross-origin isolated has no SharedArrayBuffer; so has this child
    // process once the global is deleted (after tsx, whose loader thread needs it, has started).
    const index = JSON.stringify(new URL('../src/kernels/wasm/index.ts', import.meta.url).href);
    const reference = JSON.stringify(new URL('../src/kernels/reference/index.ts', import.meta.url).href);
    const script = `
      delete globalThis.SharedArrayBuffer;
      const { createWasmBackend } = await import(${index});
      const { referenceBackend } = await import(${reference});
      const b = await createWasmBackend();
      const n = 4 * 10 * 8, r = (s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * s));
      const args = { q: r(1.1), k: r(1.7), v: r(2.3), projection: r(0.7).subarray(0, 96), B: 1, H: 4, Lq: 10, Lk: 10,
        d: 8, Dv: 8, m: 12, featureMap: 'softmax', causal: true, chunk: 4 };
      const out = new Float32Array(n), ref = new Float32Array(n);
      b.favor({ ...args, out }); referenceBackend.favor({ ...args, out: ref });
      const err = Math.max(...out.map((x, i) => Math.abs(x - ref[i])));
      const refused = await createWasmBackend({ threads: 2 }).then(() => 'created', (e) => e.message);
      console.log(JSON.stringify({ name: b.name, threads: b.threads, shared: b.sharedMemory, ok: err < 1e-5, refused }));`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 30_000 }).toString();
    const result = JSON.parse(output);
    assert.deepEqual({ ...result, refused: undefined }, { name: 'wasm-relaxed', threads: 1, shared: false, ok: true, refused: undefined });
    assert.match(result.refused, /2 threads need SharedArrayBuffer/);
  });

  test('cannot be used after dispose()', async () => {
    const b = await createWasmBackend({ threads: 2 });
    b.dispose();
    b.dispose(); // idempotent
    assert.throws(() => b.alloc(4), /after dispose/);
    assert.throws(() => b.exact(exactArgs(1, 1, 4, 4, 4, 4, false, 1)), /after dispose/);
  });
});

describe('matmul', () => {
  function naive(a: Float32Array, b: Float32Array, c0: Float32Array, M: number, N: number, K: number,
    transA: boolean, transB: boolean, alpha: number, beta: number): { value: Float64Array; bound: Float64Array } {
    const value = new Float64Array(M * N), bound = new Float64Array(M * N);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0, abs = 0;
        for (let k = 0; k < K; k++) {
          const p = (transA ? a[k * M + i] : a[i * K + k]) * (transB ? b[j * K + k] : b[k * N + j]);
          s += p;
          abs += Math.abs(p);
        }
        const prev = beta === 0 ? 0 : beta * c0[i * N + j];
        value[i * N + j] = alpha * s + prev;
        bound[i * N + j] = Math.abs(alpha) * abs + Math.abs(prev);
      }
    }
    return { value, bound };
  }

  // Odd sizes (edge tiles in M and N), K beyond one 256-deep block, N beyond one 512-wide block.
  const shapes: Array<[number, number, number]> = [[37, 29, 53], [5, 3, 1], [130, 67, 300], [20, 530, 17], [1, 1, 1]];
  for (const [M, N, K] of shapes) {
    for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
      test(`${M}×${N}×${K} ${transA ? 'Aᵀ' : 'A'}·${transB ? 'Bᵀ' : 'B'}, plain and accumulating, every backend`, () => {
        const a = random(M * K, M + 7), b = random(K * N, N + 11), c0 = random(M * N, K + 13);
        for (const [alpha, beta] of [[1, 0], [-0.5, 1.5]]) {
          const ref = naive(a, b, c0, M, N, K, transA, transB, alpha, beta);
          for (const backend of [relaxed1, relaxed3, plain2]) {
            const c = c0.slice();
            backend.matmul({ a, b, c, M, N, K, transA, transB, alpha, beta });
            for (let i = 0; i < M * N; i++) {
              const tol = 1e-6 * (ref.bound[i] + 1e-3) * Math.sqrt(K + 1);
              assert.ok(Math.abs(c[i] - ref.value[i]) <= tol,
                `${backend.name}×${backend.threads} α=${alpha} β=${beta} C[${i}] = ${c[i]}, expected ${ref.value[i]}`);
            }
          }
        }
      });
    }
  }

  test('K = 0 gives C = beta·C', () => {
    const c = Float32Array.from([1, 2, 3, 4, 5, 6]);
    relaxed1.matmul({ a: new Float32Array(0), b: new Float32Array(0), c, M: 2, N: 3, K: 0, beta: 2 });
    assert.deepEqual([...c], [2, 4, 6, 8, 10, 12]);
    relaxed1.matmul({ a: new Float32Array(0), b: new Float32Array(0), c, M: 2, N: 3, K: 0 });
    assert.deepEqual([...c], [0, 0, 0, 0, 0, 0]);
  });

  test('arrays from alloc() are used in place and give the same bits as copies', () => {
    const M = 64, N = 72, K = 80;
    const a = relaxed3.alloc(M * K), b = relaxed3.alloc(K * N), c = relaxed3.alloc(M * N);
    a.set(random(M * K, 1)); b.set(random(K * N, 2));
    relaxed3.matmul({ a, b, c, M, N, K, transB: true });
    const copy = new Float32Array(M * N);
    relaxed3.matmul({ a: a.slice(), b: b.slice(), c: copy, M, N, K, transB: true });
    assert.deepEqual(c, copy);
    for (const x of [a, b, c]) relaxed3.free(x);
  });

  test('rejects operands of the wrong size', () => {
    assert.throws(() => relaxed1.matmul({ a: new Float32Array(5), b: new Float32Array(6), c: new Float32Array(4), M: 2, N: 2, K: 3 }),
      /a has 5 elements, expected at least 6/);
    assert.throws(() => relaxed1.matmul({ a: new Float32Array(6), b: new Float32Array(6), c: new Float32Array(8), M: 2, N: 2, K: 3,
      batch: 2, strideA: 0, strideB: 0, strideC: 2 }), /C matrices would overlap/);
  });

  test('batches with strides: packed, broadcast (stride 0) and gapped, in one parallel job', () => {
    const M = 37, N = 29, K = 53, batch = 12; // large enough to run in parallel
    for (const [strideA, strideB, strideC] of [[M * K, K * N, M * N], [0, K * N + 3, M * N + 5], [M * K + 2, 0, M * N]]) {
      for (const [transA, transB] of [[false, false], [true, true]]) {
        const a = random((batch - 1) * strideA + M * K, 5), b = random((batch - 1) * strideB + K * N, 6);
        const c0 = random((batch - 1) * strideC + M * N, 7);
        for (const backend of [relaxed1, relaxed3]) {
          const c = c0.slice();
          backend.matmul({ a, b, c, M, N, K, transA, transB, beta: 1, batch, strideA, strideB, strideC });
          const expected = c0.slice(); // gaps between the C matrices must stay untouched
          for (let t = 0; t < batch; t++) {
            const ref = naive(a.subarray(t * strideA), b.subarray(t * strideB), c0.subarray(t * strideC), M, N, K, transA, transB, 1, 1);
            ref.value.forEach((x, i) => { expected[t * strideC + i] = x; });
          }
          for (let i = 0; i < c.length; i++) {
            assert.ok(Math.abs(c[i] - expected[i]) <= 1e-5 * (1 + Math.abs(expected[i])), `strides ${strideA},${strideB},${strideC} [${i}]`);
          }
        }
      }
    }
  });
});

describe('vector math', () => {
  const kernels = new Map<SimdVariant, KernelExports>();
  let memory: WebAssembly.Memory;
  const base = 1 << 16;
  before(async () => {
    assert.ok(await relaxedSimdAvailable()); // also enables relaxed SIMD in Node 20
    memory = new WebAssembly.Memory({ initial: 512, maximum: 512, shared: true });
    for (const variant of ['relaxed', 'plain'] as const) {
      kernels.set(variant, await instantiateKernels(await WebAssembly.compile(kernelBytes(variant, true)), memory));
    }
  });

  function runExp(k: KernelExports, xs: Float32Array): Float32Array {
    new Float32Array(memory.buffer, base, xs.length).set(xs);
    const dst = base + 4 * xs.length + 64;
    k.expMap(base, dst, xs.length);
    return new Float32Array(memory.buffer, dst, xs.length).slice();
  }

  for (const variant of ['relaxed', 'plain'] as const) {
    test(`exp (${variant}) is within 2e-7 relative over [-87.33, 88.72]`, () => {
      const n = 1_000_003; // not a multiple of 4: the scalar tail runs too
      const xs = new Float32Array(n);
      for (let i = 0; i < n; i++) xs[i] = -87.33 + (176.05 * i) / (n - 1);
      const ys = runExp(kernels.get(variant)!, xs);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const e = Math.exp(xs[i]);
        worst = Math.max(worst, Math.abs(ys[i] - e) / e);
      }
      assert.ok(worst <= 2e-7, `max relative error ${worst}`);
    });

    test(`exp (${variant}) edge cases: underflow to 0, overflow to ∞, NaN stays NaN`, () => {
      const xs = Float32Array.from([-Infinity, -1e30, -1000, -100, -88, -87.34, 0, -0, 1, 88.73, 89, 1e30, Infinity, NaN]);
      const ys = runExp(kernels.get(variant)!, xs);
      assert.deepEqual([...ys.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
      assert.equal(ys[6], 1);
      assert.equal(ys[7], 1);
      assert.ok(Math.abs(ys[8] - Math.E) / Math.E < 2e-7);
      assert.deepEqual([...ys.subarray(9, 13)], [Infinity, Infinity, Infinity, Infinity]);
      assert.ok(Number.isNaN(ys[13]));
    });

    test(`sin and cos (${variant}) are within 1e-6 for |x| ≤ 1000`, () => {
      const n = 200_001;
      const xs = new Float32Array(n);
      for (let i = 0; i < n; i++) xs[i] = -1000 + (2000 * i) / (n - 1);
      new Float32Array(memory.buffer, base, n).set(xs);
      const sinAt = base + 4 * n + 64, cosAt = sinAt + 4 * n + 64;
      kernels.get(variant)!.sinCosMap(base, n, sinAt, cosAt);
      const s = new Float32Array(memory.buffer, sinAt, n), c = new Float32Array(memory.buffer, cosAt, n);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        worst = Math.max(worst, Math.abs(s[i] - Math.sin(xs[i])), Math.abs(c[i] - Math.cos(xs[i])));
      }
      assert.ok(worst <= 1e-6, `max abs error ${worst}`);
    });
  }
});

function favorArgs(featureMap: FeatureMap, causal: boolean, B: number, H: number, Lq: number, Lk: number, d: number,
  Dv: number, m: number, chunk: number, seed: number, mask?: (b: number, j: number) => boolean): FavorArgs {
  return {
    q: random(B * H * Lq * d, seed), k: random(B * H * Lk * d, seed + 1), v: random(B * H * Lk * Dv, seed + 2),
    out: new Float32Array(B * H * Lq * Dv), projection: random(m * d, seed + 3, 1.7),
    keyMask: mask ? Float32Array.from({ length: B * Lk }, (_, i) => (mask(Math.floor(i / Lk), i % Lk) ? 1 : 0)) : undefined,
    B, H, Lq, Lk, d, Dv, m, featureMap, causal, chunk,
  };
}

function run(backend: { favor(a: FavorArgs): void }, args: FavorArgs): Float32Array {
  const out = new Float32Array(args.out.length);
  backend.favor({ ...args, out });
  return out;
}

describe('FAVOR+ against the reference backend', () => {
  const kernelsUnderTest: FeatureMap[] = ['softmax', 'softmax-hyp', 'trig', 'relu'];
  const someMasked = (b: number, j: number): boolean => (j * 7 + b) % 5 !== 2;
  for (const featureMap of kernelsUnderTest) {
    for (const causal of [false, true]) {
      test(`${featureMap} ${causal ? 'causal' : 'bidirectional'}: odd L and chunk, Dv ≠ d, m not a multiple of 8, with and without a key mask`, () => {
        for (const [mask, seed] of [[undefined, 10], [someMasked, 20]] as const) {
          // L = 77 with chunk 16: a partial last chunk; m = 21 and Dv = 13: SIMD tails everywhere.
          const args = favorArgs(featureMap, causal, 2, 2, 77, 77, 16, 13, 21, 16, seed, mask);
          const ref = run(referenceBackend, args);
          for (const backend of [relaxed1, relaxed3, plain2]) {
            const err = relError(run(backend, args), ref);
            assert.ok(err < 2e-5, `${backend.name}×${backend.threads}: error ${err}`);
          }
        }
      });
    }
    test(`${featureMap} cross attention (Lq ≠ Lk), chunk larger than L`, () => {
      const args = favorArgs(featureMap, false, 1, 3, 50, 93, 8, 24, 32, 128, 30, someMasked);
      const ref = run(referenceBackend, args);
      for (const backend of [relaxed1, relaxed3, plain2]) {
        const err = relError(run(backend, args), ref);
        assert.ok(err < 2e-5, `${backend.name}×${backend.threads}: error ${err}`);
      }
    });
  }

  test('chunks shorter than the micro-tile (1 and 5 positions)', () => {
    for (const chunk of [1, 5]) {
      for (const causal of [false, true]) {
        const args = favorArgs('softmax', causal, 1, 2, 23, 23, 8, 8, 16, chunk, 35, (_, j) => j !== 3);
        const err = relError(run(relaxed3, args), run(referenceBackend, args));
        assert.ok(err < 2e-5, `chunk ${chunk} causal=${causal}: error ${err}`);
      }
    }
  });

  test('realistic sizes (d = 64, m = 128, Dv = 64), both directions', () => {
    for (const causal of [false, true]) {
      const args = favorArgs('softmax', causal, 1, 2, 200, 200, 64, 64, 128, 64, 40);
      const ref = run(referenceBackend, args);
      const err = relError(run(relaxed3, args), ref);
      assert.ok(err < 2e-5, `causal=${causal}: error ${err}`);
    }
  });

  test('a fully masked batch row gives zero outputs; masked leading keys give zero causal rows', () => {
    for (const featureMap of kernelsUnderTest) {
      // Batch 1 has every key masked; in batch 0 the first five keys are masked.
      const args = favorArgs(featureMap, true, 2, 2, 40, 40, 8, 8, 16, 16, 50, (b, j) => b === 0 && j >= 5);
      for (const causal of [false, true]) {
        const ref = run(referenceBackend, { ...args, causal });
        for (const backend of [relaxed1, relaxed3]) {
          const out = run(backend, { ...args, causal });
          assert.ok(relError(out, ref) < 2e-5, `${featureMap} causal=${causal}`);
          const rows = out.length / 8;
          for (let r = 0; r < rows; r++) {
            const batch = Math.floor(r / (2 * 40)), pos = r % 40;
            if (batch === 1 || (causal && pos < 5)) {
              for (let e = 0; e < 8; e++) assert.equal(out[r * 8 + e], 0, `${featureMap} causal=${causal} row ${r}`);
            }
          }
        }
      }
    }
  });

  test('rejects malformed arguments', () => {
    const args = favorArgs('softmax', false, 1, 1, 8, 8, 4, 4, 8, 4, 60);
    assert.throws(() => relaxed1.favor({ ...args, q: new Float32Array(3) }), /q has 3 elements/);
    assert.throws(() => relaxed1.favor({ ...args, causal: true, Lq: 4, q: new Float32Array(16), out: new Float32Array(16) }),
      /wasm favor: causal attention needs Lq = Lk, got Lq=4, Lk=8/);
    assert.throws(() => relaxed1.favor({ ...args, chunk: 0 }), /chunk must be a positive integer/);
  });
});

describe('FAVOR+ across threads and SIMD builds', () => {
  // One and three heads: fewer heads than threads, or not a multiple, so the sequence is split
  // into parts whose partial states are combined (bidirectional) or carried (causal).
  for (const heads of [1, 3, 8]) {
    for (const causal of [false, true]) {
      test(`${heads} head(s), ${causal ? 'causal' : 'bidirectional'}: 1 thread = 3 threads = plain 2 threads`, () => {
        const args = favorArgs('softmax', causal, 1, heads, 300, 300, 16, 16, 32, 32, 70 + heads, (_, j) => j % 11 !== 4);
        const one = run(relaxed1, args);
        for (const backend of [relaxed3, plain2]) {
          const err = relError(run(backend, args), one);
          assert.ok(err < 1e-5, `${backend.name}×${backend.threads}: ${err}`);
        }
      });
    }
  }
});

function exactArgs(B: number, H: number, Lq: number, Lk: number, d: number, Dv: number, causal: boolean, seed: number,
  mask?: (b: number, j: number) => boolean): ExactArgs {
  return {
    q: random(B * H * Lq * d, seed, 2), k: random(B * H * Lk * d, seed + 1, 2), v: random(B * H * Lk * Dv, seed + 2),
    out: new Float32Array(B * H * Lq * Dv),
    keyMask: mask ? Float32Array.from({ length: B * Lk }, (_, i) => (mask(Math.floor(i / Lk), i % Lk) ? 1 : 0)) : undefined,
    B, H, Lq, Lk, d, Dv, causal,
  };
}

/** softmax(q·k/√d) over visible keys, in float64; a row without visible keys is 0. */
function naiveExact(a: ExactArgs): Float32Array {
  const out = new Float32Array(a.out.length);
  for (let bh = 0; bh < a.B * a.H; bh++) {
    const b = Math.floor(bh / a.H);
    for (let i = 0; i < a.Lq; i++) {
      const scores: number[] = [];
      let max = -Infinity;
      for (let j = 0; j < a.Lk; j++) {
        const visible = (!a.causal || j <= i) && (!a.keyMask || a.keyMask[b * a.Lk + j] !== 0);
        let s = -Infinity;
        if (visible) {
          s = 0;
          for (let e = 0; e < a.d; e++) s += a.q[(bh * a.Lq + i) * a.d + e] * a.k[(bh * a.Lk + j) * a.d + e];
          s /= Math.sqrt(a.d);
        }
        scores.push(s);
        max = Math.max(max, s);
      }
      if (max === -Infinity) continue;
      let sum = 0;
      const acc = new Float64Array(a.Dv);
      scores.forEach((s, j) => {
        const w = Math.exp(s - max);
        sum += w;
        for (let e = 0; e < a.Dv; e++) acc[e] += w * a.v[(bh * a.Lk + j) * a.Dv + e];
      });
      for (let e = 0; e < a.Dv; e++) out[(bh * a.Lq + i) * a.Dv + e] = acc[e] / sum;
    }
  }
  return out;
}

describe('exact attention', () => {
  // 150 query rows (> one 64-row item, not a multiple) and 300 keys (> one 128-key block).
  const cases: Array<[string, ExactArgs]> = [
    ['bidirectional', exactArgs(2, 2, 150, 300, 16, 12, false, 80)],
    ['cross attention with mask', exactArgs(2, 2, 150, 300, 16, 12, false, 81, (b, j) => (j + b) % 3 !== 0)],
    ['causal', exactArgs(2, 2, 150, 150, 16, 12, true, 82)],
    ['causal with mask, batch 1 fully masked', exactArgs(2, 2, 150, 150, 16, 12, true, 83, (b, j) => b === 0 && j % 4 !== 1)],
  ];
  for (const [name, args] of cases) {
    test(`${name}: matches a float64 loop and the reference backend`, () => {
      const expected = naiveExact(args);
      const ref = run2(referenceBackend, args);
      assert.ok(relError(ref, expected) < 1e-5);
      for (const backend of [relaxed1, relaxed3, plain2]) {
        const err = relError(run2(backend, args), expected);
        assert.ok(err < 1e-5, `${backend.name}×${backend.threads}: error ${err}`);
      }
    });
  }

  function run2(backend: { exact(a: ExactArgs): void }, args: ExactArgs): Float32Array {
    const out = new Float32Array(args.out.length);
    backend.exact({ ...args, out });
    return out;
  }
});

describe('heap', () => {
  test('growing the memory keeps earlier views valid; free and reuse; misuse throws', () => {
    const small = relaxed3.alloc(1000);
    small.fill(3.5);
    const big = relaxed3.alloc(16 << 20); // 64 MiB: beyond the initial memory
    big[big.length - 1] = 7;
    assert.equal(small[999], 3.5);
    assert.ok(relaxed3.memory.buffer.byteLength >= 64 << 20);
    relaxed3.free(big);
    const again = relaxed3.alloc(16 << 20);
    assert.equal(again.byteOffset, big.byteOffset); // first fit reuses the freed block
    relaxed3.free(again);
    relaxed3.free(small);
    assert.throws(() => relaxed3.free(small), /double free/);
    assert.throws(() => relaxed3.free(new Float32Array(4)), /not allocated by this backend/);
  });

  test('FAVOR+ on heap views (in place) matches FAVOR+ on ordinary arrays', () => {
    const args = favorArgs('softmax-hyp', true, 1, 2, 100, 100, 16, 16, 24, 32, 90);
    const expected = run(relaxed3, args);
    const views = Object.fromEntries((['q', 'k', 'v', 'projection'] as const).map((key) => {
      const view = relaxed3.alloc(args[key].length);
      view.set(args[key]);
      return [key, view];
    }));
    const out = relaxed3.alloc(args.out.length);
    relaxed3.favor({ ...args, ...views, out });
    assert.deepEqual(out, expected);
    for (const view of [...Object.values(views), out]) relaxed3.free(view);
  });
});

test('the worker pool also loads from compiled JavaScript (dist layout)', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'performer-wasm-dist-'));
  try {
    execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'),
      '--outDir', join(dir, 'dist'), '--rootDir', join(root, 'src'), '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--strict', '--skipLibCheck', '--types', 'node',
      join(root, 'src/kernels/wasm/index.ts'), join(root, 'src/kernels/wasm/worker.ts')], { stdio: 'pipe' });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    const script = `
      import { createWasmBackend } from ${JSON.stringify(join(dir, 'dist/kernels/wasm/index.js'))};
      const b = await createWasmBackend({ threads: 2 });
      const n = 96, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
      b.matmul({ a, b: a, c, M: n, N: n, K: n });
      console.log(JSON.stringify({ name: b.name, threads: b.threads, c: c[n * n - 1] }));
      b.dispose();`;
    writeFileSync(join(dir, 'run.mjs'), script);
    // Plain node, no tsx: the worker must be dist/kernels/wasm/worker.js. It must exit by itself.
    const result = JSON.parse(execFileSync(process.execPath, [join(dir, 'run.mjs')], { timeout: 30_000 }).toString());
    assert.deepEqual(result, { name: 'wasm-relaxed', threads: 2, c: 96 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
