// A trained model from its checkpoint files' bytes, no file system needed (browsers: fetch() or a
// file input): the model built from checkpoint.json's config, every weight's shape checked, weights
// loaded, in eval mode. The Node folder loader is loadTrainedModel (checkpoint-node.ts).

import { readCheckpointBytes, type CheckpointFiles } from '../io/checkpoint-bytes.js';
import { CheckpointError, MANIFEST_FILE, MODEL_FILE } from '../io/checkpoint-manifest.js';
import { tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import { weightShapes, type ModelSpec, type TrainModel } from './config.js';
import { modelForWeights } from './spec-config.js';

export interface ModelFromFiles {
  spec: ModelSpec;
  model: TrainModel;
  tokenizer: Tokenizer;
  /** The training step the checkpoint was saved at. */
  step: number;
}

/** Builds the model of a checkpoint from its two files' contents; `source` names it in errors. */
export async function loadModelFromBytes(files: CheckpointFiles, source = 'checkpoint'): Promise<ModelFromFiles> {
  let spec: ModelSpec | undefined;
  let model: TrainModel | undefined;
  const { manifest, weights } = await readCheckpointBytes(files, {
    source,
    expectedShapes: (config, stored) => {
      ({ spec, model } = modelForWeights(config, stored));
      return weightShapes(model);
    },
  });
  if (!spec || !model) throw new CheckpointError(`${source}: the checkpoint has no model config`);
  model.loadStateDict(weights);
  model.eval();
  return { spec, model, tokenizer: tokenizerFromJSON(spec.tokenizer), step: manifest.step };
}

/**
 * Fetches `<base>checkpoint.json` and `<base>model.safetensors` (base: a folder URL ending in "/")
 * and builds the model. A failed request is a CheckpointError naming the URL and HTTP status.
 */
export async function fetchModel(base: string | URL): Promise<ModelFromFiles> {
  const get = async (name: string): Promise<ArrayBuffer> => {
    const url = new URL(name, base);
    const res = await fetch(url);
    if (!res.ok) throw new CheckpointError(`${url.href}: HTTP ${res.status} ${res.statusText}`.trimEnd());
    return res.arrayBuffer();
  };
  const [manifest, model] = await Promise.all([get(MANIFEST_FILE), get(MODEL_FILE)]);
  return loadModelFromBytes({ manifest, model }, new URL('.', new URL(MANIFEST_FILE, base)).href.replace(/\/$/, ''));
}
