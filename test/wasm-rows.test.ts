// The wasm row and elementwise kernels (GELU, dropout, LayerNorm, embedding, cross-entropy) agree
// with the plain-TS kernels run in float64 on the same inputs, at odd sizes (rows of 1, 3, 67, 130
// columns, one row and many, several task items), add into their gradients, and give the same
// result on 1 and 3 threads (bit-identical) and in the plain-SIMD build (within rounding).
import { test, after } from 'node:test';
import { IGNORE_INDEX } from '../src/data/ignore-index.js';
import assert from 'node:assert/strict';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { tsDropoutBackward, tsDropoutForward, tsGeluBackward, tsGeluForward } from '../src/kernels/reference/grad/pointwise.js';
import { tsLayerNormBackward, tsLayerNormForward } from '../src/kernels/reference/grad/layernorm.js';
import { tsEmbeddingBackward, tsEmbeddingForward } from '../src/kernels/reference/grad/embedding.js';
import { tsCrossEntropyBackward, tsCrossEntropyForward } from '../src/kernels/reference/grad/cross-entropy.js';
import { installEngine } from '../src/kernels/registry.js';
import { wasmEngineOf } from '../src/kernels/wasm/engine.js';
import { defaultDevice, setDefaultDevice } from '../src/tensor/storage.js';
import { crossEntropy, dropout, embedding, gelu, layerNorm } from '../src/autograd/ops.js';
import { Rng } from '../src/tensor/rng.js';
import { backward } from '../src/autograd/tape.js';
import { Var } from '../src/autograd/var.js';
import { randn, TestRandom } from './helpers/data.js';

const one = await createWasmBackend({ threads: 1 });
const three = await createWasmBackend({ threads: 3 });
const plain = await createWasmBackend({ threads: 2, simd: 'plain' });
after(() => { one.dispose(); three.dispose(); plain.dispose(); });

const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);

/** Largest |got − want| relative to the largest |want − base| (what the call wrote or added). */
function relErr(got: Float32Array, want: Float64Array, base?: Float32Array): number {
  let err = 0, ref = 0;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]!), `non-finite at ${i}`);
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    ref = Math.max(ref, Math.abs(want[i]! - (base ? base[i]! : 0)));
  }
  return err / Math.max(ref, 1e-30);
}

/** Runs `fn` on each backend with fresh copies of `init`; asserts 1 and 3 threads bit-identical and
 *  the plain build within `tol` (relative to the largest change), and returns the 1-thread result. */
function onBackends(init: Float32Array[], fn: (b: WasmBackend, arrays: Float32Array[]) => void, tol = 1e-6): Float32Array[] {
  const run = (b: WasmBackend): Float32Array[] => {
    const arrays = init.map((a) => Float32Array.from(a));
    fn(b, arrays);
    return arrays;
  };
  const r1 = run(one), r3 = run(three), rp = run(plain);
  r1.forEach((a, i) => {
    assert.deepEqual(r3[i], a, `array ${i}: 3 threads differ from 1`);
    assert.ok(relErr(rp[i]!, f64(a), init[i]) <= tol, `array ${i}: plain SIMD build differs from relaxed`);
  });
  return r1;
}

// The last two are several task items; GELU runs the last on all threads, dropout only DROPOUT_BIG.
const SIZES = [1, 3, 67, 130, 2 * 8192 + 5, (1 << 18) + 5];
const DROPOUT_BIG = (1 << 21) + 5;

test('GELU forward: |y − y_ref| ≤ 1e-6·|y| + 1e-8 against the float64 tanh formula, x in [−20, 20]', () => {
  for (const n of SIZES) {
    const x = randn(n, n, 4);
    if (n > 1000) for (let i = 0; i < 4001; i++) x[i] = -20 + i / 100; // a grid through both tails
    const want = new Float64Array(n);
    tsGeluForward({ x: f64(x), y: want });
    const [y] = onBackends([new Float32Array(n)], (b, [y]) => b.geluForward({ x, y: y! }));
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(y![i]! - want[i]!) <= 1e-6 * Math.abs(want[i]!) + 1e-8, `n=${n} x=${x[i]}: ${y![i]} vs ${want[i]}`);
    }
  }
});

