export { createWebGpuBackend, type WebGpuBackend, type WebGpuOptions } from './backend.js';
export type {
  AdamWArgs, CrossEntropyGradArgs, CrossEntropyLossArgs, EmbeddingBwdArgs, EmbeddingFwdArgs, ExactBwdArgs, ExactFwdArgs,
  FavorFwdArgs, GeluBwdArgs, GeluFwdArgs, LayerNormBwdArgs, LayerNormFwdArgs, MatmulArgs,
} from './args.js';
export type { GpuTensor } from './storage.js';
