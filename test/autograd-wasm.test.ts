// The wasm matmul behind the differentiable ops agrees with the plain-TS kernel in every layout.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createWasmBackend } from '../src/kernels/wasm/index.js';
import { tsMatmul } from '../src/kernels/reference/grad/matmul.js';
import type { MatmulArgs } from '../src/kernels/engine.js';
import { wasmEngineOf } from '../src/kernels/wasm/engine.js';
import { randn } from './helpers/data.js';

const backend = await createWasmBackend({ threads: 2 });
after(() => backend.dispose());
const kernels = wasmEngineOf(backend);


for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  for (const accumulate of [false, true]) {
    test(`matmul transA=${transA} transB=${transB} accumulate=${accumulate}, batched with a broadcast operand`, () => {
      const [batch, M, N, K] = [3, 37, 29, 45];
      const a = randn(batch * M * K, 1);
      const bb = randn(K * N, 3); // shared by every batch entry (stride 0)
      const c0 = randn(batch * M * N, 4);
      const args = (c: Float32Array): MatmulArgs => ({
        a, b: bb, c, M, N, K, transA, transB, batch, strideA: M * K, strideB: 0, strideC: M * N, accumulate,
      });
      const want = Float32Array.from(c0), got = Float32Array.from(c0);
      tsMatmul(args(want));
      kernels.matmul!(args(got));
      let maxErr = 0, maxRef = 0;
      for (let i = 0; i < want.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(want[i]! - got[i]!));
        maxRef = Math.max(maxRef, Math.abs(want[i]!));
      }
      assert.ok(maxErr <= 1e-5 * maxRef, `max error ${maxErr} vs max |C| ${maxRef}`);
    });
  }
}

test('float64 data falls back to the plain-TS kernel (gradient checks run in float64)', () => {
  const a = Float64Array.from([1, 2, 3, 4]), b = Float64Array.from([5, 6, 7, 8]), c = new Float64Array(4);
  kernels.matmul!({ a, b, c, M: 2, N: 2, K: 2, transA: false, transB: false, batch: 1, strideA: 0, strideB: 0, strideC: 0, accumulate: false });
  assert.deepEqual([...c], [19, 22, 43, 50]);
});