test('GELU backward adds dy·GELU′(x): |Δ| ≤ 3e-7·|dy| (GELU′ lies in [−0.17, 1.13])', () => {
  for (const n of SIZES) {
    const x = randn(n, n + 1, 4), dy = randn(n, n + 2), gx0 = randn(n, n + 3);
    if (n > 1000) for (let i = 0; i < 4001; i++) x[i] = -20 + i / 100;
    const want = f64(gx0);
    tsGeluBackward({ x: f64(x), dy: f64(dy), dx: want });
    const [dx] = onBackends([gx0], (b, [dx]) => b.geluBackward({ x, dy, dx: dx! }));
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(dx![i]! - want[i]!) <= 3e-7 * Math.abs(dy[i]!) + 1e-6 * Math.abs(gx0[i]!), `n=${n} x=${x[i]}`);
    }
  }
});

test('GELU stays finite at the float32 extremes: y = x for huge x, 0 for hugely negative x', () => {
  const x = Float32Array.from([3e38, -3e38, 1e20, -1e20, 0, -0]);
  const y = new Float32Array(6), dx = new Float32Array(6);
  one.geluForward({ x, y });
  one.geluBackward({ x, dy: new Float32Array(6).fill(1), dx });
  assert.deepEqual([...y].map((v) => v + 0), [3e38, 0, 1e20, 0, 0, 0].map(Math.fround));
  assert.deepEqual([...dx], [1, 0, 1, 0, 0.5, 0.5]);
});

test('dropout forward and backward: kept entries scaled by 1/(1 − p), dropped ones 0; backward adds', () => {
  for (const n of [...SIZES, DROPOUT_BIG]) {
    const r = new TestRandom(n);
    const mask = Uint8Array.from({ length: n }, () => (r.uniform() < 0.3 ? 0 : 1));
    const x = randn(n, n + 1), dy = randn(n, n + 2), gx0 = randn(n, n + 3), scale = 1 / 0.7;
    const wantY = new Float64Array(n), wantG = f64(gx0);
    tsDropoutForward({ x: f64(x), mask, scale, y: wantY });
    tsDropoutBackward({ dy: f64(dy), mask, scale, dx: wantG });
    const [y, dx] = onBackends([randn(n, 9), gx0], (b, [y, dx]) => {
      b.dropoutForward({ x, mask, scale, y: y! });
      b.dropoutBackward({ dy, mask, scale, dx: dx! });
    });
    assert.ok(relErr(y!, wantY) <= 1e-7, `n=${n} forward`);
    for (let i = 0; i < n; i++) if (!mask[i]) assert.ok(Object.is(y![i], 0), 'dropped entries are +0');
    assert.ok(relErr(dx!, wantG, gx0) <= 1e-6, `n=${n} backward`);
  }
});

// From [300, 128] on, several row items per call; [128, 4096] runs on all threads, its dγ/dβ
// reduction too.
const LN_SHAPES: Array<[number, number]> = [[1, 1], [1, 3], [7, 67], [33, 130], [1, 130], [300, 128], [2000, 67], [128, 4096]];

test('LayerNorm forward (y, μ, 1/σ per row) against float64', () => {
  for (const [rows, D] of LN_SHAPES) {
    const x = randn(rows * D, rows + D, 3), gamma = randn(D, D + 1), beta = randn(D, D + 2);
    for (let i = 0; i < x.length; i++) x[i] = x[i]! + 5; // a mean far from 0
    const want = { y: new Float64Array(rows * D), mean: new Float64Array(rows), rstd: new Float64Array(rows) };
    tsLayerNormForward({ x: f64(x), gamma: f64(gamma), beta: f64(beta), ...want, rows, D, eps: 1e-5 });
    const [y, mean, rstd] = onBackends([new Float32Array(rows * D), new Float32Array(rows), new Float32Array(rows)],
      (b, [y, mean, rstd]) => b.layerNormForward({ x, gamma, beta, y: y!, mean: mean!, rstd: rstd!, rows, D, eps: 1e-5 }));
    const where = `rows=${rows} D=${D}`;
    assert.ok(relErr(y!, want.y) <= 1e-5, `${where}: y`);
    assert.ok(relErr(mean!, want.mean) <= 1e-6, `${where}: mean`);
    assert.ok(relErr(rstd!, want.rstd) <= 1e-5, `${where}: rstd`);
  }
});

