// The differentiable ops' matmul on the WebAssembly SIMD backend (packed, threaded), for float32
// data. The attention forwards already reach the wasm backend through defaultBackend(); the
// attention backwards stay on the plain-TS kernels until wasm versions exist.
import type { WasmBackend } from '../kernels/wasm/index.js';
import type { GradKernels, MatmulArgs } from './kernels.js';
import { tsMatmul } from './kernels-ts/matmul.js';

export function wasmGradKernels(backend: WasmBackend): Partial<GradKernels> & { name: string } {
  return {
    name: `${backend.name}-matmul+ts`,
    matmul(p: MatmulArgs): void {
      const { a, b, c, M, N, K, transA, transB, batch, strideA, strideB, strideC, accumulate } = p;
      if (!(a instanceof Float32Array && b instanceof Float32Array && c instanceof Float32Array)) {
        tsMatmul(p);
        return;
      }
      // The whole batch is one parallel job; stride 0 broadcasts a shared matrix (e.g. a weight).
      backend.matmul({ a, b, c, M, N, K, transA, transB, beta: accumulate ? 1 : 0, batch, strideA, strideB, strideC });
    },
  };
}
