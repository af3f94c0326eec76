// The WebGPU kernels against the reference backend (src/kernels/reference) in float32 tolerance:
// error = max |gpu − ref| / max |ref| over the whole output, at most 1e-4 (1e-3 for the trig map,
// whose sin/cos carry WGSL's absolute error). Runs on any adapter; without a GPU, on SwiftShader
// (see docs/WEBGPU.md). Without an adapter the tests are skipped, naming why and how to enable
// them; with CI=true a missing adapter fails instead.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { drawProjection, FEATURE_MAPS, type FeatureMap } from '../src/index.js';
import { referenceBackend } from '../src/kernels/reference/index.js';
import { createWebGpuBackend, type GpuTensor, type WebGpuBackend } from '../src/kernels/webgpu/index.js';
import { useSwiftShaderIfNoDriverChosen } from '../src/kernels/webgpu/swiftshader-node.js';
import { randn, randomMask, TestRandom } from './helpers/data.js';
import { relativeError as relErr } from './helpers/float64-reference.js';
import { tsGeluBackward, tsGeluForward } from '../src/kernels/reference/grad/pointwise.js';
import { tsLayerNormBackward, tsLayerNormForward } from '../src/kernels/reference/grad/layernorm.js';
import { tsExactBackward } from '../src/kernels/reference/grad/exact.js';
import { tsEmbeddingBackward, tsEmbeddingForward } from '../src/kernels/reference/grad/embedding.js';
import { tsCrossEntropyBackward, tsCrossEntropyForward } from '../src/kernels/reference/grad/cross-entropy.js';
import { IGNORE_INDEX } from '../src/data/ignore-index.js';

const ENABLE = 'apt-get install -y chromium-headless-shell libvulkan1';

useSwiftShaderIfNoDriverChosen();
let gpu: WebGpuBackend | undefined;
let why = '';
try {
  gpu = await createWebGpuBackend();
} catch (e) {
  why = (e as Error).message;
}
const skip = gpu ? false : `no WebGPU adapter (${why}); enable with: ${ENABLE}`;
if (!gpu && process.env.CI === 'true') {
  test('a WebGPU adapter exists (CI=true)', () => assert.fail(`${skip}`));
}
after(() => gpu?.destroy());

const tol = (map: FeatureMap | 'exact') => (map === 'trig' ? 1e-3 : 1e-4);

function data(n: number, seed: number, std = 1): Float32Array {
  const r = new TestRandom(seed);
  return Float32Array.from({ length: n }, () => std * r.normal());
}

interface Case {
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; m: number;
  causal: boolean; masked: boolean; seed: number;
}

interface HostInputs { q: Float32Array; k: Float32Array; v: Float32Array; w: Float32Array; mask?: Float32Array }

function inputs(c: Case, std = 0.8): HostInputs {
  const { B, H, Lq, Lk, d, Dv, m } = c;
  return {
    q: randn([B, H, Lq, d], c.seed, std).data,
    k: randn([B, H, Lk, d], c.seed + 1, std).data,
    v: randn([B, H, Lk, Dv], c.seed + 2).data,
    w: drawProjection({ features: m, dim: d, seed: c.seed + 3 }).data,
    ...(c.masked ? { mask: randomMask(B, Lk, c.seed + 4).data } : {}),
  };
}

function reference(map: FeatureMap | 'exact', c: Case, x: HostInputs): Float32Array {
  const out = new Float32Array(c.B * c.H * c.Lq * c.Dv);
  const shape = { B: c.B, H: c.H, Lq: c.Lq, Lk: c.Lk, d: c.d, Dv: c.Dv, causal: c.causal };
  if (map === 'exact') referenceBackend.exact({ ...shape, q: x.q, k: x.k, v: x.v, out, keyMask: x.mask });
  else referenceBackend.favor({ ...shape, q: x.q, k: x.k, v: x.v, out, keyMask: x.mask, projection: x.w, m: c.m, featureMap: map, chunk: 16 });
  return out;
}

