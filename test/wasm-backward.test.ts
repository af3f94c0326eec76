// The wasm FAVOR+ backward agrees with the plain-TS one (tsFavorBackward), float32, every feature map,
// bidirectional and causal, with masks, fully masked rows, Lq ≠ Lk, Dv ≠ d, chunks not dividing L.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmBackend } from '../src/kernels/wasm/index.js';
import { tsFavorBackward, tsFavorForward } from '../src/kernels/reference/grad/favor.js';
import type { FavorBwdArgs } from '../src/kernels/engine.js';
import { wasmEngineOf } from '../src/kernels/wasm/engine.js';
import type { FeatureMap } from '../src/kernels/backend.js';
import { randn } from './helpers/data.js';

const backend = await createWasmBackend({ threads: 2 });
after(() => backend.dispose());
const kernels = wasmEngineOf(backend);


interface Case { B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; m: number; chunk: number; causal: boolean; mask?: 'some' | 'row' | 'prefix' }

function makeArgs(featureMap: FeatureMap, c: Case, seed: number): FavorBwdArgs {
  const { B, H, Lq, Lk, d, Dv, m } = c;
  // q, k ~ N(0, 0.75²): trig's normaliser ρ·z loses digits as ‖x̂‖ grows, and this test compares two
  // float32 implementations, not their conditioning (q, k were uniform in [−1.5, 1.5), W in [−1.7, 1.7))
  const q = randn(B * H * Lq * d, seed + 1, 0.75), k = randn(B * H * Lk * d, seed + 2, 0.75);
  const v = randn(B * H * Lk * Dv, seed + 3), projection = randn(m * d, seed + 4, 0.98);
  let keyMask: Float32Array | undefined;
  if (c.mask) {
    keyMask = new Float32Array(B * Lk).fill(1);
    for (let j = 0; j < B * Lk; j++) if (j % 5 === 2) keyMask[j] = 0;
    if (c.mask === 'row') keyMask.fill(0, 0, Lk); // batch row 0: every key masked
    if (c.mask === 'prefix') keyMask.fill(0, Lk, Lk + 9); // batch row 1: the first 9 keys masked
  }
  const out = new Float32Array(B * H * Lq * Dv);
  const a: FavorBwdArgs = {
    q, k, v, out, projection, keyMask, B, H, Lq, Lk, d, Dv, m, featureMap, causal: c.causal, chunk: c.chunk,
    dOut: randn(B * H * Lq * Dv, seed + 5), dq: randn(B * H * Lq * d, seed + 6), dk: randn(B * H * Lk * d, seed + 7),
    dv: randn(B * H * Lk * Dv, seed + 8),
  };
  tsFavorForward(a);
  return a;
}

function relErr(want: Float32Array, got: Float32Array, base: Float32Array): number {
  // Relative to the largest gradient actually added (the arrays start non-zero: backward adds).
  let maxErr = 0, maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    assert.ok(Number.isFinite(got[i]!), `non-finite at ${i}`);
    maxErr = Math.max(maxErr, Math.abs(want[i]! - got[i]!));
    maxRef = Math.max(maxRef, Math.abs(want[i]! - base[i]!));
  }
  return maxErr / Math.max(maxRef, 1e-30);
}

function check(featureMap: FeatureMap, c: Case, seed: number): void {
  const a = makeArgs(featureMap, c, seed);
  const want = { ...a, dq: Float32Array.from(a.dq as Float32Array), dk: Float32Array.from(a.dk as Float32Array), dv: Float32Array.from(a.dv as Float32Array) };
  const got = { ...a, dq: Float32Array.from(a.dq as Float32Array), dk: Float32Array.from(a.dk as Float32Array), dv: Float32Array.from(a.dv as Float32Array) };
  tsFavorBackward(want);
  kernels.favorBackward!(got);
  for (const name of ['dq', 'dk', 'dv'] as const) {
    const e = relErr(want[name], got[name], a[name] as Float32Array);
    assert.ok(e <= 1e-4, `${featureMap} ${JSON.stringify(c)}: ${name} relative error ${e.toExponential(2)}`);
  }
}

const FEATURE_MAPS: FeatureMap[] = ['softmax', 'softmax-hyp', 'trig', 'relu'];
const BIDI: Case[] = [
  { B: 2, H: 2, Lq: 37, Lk: 29, d: 16, Dv: 12, m: 20, chunk: 7, causal: false },
  { B: 2, H: 3, Lq: 19, Lk: 41, d: 8, Dv: 5, m: 13, chunk: 1000, causal: false, mask: 'some' },
  { B: 2, H: 2, Lq: 23, Lk: 31, d: 16, Dv: 16, m: 24, chunk: 6, causal: false, mask: 'row' },
  { B: 1, H: 1, Lq: 300, Lk: 260, d: 32, Dv: 24, m: 64, chunk: 1000, causal: false, mask: 'prefix' },
];
const CAUSAL: Case[] = [
  { B: 2, H: 2, Lq: 45, Lk: 45, d: 16, Dv: 12, m: 20, chunk: 7, causal: true },
  { B: 2, H: 3, Lq: 33, Lk: 33, d: 8, Dv: 5, m: 13, chunk: 1000, causal: true, mask: 'some' },
  { B: 2, H: 2, Lq: 29, Lk: 29, d: 16, Dv: 16, m: 24, chunk: 5, causal: true, mask: 'row' },
  { B: 2, H: 1, Lq: 150, Lk: 150, d: 32, Dv: 24, m: 64, chunk: 1000, causal: true, mask: 'prefix' },
  { B: 1, H: 2, Lq: 61, Lk: 61, d: 16, Dv: 8, m: 16, chunk: 13, causal: true, mask: 'prefix' },
];

for (const featureMap of FEATURE_MAPS) {
  test(`wasm favor backward, bidirectional, ${featureMap}`, () => {
    BIDI.forEach((c, i) => check(featureMap, c, 100 * i + 11));
  });
  test(`wasm favor backward, causal, ${featureMap}`, () => {
    CAUSAL.forEach((c, i) => check(featureMap, c, 100 * i + 17));
  });
}
