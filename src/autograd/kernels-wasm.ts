// The differentiable ops' matmul and the FAVOR+ and exact-attention backwards on the WebAssembly
// SIMD backend (packed, threaded), for float32 data. The attention forwards already reach the wasm
// backend through defaultBackend().
// GELU, LayerNorm, embedding, dropout and cross-entropy, forward and backward, run on its row
// kernels from the sizes where they beat the plain-TS loops (kernels-wasm-rows.ts).
import type { WasmBackend } from '../kernels/wasm/index.js';
import type { ExactBwdArgs, FavorBwdArgs, GradKernels, MatmulArgs } from './kernels.js';
import { tsMatmul } from '../kernels/reference/grad/matmul.js';
import { tsFavorBackward } from '../kernels/reference/grad/favor.js';
import { rowKernels } from './kernels-wasm-rows.js';
import { tsExactBackward } from '../kernels/reference/grad/exact.js';

export function wasmGradKernels(backend: WasmBackend): Partial<GradKernels> & { name: string } {
  return {
    ...rowKernels(backend),
    name: `${backend.name}-matmul+favor-backward+exact-backward+rows+ts`,
    matmul(p: MatmulArgs): void {
      const { a, b, c, M, N, K, transA, transB, batch, strideA, strideB, strideC, accumulate } = p;
      if (!(a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array)) {
        tsMatmul(p);
        return;
      }
      // The whole batch is one parallel job; stride 0 broadcasts a shared matrix (e.g. a weight).
      backend.matmul({ a, b, c, M, N, K, transA, transB, beta: accumulate ? 1 : 0, batch, strideA, strideB, strideC });
    },
    favorBackward(p: FavorBwdArgs): void {
      const { q, k, v, out, dOut, projection, keyMask, dq, dk, dv } = p;
      if (!(q instanceof Float32Array && k instanceof Float32Array && v instanceof Float32Array &&
          out instanceof Float32Array && dOut instanceof Float32Array && projection instanceof Float32Array &&
          dq instanceof Float32Array && dk instanceof Float32Array && dv instanceof Float32Array &&
          (keyMask === undefined || keyMask instanceof Float32Array))) {
        tsFavorBackward(p); // float64 stays on the plain-TS kernel
        return;
      }
      backend.favorBackward({ ...p, q, k, v, out, dOut, projection, keyMask, dq, dk, dv });
    },
    exactBackward(p: ExactBwdArgs): void {
      const { q, k, v, out, dOut, keyMask, dq, dk, dv } = p;
      if (!(q instanceof Float32Array && k instanceof Float32Array && v instanceof Float32Array &&
          out instanceof Float32Array && dOut instanceof Float32Array && dq instanceof Float32Array &&
          dk instanceof Float32Array && dv instanceof Float32Array &&
          (keyMask === undefined || keyMask instanceof Float32Array))) {
        tsExactBackward(p); // float64 stays on the plain-TS kernel
        return;
      }
      backend.exactBackward({ ...p, q, k, v, out, dOut, keyMask, dq, dk, dv });
    },
  };
}