/** Uploads, runs, reads back. Row lengths keep every row whole when `g` splits tensors. */
async function onGpu(g: WebGpuBackend, map: FeatureMap | 'exact', c: Case, x: HostInputs, kRow = c.d, vRow = c.Dv): Promise<Float32Array> {
  const t: GpuTensor[] = [];
  const up = (a: Float32Array, row: number) => { const u = g.upload(a, row); t.push(u); return u; };
  const q = up(x.q, c.d), k = up(x.k, kRow), v = up(x.v, vRow);
  const out = g.zeros(c.B * c.H * c.Lq * c.Dv, 'float32', c.Dv);
  t.push(out);
  const keyMask = x.mask ? up(x.mask, c.Lk) : undefined;
  const shape = { B: c.B, H: c.H, Lq: c.Lq, Lk: c.Lk, d: c.d, Dv: c.Dv, causal: c.causal };
  if (map === 'exact') g.exactForward({ ...shape, q, k, v, out, keyMask });
  else g.favorForward({ ...shape, q, k, v, out, keyMask, projection: up(x.w, c.d), m: c.m, featureMap: map, chunk: 16 });
  const values = await g.read(out);
  for (const u of t) g.free(u);
  return values;
}

const base: Case = { B: 2, H: 2, Lq: 40, Lk: 40, d: 16, Dv: 8, m: 80, causal: false, masked: false, seed: 11 };

for (const map of [...FEATURE_MAPS, 'exact'] as const) {
  for (const causal of [false, true]) {
    for (const masked of [false, true]) {
      test(`webgpu ${map} ${causal ? 'causal' : 'bidirectional'}${masked ? ', key mask' : ''} matches the reference backend`, { skip }, async () => {
        const c = { ...base, causal, masked, seed: 100 + FEATURE_MAPS.length * 4 };
        const x = inputs(c);
        const err = relErr(await onGpu(gpu!, map, c, x), reference(map, c, x));
        assert.ok(err < tol(map), `relative error ${err.toExponential(2)}`);
      });
    }
  }
  test(`webgpu ${map} cross attention (Lq ≠ Lk) matches the reference backend`, { skip }, async () => {
    const c = { ...base, Lq: 21, Lk: 45, masked: true, seed: 300 };
    const x = inputs(c);
    const err = relErr(await onGpu(gpu!, map, c, x), reference(map, c, x));
    assert.ok(err < tol(map), `relative error ${err.toExponential(2)}`);
  });
}

test('webgpu causal FAVOR+ carries its state over several chunks per group (L = 600), every map', { skip }, async () => {
  for (const map of FEATURE_MAPS) {
    const c: Case = { ...base, B: 1, H: 1, Lq: 600, Lk: 600, causal: true, masked: true, seed: 400 };
    const x = inputs(c);
    const err = relErr(await onGpu(gpu!, map, c, x), reference(map, c, x));
    assert.ok(err < tol(map), `${map}: relative error ${err.toExponential(2)}`);
  }
});

test('webgpu FAVOR+ at a model head size (d = Dv = 64, m = 128, softmax, causal)', { skip }, async () => {
  const c: Case = { B: 1, H: 2, Lq: 48, Lk: 48, d: 64, Dv: 64, m: 128, causal: true, masked: false, seed: 450 };
  const x = inputs(c, 0.5);
  const err = relErr(await onGpu(gpu!, 'softmax', c, x), reference('softmax', c, x));
  assert.ok(err < 1e-4, `relative error ${err.toExponential(2)}`);
});

test('webgpu causal outputs do not change when the future does', { skip }, async () => {
  const c: Case = { ...base, causal: true, masked: true, Lq: 72, Lk: 72, seed: 500 };
  const t = 37;
  for (const map of [...FEATURE_MAPS, 'exact'] as const) {
    const x = inputs(c);
    const y = inputs({ ...c, seed: 600 }); // other values everywhere; keep only their future
    const mix = (a: Float32Array, b: Float32Array, row: number, L: number) => a.map((v, i) => (Math.floor(i / row) % L >= t ? b[i]! : v));
    const z: HostInputs = { ...x, q: mix(x.q, y.q, c.d, c.Lq), k: mix(x.k, y.k, c.d, c.Lk), v: mix(x.v, y.v, c.Dv, c.Lk), mask: mix(x.mask!, y.mask!, 1, c.Lk) };
    const a = await onGpu(gpu!, map, c, x);
    const b = await onGpu(gpu!, map, c, z);
    let changedLater = false;
    for (let i = 0; i < a.length; i++) {
      const pos = Math.floor(i / c.Dv) % c.Lq;
      if (pos < t) assert.equal(b[i], a[i], `${map}: output at position ${pos} changed`);
      else if (b[i] !== a[i]) changedLater = true;
    }
    assert.ok(changedLater, `${map}: the future changed nothing at all`);
  }
});

