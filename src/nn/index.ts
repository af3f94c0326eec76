// Neural-network modules on top of src/autograd.
export { Module, ModuleList, initParameters, type DType } from './module.js';
export type { ParamKind, Init, ParamInfo } from '../autograd/param.js';
export { Embedding, Linear, LayerNorm, FeedForward } from './layers.js';
export { MultiHeadAttention, defaultFeatures, type AttentionOptions } from './attention.js';
export {
  Block, PerformerLM, PerformerEncoder, type PerformerConfig, type EncoderConfig, type ForwardContext, type PositionKind, type RuntimeState,
} from './models.js';
export {
  createDecoder, generate, timingSummary, SAMPLING_STREAM, type Decoder, type GenerateOptions, type GenerateResult,
} from './generate.js';
export { sample, samplingDistribution, argmax, validateSampling, type SamplingOptions } from './sampling.js';
export { AttentionState, BlockState, ModelState, ShiftState } from './step-state.js';
export { layerCache, FavorLayerCache, ExactKVCache, type LayerCache } from './kv-cache.js';
