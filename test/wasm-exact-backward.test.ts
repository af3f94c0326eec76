// The wasm exact-attention backward agrees with the plain-TS one (tsExactBackward) run in float64:
// bidirectional and causal, key masks with fully masked rows, Lq ≠ Lk, Dv ≠ d, sizes that are not
// multiples of the kernel's blocks; 1 and 3 threads and the plain-SIMD build; gradients are added.
// And an exact-attention PerformerLM step gives the same gradients with the wasm grad kernels.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmBackend, type WasmBackend } from '../src/kernels/wasm/index.js';
import { tsExactBackward, tsExactForward } from '../src/kernels/reference/grad/exact.js';
import type { ExactBwdArgs } from '../src/kernels/engine.js';
import { wasmEngineOf } from '../src/kernels/wasm/engine.js';
import { installEngine } from '../src/kernels/registry.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import { defaultDevice, setDefaultDevice } from '../src/tensor/storage.js';
import { backward, clearTape } from '../src/autograd/index.js';
import { PerformerLM } from '../src/nn/index.js';
import { randn } from './helpers/data.js';

const one = await createWasmBackend({ threads: 1 });
const three = await createWasmBackend({ threads: 3 });
const plain = await createWasmBackend({ threads: 2, simd: 'plain' });
after(() => { one.dispose(); three.dispose(); plain.dispose(); });


type MaskKind = 'some' | 'row' | 'prefix';
interface Case { B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; causal: boolean; mask?: MaskKind }

interface Prepared {
  f32: ExactBwdArgs & { q: Float32Array; k: Float32Array; v: Float32Array; out: Float32Array; dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array; keyMask?: Float32Array | undefined };
  /** The float64 reference gradients (starting from the same non-zero dq, dk, dv). */
  want: { dq: Float64Array; dk: Float64Array; dv: Float64Array };
}

function prepare(c: Case, seed: number): Prepared {
  const { B, H, Lq, Lk, d, Dv } = c;
  // Scores of a few units: softmax rows that are neither uniform nor one-hot.
  const q = randn(B * H * Lq * d, seed + 1, 2), k = randn(B * H * Lk * d, seed + 2, 2), v = randn(B * H * Lk * Dv, seed + 3);
  let keyMask: Float32Array | undefined;
  if (c.mask) {
    keyMask = new Float32Array(B * Lk).fill(1);
    for (let j = 0; j < B * Lk; j++) if (j % 5 === 2) keyMask[j] = 0;
    if (c.mask === 'row') keyMask.fill(0, 0, Lk); // batch row 0: every key masked
    if (c.mask === 'prefix') keyMask.fill(0, Lk, Lk + Math.min(Lk, 9)); // batch row 1: the first 9 keys masked
  }
  const f64 = (a: Float32Array): Float64Array => Float64Array.from(a);
  const dOut = randn(B * H * Lq * Dv, seed + 5);
  const dq = randn(B * H * Lq * d, seed + 6), dk = randn(B * H * Lk * d, seed + 7), dv = randn(B * H * Lk * Dv, seed + 8);
  const dims = { B, H, Lq, Lk, d, Dv, causal: c.causal };
  const out64 = new Float64Array(B * H * Lq * Dv);
  const ref = { ...dims, q: f64(q), k: f64(k), v: f64(v), out: out64, keyMask: keyMask && f64(keyMask), dOut: f64(dOut), dq: f64(dq), dk: f64(dk), dv: f64(dv) };
  tsExactForward(ref);
  tsExactBackward(ref);
  return {
    f32: { ...dims, q, k, v, out: Float32Array.from(out64), keyMask, dOut, dq, dk, dv },
    want: { dq: ref.dq, dk: ref.dk, dv: ref.dv },
  };
}

/** Max error relative to the largest gradient actually added (the arrays start non-zero). */
function relErr(want: Float64Array, got: Float32Array, base: Float32Array): number {
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]!), `non-finite at ${i}`);
    maxErr = Math.max(maxErr, Math.abs(want[i]! - got[i]!));
    maxRef = Math.max(maxRef, Math.abs(want[i]! - base[i]!));
  }
  return maxRef === 0 ? maxErr : maxErr / maxRef;
}

function run(backend: WasmBackend, p: Prepared): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  const got = { ...p.f32, dq: Float32Array.from(p.f32.dq), dk: Float32Array.from(p.f32.dk), dv: Float32Array.from(p.f32.dv) };
  backend.exactBackward(got);
  return got;
}

function check(c: Case, seed: number): void {
  const p = prepare(c, seed);
  const results = [one, three, plain].map((b) => ({ name: `${b.name} x${b.threads}`, got: run(b, p) }));
  for (const { name, got } of results) {
    for (const g of ['dq', 'dk', 'dv'] as const) {
      const e = relErr(p.want[g], got[g], p.f32[g]);
      assert.ok(e <= 1e-4, `${name} ${JSON.stringify(c)}: ${g} relative error ${e.toExponential(2)}`);
    }
  }
  // Each (batch, head) is one item whatever the thread count: the same build gives the same bits.
  if (one.variant === three.variant) {
    for (const g of ['dq', 'dk', 'dv'] as const) assert.deepEqual(results[1]!.got[g], results[0]!.got[g], `${g}: 3 threads ≠ 1 thread`);
  }
}