test('webgpu kernels give the same results when tensors are split across storage bindings', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 8192 });
  const c: Case = { ...base, Lq: 80, Lk: 80, masked: true, seed: 700 };
  for (const causal of [false, true]) {
    for (const map of ['softmax', 'softmax-hyp', 'exact'] as const) {
      const cc = { ...c, causal };
      const x = inputs(cc);
      // Exact attention reads a whole head's keys per query tile: one head per row keeps them in one binding.
      const split = map === 'exact'
        ? await onGpu(small, map, cc, x, cc.Lk * cc.d, cc.Lk * cc.Dv)
        : await onGpu(small, map, cc, x);
      const err = relErr(split, reference(map, cc, x));
      assert.ok(err < tol(map), `${map} ${causal ? 'causal' : 'bidirectional'}: relative error ${err.toExponential(2)}`);
    }
  }
  const q = small.upload(data(2 * 2 * 80 * 16, 1), 16);
  assert.ok(q.parts.length > 1, 'the cap did not split q');
});

function matmulRef(a: Float32Array, b: Float32Array, o: { M: number; N: number; K: number; transA: boolean; transB: boolean; batch: number; strideA: number; strideB: number; strideC: number }, c0?: Float32Array): Float64Array {
  const c = c0 ? Float64Array.from(c0) : new Float64Array((o.batch - 1) * o.strideC + o.M * o.N);
  for (let t = 0; t < o.batch; t++) {
    for (let i = 0; i < o.M; i++) {
      for (let j = 0; j < o.N; j++) {
        let s = 0;
        for (let k = 0; k < o.K; k++) {
          const x = a[t * o.strideA + (o.transA ? k * o.M + i : i * o.K + k)]!;
          const y = b[t * o.strideB + (o.transB ? j * o.K + k : k * o.N + j)]!;
          s += x * y;
        }
        c[t * o.strideC + i * o.N + j] = c[t * o.strideC + i * o.N + j]! + s;
      }
    }
  }
  return c;
}

test('webgpu matmul: every transpose variant, batched, broadcast B, accumulate, split C', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 8192 });
  const M = 100, N = 9, K = 20, batch = 3;
  for (const g of [gpu!, small]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const accumulate of [false, true]) { // a run-time flag: the same pipeline
          const o = { M, N, K, transA, transB, batch, strideA: M * K, strideB: transB ? 0 : K * N, strideC: M * N };
          const ha = data(batch * M * K, 1), hb = data(batch * K * N, 2), hc = data(batch * M * N, 3);
          // A whole matrix per row when A is transposed (its rows are columns of the stored matrix).
          const a = g.upload(ha, transA ? M * K : K), b = g.upload(hb, K * N), c = g.upload(hc, N);
          g.matmul({ a, b, c, ...o, accumulate });
          const err = relErr(await g.read(c), matmulRef(ha, hb, o, accumulate ? hc : undefined));
          assert.ok(err < 1e-5, `transA ${transA} transB ${transB} accumulate ${accumulate} split ${g === small}: ${err.toExponential(2)}`);
          if (g === small) assert.ok(c.parts.length > 1);
          for (const t of [a, b, c]) g.free(t);
        }
      }
    }
  }
});

