// The WebAssembly SIMD + threads backend.
export { createWasmBackend, type WasmBackend, type WasmBackendOptions } from './backend.js';
export type { MatmulArgs } from './matmul.js';
export type { SimdVariant } from './kernels.js';
