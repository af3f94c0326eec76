// Public API of the library.
export { Tensor } from './tensor/tensor.js';
export { Rng } from './tensor/rng.js';
export type { Shape } from './tensor/shape.js';
export type { Floats } from './tensor/floats.js';
export type { FavorArgs, ExactArgs, FeatureMap } from './kernels/backend.js';
export { featureCount, FEATURE_MAPS } from './kernels/backend.js';
export type { DType, Device } from './tensor/storage.js';
export type { Engine, Kernels } from './kernels/engine.js';
export { useEngine, createEngine, installEngine, defaultEngine, ENGINE_NAMES, type EngineName, type EngineOptions } from './kernels/registry.js';
export { referenceEngine } from './kernels/reference/engine.js';
export { createWasmEngine, type WasmEngine, type WasmEngineOptions } from './kernels/wasm/engine.js';
export { drawProjection, type ProjectionOptions, type ProjectionKind, type NormScaling } from './favor/projection.js';
export { featureRow } from './kernels/reference/features.js';
export { favorAttention, exactAttention, type FavorOptions, type ExactOptions } from './favor/attention.js';
export { FavorRecurrentState, type RecurrentOptions } from './favor/recurrent.js';
// Training: reverse-mode autodiff, modules and optimisers (namespaced; the differentiable attention
// ops are autograd.favorAttentionOp / autograd.exactAttentionOp).
export * as autograd from './autograd/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export { Var } from './autograd/index.js';
export { PerformerLM, PerformerEncoder, type PerformerConfig, type EncoderConfig } from './nn/index.js';
export { AdamW, clipGradNorm, learningRate } from './optim/index.js';
// Data: tokenizers, corpora, batches (browser-safe). Files that use Node APIs are named *-node.ts
// (file readers, checkpoints, the trainer), and nothing here imports one, so a browser bundle of this
// entry needs no Node module.
export { createTokenizer, tokenizerFromJSON, type Tokenizer, type TokenizerName } from './data/tokenizer.js';
export { DataError, type TokenCorpus, type DataFormat } from './data/corpus.js';
export { corpusFromText, corpusFromChunks } from './data/read.js';
export { gunzipChunks } from './data/gzip.js';
export { splitCorpus, type CorpusSplit, type SplitOptions } from './data/split.js';
export { LmBatcher, type BatcherOptions, type LmBatch, type MlmBatch } from './data/batches.js';
export { evalBatches, type EvalBatch, type EvalOptions } from './data/eval-windows.js';
export { maskTokens, type MlmOptions } from './data/masking.js';
export { IGNORE_INDEX } from './data/ignore-index.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
// Checkpoints from their files' bytes (fetch, file inputs; no file system): Node's folder readers
// are in the Node entry (index-node.ts).
export { CheckpointError } from './io/checkpoint-manifest.js';
export { readCheckpointBytes, type CheckpointFiles, type CheckpointBytesOptions } from './io/checkpoint-bytes.js';
export { loadModelFromBytes, fetchModel, type ModelFromFiles } from './train/checkpoint-files.js';