test('webgpu errors name what is wrong and the limit', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 256 });
  assert.throws(() => small.zeros(128, 'float32', 128), /row of 128 float32 values \(512 bytes\) exceeds the storage-binding limit of 256 bytes/);
  const c: Case = { ...base, B: 1, H: 1, Lq: 8, Lk: 8, d: 16, Dv: 8, m: 8, seed: 1 };
  const x = inputs(c);
  await assert.rejects(onGpu(small, 'softmax', { ...c, m: 8 }, x), /favor projection \(512 bytes\) must fit one storage binding of 256 bytes/);
  await assert.rejects(onGpu(small, 'exact', c, x), /exact k \(one head\).*storage-binding limit/);
  assert.throws(() => gpu!.upload(new Float64Array(4)), /webgpu: upload: float64 storage is not supported/);
  assert.throws(() => gpu!.zeros(4, 'float64'), /webgpu: zeros: float64 storage is not supported/);
  const q = gpu!.zeros(16);
  assert.throws(() => gpu!.readSync(q), /come back only asynchronously/);
  assert.throws(() => gpu!.favorForward({ q, k: q, v: q, out: q, projection: q, B: 1, H: 1, Lq: 2, Lk: 3, d: 8, Dv: 8, m: 2, featureMap: 'relu', causal: true, chunk: 4 }), /webgpu: favor: causal attention needs Lq = Lk, got Lq=2, Lk=3/);
  assert.throws(() => gpu!.exactForward({ q, k: q, v: q, out: q, B: 1, H: 1, Lq: 2, Lk: 2, d: 4, Dv: 4, causal: false }), /q \[B·H·Lq·d\] holds 16 values, expected 8/);
});

test('createWebGpuBackend without an adapter throws and says why', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { configurable: true, value: { gpu: { requestAdapter: async () => null } } });
  try {
    await assert.rejects(createWebGpuBackend(), /webgpu: no adapter: requestAdapter\(\) returned null/);
  } finally {
    if (had) Object.defineProperty(globalThis, 'navigator', had);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
});

// ---- row kernels: GELU and LayerNorm against the plain-TS kernels run in float64 ----

const f64 = (a: Float32Array) => Float64Array.from(a);

test('webgpu GELU forward and backward match the TS kernels (float64), also split across bindings', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 2048 });
  const n = 1500;
  const x = data(n, 5, 3), dy = data(n, 6), dx0 = data(n, 7);
  const y64 = new Float64Array(n), dx64 = f64(dx0);
  tsGeluForward({ x: f64(x), y: y64 });
  tsGeluBackward({ x: f64(x), dy: f64(dy), dx: dx64 });
  for (const g of [gpu!, small]) {
    const X = g.upload(x), Y = g.zeros(n), DY = g.upload(dy), DX = g.upload(dx0);
    g.geluForward({ x: X, y: Y });
    g.geluBackward({ x: X, dy: DY, dx: DX });
    assert.ok(relErr(await g.read(Y), y64) < 1e-6, 'forward');
    assert.ok(relErr(await g.read(DX), dx64) < 1e-6, 'backward adds dy·GELU′(x)');
    if (g === small) assert.ok(X.parts.length > 1);
  }
});

test('webgpu LayerNorm forward and backward match the TS kernels (float64): D < 256 and D > 256, every gradient optional, split rows', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 4096 });
  for (const [rows, D] of [[37, 48], [9, 300]] as const) {
    const x = data(rows * D, 10 + D, 2), gamma = data(D, 11), beta = data(D, 12), dy = data(rows * D, 13);
    const dx0 = data(rows * D, 14), dg0 = data(D, 15), db0 = data(D, 16);
    const ref = { y: new Float64Array(rows * D), mean: new Float64Array(rows), rstd: new Float64Array(rows), dx: f64(dx0), dGamma: f64(dg0), dBeta: f64(db0) };
    tsLayerNormForward({ x: f64(x), gamma: f64(gamma), beta: f64(beta), y: ref.y, mean: ref.mean, rstd: ref.rstd, rows, D, eps: 1e-5 });
    tsLayerNormBackward({ x: f64(x), gamma: f64(gamma), mean: ref.mean, rstd: ref.rstd, dy: f64(dy), dx: ref.dx, dGamma: ref.dGamma, dBeta: ref.dBeta, rows, D });
    for (const g of D < 256 ? [gpu!, small] : [gpu!]) {
      const X = g.upload(x, D), G = g.upload(gamma), Bt = g.upload(beta), Y = g.zeros(rows * D, 'float32', D);
      const mean = g.zeros(rows), rstd = g.zeros(rows), DY = g.upload(dy, D);
      g.layerNormForward({ x: X, gamma: G, beta: Bt, y: Y, mean, rstd, rows, D, eps: 1e-5 });
      assert.ok(relErr(await g.read(Y), ref.y) < 1e-5, `y, D = ${D}`);
      assert.ok(relErr(await g.read(rstd), ref.rstd) < 1e-5, `rstd, D = ${D}`);
      const DX = g.upload(dx0, D), DG = g.upload(dg0), DB = g.upload(db0);
      g.layerNormBackward({ x: X, gamma: G, mean, rstd, dy: DY, dx: DX, dGamma: DG, dBeta: DB, rows, D });
      assert.ok(relErr(await g.read(DX), ref.dx) < 1e-5, `dx, D = ${D}`);
      assert.ok(relErr(await g.read(DG), ref.dGamma) < 1e-5, `dGamma, D = ${D}`);
      assert.ok(relErr(await g.read(DB), ref.dBeta) < 1e-5, `dBeta, D = ${D}`);
      // Only dβ wanted: dx and dγ are left alone.
      const onlyBeta = g.upload(db0);
      g.layerNormBackward({ x: X, gamma: G, mean, rstd, dy: DY, dx: null, dGamma: null, dBeta: onlyBeta, rows, D });
      assert.ok(relErr(await g.read(onlyBeta), ref.dBeta) < 1e-5, `dBeta alone, D = ${D}`);
      if (g === small) assert.ok(X.parts.length > 1 && DX.parts.length > 1);
    }
  }
});