const CASES: Case[] = [
  { B: 1, H: 1, Lq: 1, Lk: 1, d: 4, Dv: 4, causal: false },
  { B: 2, H: 3, Lq: 5, Lk: 5, d: 8, Dv: 3, causal: false },
  { B: 2, H: 3, Lq: 67, Lk: 130, d: 16, Dv: 12, causal: false },
  { B: 2, H: 3, Lq: 130, Lk: 67, d: 7, Dv: 9, causal: false, mask: 'some' },
  { B: 2, H: 3, Lq: 67, Lk: 41, d: 16, Dv: 16, causal: false, mask: 'row' },
  { B: 2, H: 3, Lq: 130, Lk: 200, d: 32, Dv: 24, causal: false, mask: 'prefix' },
];
const CAUSAL: Case[] = [
  { B: 1, H: 1, Lq: 1, Lk: 1, d: 4, Dv: 4, causal: true },
  { B: 2, H: 3, Lq: 5, Lk: 5, d: 8, Dv: 3, causal: true },
  { B: 2, H: 3, Lq: 67, Lk: 67, d: 16, Dv: 12, causal: true, mask: 'some' },
  { B: 2, H: 3, Lq: 130, Lk: 130, d: 7, Dv: 9, causal: true, mask: 'row' },
  // Rows 0–8 of batch row 1 see only masked keys: output 0 and no gradient.
  { B: 2, H: 3, Lq: 130, Lk: 130, d: 32, Dv: 24, causal: true, mask: 'prefix' },
  { B: 1, H: 2, Lq: 200, Lk: 200, d: 16, Dv: 8, causal: true },
];

test('wasm exact backward, bidirectional (Lq ≠ Lk, Dv ≠ d, masks, fully masked rows)', () => {
  CASES.forEach((c, i) => check(c, 100 * i + 11));
});

test('wasm exact backward, causal (masks, rows whose only keys are masked)', () => {
  CAUSAL.forEach((c, i) => check(c, 100 * i + 17));
});

test('wasm exact backward adds to the gradients (zero dOut leaves them unchanged) and checks sizes', () => {
  const p = prepare({ B: 2, H: 3, Lq: 67, Lk: 67, d: 8, Dv: 8, causal: true }, 5);
  const got = run(three, { ...p, f32: { ...p.f32, dOut: new Float32Array(p.f32.dOut.length) } });
  assert.deepEqual(got.dq, p.f32.dq);
  assert.deepEqual(got.dk, p.f32.dk);
  assert.deepEqual(got.dv, p.f32.dv);
  assert.throws(() => three.exactBackward({ ...p.f32, dk: new Float32Array(3) }), /dk has 3 elements/);
});

test('exact-attention PerformerLM: a training step has the same gradients with the wasm grad kernels as with the TS ones', () => {
  const cfg = { vocabSize: 50, dim: 32, layers: 2, heads: 4, maxLen: 67, attention: 'exact' as const, seed: 3 };
  const B = 2, L = 67;
  const x = Int32Array.from({ length: B * L }, (_, i) => (i * 7 + 3) % 50), y = Int32Array.from({ length: B * L }, (_, i) => (i * 11 + 1) % 50);
  const grads = (): Map<string, Float32Array> => {
    const lm = new PerformerLM(cfg);
    backward(lm.loss(x, y, B, L));
    clearTape();
    return new Map(lm.namedParameters().map(([n, p]) => [n, Float32Array.from(p.grad!)]));
  };
  const before = defaultDevice();
  try {
    installEngine(referenceEngine);
    const want = grads();
    const wasm = wasmEngineOf(three);
    let calls = 0;
    installEngine({ ...wasm, exactBackward: (a) => { calls++; wasm.exactBackward(a as ExactBwdArgs); } });
    const got = grads();
    assert.equal(calls, cfg.layers);
    const maxAbs = (a: Float32Array): number => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    // The key bias's gradient is 0 in exact arithmetic (softmax ignores a per-row shift of the
    // scores), so it is rounding noise either way: measure it against the model's largest gradient.
    const floor = 1e-6 * Math.max(...[...want.values()].map(maxAbs));
    for (const [name, w] of want) {
      const g = got.get(name)!;
      let maxErr = 0;
      for (let i = 0; i < w.length; i++) maxErr = Math.max(maxErr, Math.abs(w[i]! - g[i]!));
      const ref = Math.max(maxAbs(w), floor);
      assert.ok(maxErr <= 1e-4 * ref, `${name}: max error ${maxErr} vs max |grad| ${ref}`);
    }
  } finally {
    setDefaultDevice(before);
  }
});