test('LayerNorm backward adds dx, dγ, dβ (any subset wanted) against float64', () => {
  for (const [rows, D] of LN_SHAPES) {
    const x = randn(rows * D, rows + D, 2), gamma = randn(D, D + 1), dy = randn(rows * D, D + 3);
    const mean = new Float32Array(rows), rstd = new Float32Array(rows);
    tsLayerNormForward({ x, gamma, beta: new Float32Array(D), y: new Float32Array(rows * D), mean, rstd, rows, D, eps: 1e-5 });
    const init = [randn(rows * D, 5), randn(D, 6), randn(D, 7)];
    for (const wanted of [[true, true, true], [true, false, false], [false, true, true]]) {
      const want = init.map((a, i) => (wanted[i] ? f64(a) : null));
      tsLayerNormBackward({ x: f64(x), gamma: f64(gamma), mean: f64(mean), rstd: f64(rstd), dy: f64(dy), dx: want[0]!, dGamma: want[1]!, dBeta: want[2]!, rows, D });
      const got = onBackends(init, (b, [dx, gg, gb]) => b.layerNormBackward({
        x, gamma, mean, rstd, dy, dx: wanted[0] ? dx! : null, dGamma: wanted[1] ? gg! : null, dBeta: wanted[2] ? gb! : null, rows, D,
      }), 1e-5);
      got.forEach((g, i) => {
        const where = `rows=${rows} D=${D} ${['dx', 'dγ', 'dβ'][i]}${wanted[i] ? '' : ' (not wanted)'}`;
        if (wanted[i]) assert.ok(relErr(g, want[i]!, init[i]) <= 1e-5, where);
        else assert.deepEqual(g, init[i], where);
      });
    }
  }
});

test('embedding: gather, and scatter-add with repeated ids, identical to the serial loop on any thread count', () => {
  for (const D of [1, 3, 67, 130]) {
    for (const n of [1, 50, 17000]) { // 17000·130: on all threads
      const V = 7;
      const r = new TestRandom(n + D);
      const ids = Int32Array.from({ length: n }, () => r.uint32() % V);
      ids[0] = 3; if (n > 1) ids[n - 1] = 3; // a repeated id for sure
      const table = randn(V * D, D), dOut = randn(n * D, n), gTable0 = randn(V * D, 11);
      const wantOut = new Float32Array(n * D), wantG = Float32Array.from(gTable0);
      tsEmbeddingForward({ table, ids, out: wantOut, D });
      tsEmbeddingBackward({ dOut, ids, dTable: wantG, D }); // float32, additions in token order
      const [out, dTable] = onBackends([new Float32Array(n * D), gTable0], (b, [out, gt]) => {
        b.embeddingForward({ table, ids, out: out!, D });
        b.embeddingBackward({ dOut, ids, dTable: gt!, D });
      }, 0);
      assert.deepEqual(out, wantOut, `D=${D} n=${n}: gather`);
      assert.deepEqual(dTable, wantG, `D=${D} n=${n}: scatter-add`);
    }
  }
});

