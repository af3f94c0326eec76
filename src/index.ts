// Public API of the library.
export { Tensor } from './tensor/tensor.js';
export { Rng } from './tensor/rng.js';
export type { Shape } from './tensor/shape.js';
export type { Backend, FavorArgs, ExactArgs, Kernel } from './kernels/backend.js';
export { featureCount } from './kernels/backend.js';
export { referenceBackend } from './kernels/reference/index.js';
export { defaultBackend, useBackend } from './kernels/default.js';
export { drawProjection, type ProjectionOptions, type ProjectionKind, type NormScaling } from './favor/projection.js';
export { KERNELS, featureRow } from './favor/features.js';
export { favorAttention, exactAttention, type FavorOptions, type ExactOptions } from './favor/attention.js';
export { FavorRecurrentState, type RecurrentOptions } from './favor/recurrent.js';
