export { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from './backend.js';
export type { ExactBwdArgs, ExactFwdArgs, FavorFwdArgs, GeluBwdArgs, GeluFwdArgs, LayerNormBwdArgs, LayerNormFwdArgs, MatmulArgs } from './args.js';
export type { GpuTensor } from './storage.js';