test('cross-entropy forward and backward against float64: ignored rows, large logits, V of 1 to 256', () => {
  for (const V of [1, 3, 67, 130, 256]) {
    for (const rows of [1, 37, 400]) {
      const logits = randn(rows * V, rows + V, 4);
      if (rows > 1) for (let c = 0; c < V; c++) logits[c] = logits[c]! + 60; // row 0 far from 0
      const r = new TestRandom(rows * V);
      const targets = Int32Array.from({ length: rows }, (_, i) => (i % 5 === 3 ? IGNORE_INDEX : r.uint32() % V));
      const dLoss = 0.75; // f = dLoss/n per row is ~1e-3: the gradients start at that scale too
      const wantLse = new Float64Array(rows), wantG = f64(randn(rows * V, 3, 1e-3));
      const args = { targets, rows, V, ignoreIndex: IGNORE_INDEX };
      const wantLoss = tsCrossEntropyForward({ ...args, logits: f64(logits), lse: wantLse });
      tsCrossEntropyBackward({ ...args, logits: f64(logits), lse: wantLse, dLoss, dLogits: wantG });
      const losses: number[] = [];
      const [lse, g] = onBackends([new Float32Array(rows), randn(rows * V, 3, 1e-3)], (b, [lse, g]) => {
        losses.push(b.crossEntropyForward({ ...args, logits, lse: lse! }));
        b.crossEntropyBackward({ ...args, logits, lse: lse!, dLoss, dLogits: g! });
      }, 1e-5);
      const where = `V=${V} rows=${rows}`;
      assert.equal(losses[1], losses[0], `${where}: the loss on 3 threads`);
      for (const l of losses) assert.ok(Math.abs(l - wantLoss) <= 1e-6 * Math.abs(wantLoss) + 1e-7, `${where}: loss ${l} vs ${wantLoss}`);
      for (let i = 0; i < rows; i++) if (targets[i] !== IGNORE_INDEX) assert.ok(Math.abs(lse![i]! - wantLse[i]!) <= 1e-6 * (Math.abs(wantLse[i]!) + 1), `${where}: lse`);
      // V = 1: softmax − onehot is exactly 0; what is left is the rounding of g + f − f, f ≤ 0.75.
      if (V === 1) g!.forEach((v, i) => assert.ok(Math.abs(v - wantG[i]!) <= 1e-7, `${where}: dLogits`));
      else assert.ok(relErr(g!, wantG, randn(rows * V, 3, 1e-3)) <= 1e-5, `${where}: dLogits`);
    }
  }
});

test('cross-entropy with every target ignored: loss 0, no gradient added', () => {
  const logits = randn(5 * 9, 1), targets = new Int32Array(5).fill(-1), g0 = randn(5 * 9, 2);
  const g = Float32Array.from(g0);
  const args = { logits, targets, lse: new Float32Array(5), rows: 5, V: 9, ignoreIndex: -1 };
  assert.equal(three.crossEntropyForward(args), 0);
  three.crossEntropyBackward({ ...args, dLoss: 1, dLogits: g });
  assert.deepEqual(g, g0);
});

test('out-of-range ids and targets throw instead of touching other memory', () => {
  const table = new Float32Array(4 * 2);
  assert.throws(() => one.embeddingForward({ table, ids: Int32Array.from([0, 4]), out: new Float32Array(4), D: 2 }), /id 4 at 1 is out of range \[0, 4\)/);
  assert.throws(() => one.embeddingBackward({ dOut: new Float32Array(2), ids: Int32Array.from([-1]), dTable: table, D: 2 }), /out of range/);
  assert.throws(() => one.crossEntropyForward({ logits: new Float32Array(6), targets: Int32Array.from([1, 3]), lse: new Float32Array(2), rows: 2, V: 3, ignoreIndex: IGNORE_INDEX }), /target 3 at row 1/);
});

test('with the wasm engine installed, the float32 ops (on wasm at these sizes, except the gather) match float64', () => {
  const [n, V, D] = [300, 50, 96];
  const table = randn(V * D, 1), gamma = randn(D, 2), beta = randn(D, 3);
  const ids = Int32Array.from({ length: n }, (_, i) => (i * 7) % V), targets = Int32Array.from({ length: n }, (_, i) => (i * 13) % D);
  targets[5] = IGNORE_INDEX;
  const run = (f64Data: boolean): { loss: number; grads: Float64Array[] } => {
    const params = [Var.from([V, D], table, { f64: f64Data, requiresGrad: true }), Var.from([D], gamma, { f64: f64Data, requiresGrad: true }),
      Var.from([D], beta, { f64: f64Data, requiresGrad: true })];
    const h = dropout(gelu(layerNorm(embedding(params[0]!, ids, [n]), params[1]!, params[2]!)), 0.2, new Rng(7));
    const loss = crossEntropy(h, targets); // the D features double as logits
    backward(loss);
    return { loss: loss.item(), grads: params.map((p) => Float64Array.from(p.grad!)) };
  };
  const want = run(true);
  const before = defaultDevice();
  installEngine(wasmEngineOf(three));
  try {
    const got = run(false);
    assert.ok(Math.abs(got.loss - want.loss) <= 1e-6 * want.loss, `loss ${got.loss} vs ${want.loss}`);
    got.grads.forEach((g, i) => assert.ok(relErr(Float32Array.from(g), want.grads[i]!) <= 1e-5, `gradient ${i}`));
  } finally {
    setDefaultDevice(before);
  }
});