test('webgpu exact attention backward matches the TS kernel (float64): causal, masks, Lq ≠ Lk, gradients added', { skip }, async () => {
  for (const c of [
    { ...base, causal: false, masked: false, seed: 800 },
    { ...base, causal: true, masked: true, seed: 810 },
    { ...base, Lq: 21, Lk: 45, causal: false, masked: true, seed: 820 },
  ]) {
    const x = inputs(c);
    const { B, H, Lq, Lk, d, Dv, causal } = c;
    const out = reference('exact', c, x);
    const dOut = data(out.length, c.seed + 5), dq0 = data(x.q.length, c.seed + 6), dk0 = data(x.k.length, c.seed + 7), dv0 = data(x.v.length, c.seed + 8);
    const want = { dq: f64(dq0), dk: f64(dk0), dv: f64(dv0) };
    tsExactBackward({ B, H, Lq, Lk, d, Dv, causal, q: f64(x.q), k: f64(x.k), v: f64(x.v), out: f64(out), keyMask: x.mask && f64(x.mask), dOut: f64(dOut), ...want });
    const g = gpu!;
    const q = g.upload(x.q), k = g.upload(x.k), v = g.upload(x.v), o = g.upload(out), dO = g.upload(dOut);
    const dq = g.upload(dq0), dk = g.upload(dk0), dv = g.upload(dv0), keyMask = x.mask && g.upload(x.mask);
    g.exactBackward({ B, H, Lq, Lk, d, Dv, causal, q, k, v, out: o, keyMask, dOut: dO, dq, dk, dv });
    for (const [name, t] of [['dq', dq], ['dk', dk], ['dv', dv]] as const) {
      const err = relErr(await g.read(t), want[name]);
      assert.ok(err < 1e-5, `${name} causal=${causal} masked=${c.masked} Lq=${Lq} Lk=${Lk}: relative error ${err.toExponential(2)}`);
    }
  }
});

