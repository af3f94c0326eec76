// The package's Node entry: the whole browser-safe API (index.ts, the `browser` condition's entry)
// plus what needs Node's file system: checkpoint folders and corpus files.
export * from './index.js';
export { loadCheckpoint, saveCheckpoint, readCheckpointManifest, type LoadedCheckpoint, type CheckpointInput } from './io/checkpoint-node.js';
export { loadTrainedModel, type TrainedModel } from './train/checkpoint-node.js';
export { loadCorpusFile, type FileReadOptions } from './data/read-node.js';
