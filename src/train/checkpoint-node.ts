// Training checkpoints on top of src/io/checkpoint-node.ts (crash-safe, validated):
//
//   model.safetensors      parameters and buffers (the FAVOR+ projections) by module name
//   optimizer.safetensors  AdamW moments "<weight>.m", "<weight>.v"
//   checkpoint.json        config = ModelSpec {kind, model (PerformerConfig), tokenizer (TokenizerJSON)}
//                          state  = {step, training (TrainHyper), data {source, format, tokens, sha256},
//                                    split (SplitInfo), runtime (dropout Rng state, feature-draw index
//                                    per layer), optimizer {step}, losses [per-step training loss],
//                                    evals [evaluation records], initFrom?, producer}
//
// loadTrainedModel rebuilds the model from the config, checks every weight's shape against it, and
// loads the weights; every problem is a CheckpointError naming the file. Before building, the config
// must not describe far more parameters than model.safetensors holds values (a lying checkpoint.json
// with dim 10^6 would otherwise allocate terabytes before any shape check could refuse it).

import { join } from 'node:path';
import { CheckpointError, loadCheckpoint, MANIFEST_FILE, type JsonObject, type LoadedCheckpoint } from '../io/checkpoint-node.js';
import { DATA_FORMATS, type DataFormat } from '../data/corpus.js';
import { tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import type { RuntimeState } from '../nn/models.js';
import { validateTrainHyper, weightShapes, type ModelSpec, type TrainHyper, type TrainModel } from './config.js';
import { modelForWeights, specFromConfig } from './spec-config.js';

export { configFromSpec, minimumParameters, specFromConfig } from './spec-config.js';

/** One evaluation during training (also the JSON line `performer train --json` prints). */
export interface EvalRecord {
  step: number;
  /** Mean training loss over the steps since the previous evaluation (nats/token). */
  train_loss: number;
  val_loss: number;
  val_bits_per_token: number;
  val_accuracy: number;
  /** Training tokens per second over those steps (this process's steps only; 0 when none). */
  tokens_per_s: number;
}

/** What data a run trained on. */
export interface DataInfo {
  source: string;
  format: DataFormat;
  /** Tokens in the whole file (train + validation). */
  tokens: number;
  /** sha256 of the token ids (little-endian int32), to recognise the same data on --resume. */
  sha256: string;
}

export interface TrainingState {
  step: number;
  training: TrainHyper;
  data: DataInfo;
  runtime: RuntimeState;
  optimizerStep: number;
  losses: number[];
  evals: EvalRecord[];
  initFrom?: string;
}

function fail(dir: string, msg: string): never {
  throw new CheckpointError(`${join(dir, MANIFEST_FILE)}: ${msg}`);
}

/** The model spec stored in a checkpoint's config (validated); a CheckpointError naming the file. */
export function parseModelSpec(dir: string, config: JsonObject): ModelSpec {
  try {
    return specFromConfig(config);
  } catch (e) {
    return fail(dir, `bad model config: ${(e as Error).message}`);
  }
}

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** The training state stored by a Trainer (validated). */
export function parseTrainingState(dir: string, loaded: Pick<LoadedCheckpoint, 'state' | 'step'>): TrainingState {
  const s = loaded.state as Record<string, unknown>;
  const training = s.training as TrainHyper | undefined;
  if (typeof training !== 'object' || training === null) fail(dir, 'state has no "training" settings (not a checkpoint of performer train?)');
  try {
    validateTrainHyper(training);
  } catch (e) {
    fail(dir, `bad training settings: ${(e as Error).message}`);
  }
  const data = s.data as DataInfo | undefined;
  if (typeof data !== 'object' || data === null || typeof data.sha256 !== 'string' || !DATA_FORMATS.includes(data.format) || !isNum(data.tokens)) {
    fail(dir, 'state.data must record source, format, tokens and sha256');
  }
  const runtime = s.runtime as RuntimeState | undefined;
  if (typeof runtime !== 'object' || runtime === null || typeof runtime.rng !== 'object' || !Array.isArray(runtime.drawIndex)) {
    fail(dir, 'state.runtime must hold rng and drawIndex');
  }
  const opt = s.optimizer as { step?: unknown } | undefined;
  if (typeof opt !== 'object' || opt === null || !(Number.isSafeInteger(opt.step) && (opt.step as number) >= 0)) fail(dir, 'state.optimizer.step must be an integer >= 0');
  const losses = s.losses;
  if (!Array.isArray(losses) || !losses.every(isNum)) fail(dir, 'state.losses must be an array of numbers');
  if (losses.length !== loaded.step) fail(dir, `state.losses has ${losses.length} entries for step ${loaded.step}`);
  const evals = s.evals;
  if (!Array.isArray(evals) || !evals.every((e) => typeof e === 'object' && e !== null && isNum((e as EvalRecord).step))) {
    fail(dir, 'state.evals must be an array of evaluation records');
  }
  return {
    step: loaded.step, training, data, runtime, optimizerStep: opt.step as number, losses: losses as number[], evals: evals as EvalRecord[],
    ...(typeof s.initFrom === 'string' ? { initFrom: s.initFrom } : {}),
  };
}


export interface TrainedModel {
  dir: string;
  spec: ModelSpec;
  model: TrainModel;
  tokenizer: Tokenizer;
  checkpoint: LoadedCheckpoint;
}

/**
 * Loads a checkpoint written by performer train (or a Trainer): the model built from its config with
 * the stored weights, in eval mode. `optimizer: true` also loads the optimizer tensors (for resuming).
 */
export async function loadTrainedModel(dir: string, opts: { optimizer?: boolean } = {}): Promise<TrainedModel> {
  let spec: ModelSpec | undefined;
  let model: TrainModel | undefined;
  const checkpoint = await loadCheckpoint(dir, {
    optimizer: opts.optimizer ?? false,
    expectedShapes: (config, weights) => {
      ({ spec, model } = modelForWeights(config, weights));
      return weightShapes(model);
    },
  });
  if (!spec || !model) throw new CheckpointError(`${dir}: the checkpoint has no model config`);
  model.loadStateDict(checkpoint.weights);
  model.eval();
  return { dir, spec, model, tokenizer: tokenizerFromJSON(spec.tokenizer), checkpoint };
}