test('webgpu embedding forward and backward match the TS kernels; repeated ids add in token order', { skip }, async () => {
  const V = 11, D = 20, ids = Int32Array.from([3, 0, 3, 10, 7, 3, 1, 0]);
  const table = data(V * D, 30), dOut = data(ids.length * D, 31), dT0 = data(V * D, 32);
  const out64 = new Float64Array(ids.length * D), dT64 = f64(dT0);
  tsEmbeddingForward({ table: f64(table), ids, out: out64, D });
  tsEmbeddingBackward({ dOut: f64(dOut), ids, dTable: dT64, D });
  const g = gpu!;
  const T = g.upload(table), out = g.zeros(ids.length * D), dT = g.upload(dT0);
  g.embeddingForward({ table: T, ids, out, D });
  g.embeddingBackward({ dOut: g.upload(dOut), ids, dTable: dT, D });
  assert.deepEqual(await g.read(out), Float32Array.from(out64), 'forward is a copy');
  assert.ok(relErr(await g.read(dT), dT64) < 1e-6, 'backward');
  assert.throws(() => g.embeddingForward({ table: T, ids: Int32Array.from([11]), out: g.zeros(D), D }), /webgpu: embedding: id 11 at position 0 is outside the table's 11 rows/);
});

test('webgpu cross-entropy: loss, lse and gradient match the TS kernels; ignored rows count nowhere', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 2048 });
  const rows = 13, V = 70;
  const logits = data(rows * V, 40, 3), dL0 = data(rows * V, 41);
  const targets = Int32Array.from({ length: rows }, (_, r) => (r % 4 === 1 ? IGNORE_INDEX : (r * 17) % V));
  const lse64 = new Float64Array(rows), dL64 = f64(dL0);
  const loss64 = tsCrossEntropyForward({ logits: f64(logits), targets, lse: lse64, rows, V, ignoreIndex: IGNORE_INDEX });
  tsCrossEntropyBackward({ logits: f64(logits), targets, lse: lse64, dLoss: 0.7, dLogits: dL64, rows, V, ignoreIndex: IGNORE_INDEX });
  for (const g of [gpu!, small]) {
    const z = g.upload(logits, V), lse = g.zeros(rows), loss = g.zeros(1), dLogits = g.upload(dL0, V);
    g.crossEntropyForward({ logits: z, targets, lse, loss, rows, V, ignoreIndex: IGNORE_INDEX });
    g.crossEntropyBackward({ logits: z, targets, lse, dLoss: g.upload(Float32Array.of(0.7)), dLogits, rows, V, ignoreIndex: IGNORE_INDEX });
    assert.ok(Math.abs((await g.read(loss))[0]! - loss64) < 1e-5 * loss64, 'loss');
    const gotLse = await g.read(lse);
    targets.forEach((t, r) => { if (t !== IGNORE_INDEX) assert.ok(Math.abs(gotLse[r]! - lse64[r]!) < 1e-5 * Math.abs(lse64[r]!) + 1e-6, `lse row ${r}`); });
    assert.ok(relErr(await g.read(dLogits), dL64) < 1e-5, 'dLogits');
    if (g === small) assert.ok(z.parts.length > 1);
  }
  const none = gpu!.zeros(1);
  gpu!.crossEntropyForward({ logits: gpu!.upload(logits), targets: new Int32Array(rows).fill(IGNORE_INDEX), lse: gpu!.zeros(rows), loss: none, rows, V, ignoreIndex: IGNORE_INDEX });
  assert.equal((await gpu!.read(none))[0], 0, 'no counted row: loss 0');
});

test('webgpu AdamW update matches the float64 formula over several steps, split across bindings', { skip }, async () => {
  const small = await createWebGpuBackend({ device: gpu!.device, maxBindingBytes: 1024 });
  const n = 700, p0 = data(n, 50), lr = 3e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, decay = lr * 0.01;
  const grads = [data(n, 51), data(n, 52), data(n, 53)];
  const p64 = f64(p0), m64 = new Float64Array(n), v64 = new Float64Array(n);
  grads.forEach((g, s) => {
    const c1 = 1 - beta1 ** (s + 1), c2 = 1 - beta2 ** (s + 1);
    for (let i = 0; i < n; i++) {
      m64[i] = beta1 * m64[i]! + (1 - beta1) * g[i]!;
      v64[i] = beta2 * v64[i]! + (1 - beta2) * g[i]! ** 2;
      p64[i] = p64[i]! - lr * (m64[i]! / c1 / (Math.sqrt(v64[i]! / c2) + eps)) - decay * p64[i]!;
    }
  });
  for (const g of [gpu!, small]) {
    const p = g.upload(p0), m = g.zeros(n), v = g.zeros(n);
    grads.forEach((gr, s) => g.adamw({ p, dp: g.upload(gr), m, v, n, lr, beta1, beta2, eps, c1: 1 - beta1 ** (s + 1), c2: 1 - beta2 ** (s + 1), decay }));
    assert.ok(relErr(await g.read(p), p64) < 1e-6, 'p');
    assert.ok(relErr(await g.read(v), v64) < 1e-5, 'v');
    if (g === small) assert.ok(p.parts.length > 1);
  }
});
