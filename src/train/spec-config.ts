// A model spec as checkpoint.json stores it ("config"), both ways. Browser-safe: the Node folder
// loader (checkpoint-node.ts) and the bytes loader (checkpoint-files.ts) use it.

import type { JsonObject } from '../io/checkpoint-manifest.js';
import { FEATURE_MAPS, isFeatureMap } from '../kernels/backend.js';
import type { PerformerConfig } from '../nn/models.js';
import { MODEL_FILE } from '../io/checkpoint-manifest.js';
import type { Tensor } from '../tensor/tensor.js';
import { buildModel, validateModelSpec, type ModelSpec, type TrainModel } from './config.js';

// checkpoint.json spells the FAVOR+ feature map "kernel" (the --kernel flag's name, and what every
// earlier version wrote and reads), while PerformerConfig calls it featureMap. The two functions
// below map the one spelling to the other, so checkpoints written before and after load both ways.

/** The stored config of a model spec: PerformerConfig with featureMap written as "kernel". */
export function configFromSpec(spec: ModelSpec): JsonObject {
  const { featureMap, ...model } = spec.model;
  const stored = featureMap === undefined ? model : { ...model, kernel: featureMap };
  return { kind: spec.kind, model: stored, tokenizer: spec.tokenizer } as unknown as JsonObject;
}

/** The model spec of a checkpoint config (validated); throws a plain Error. */
export function specFromConfig(config: JsonObject): ModelSpec {
  const c = config as unknown as Partial<ModelSpec>;
  if (typeof c.kind !== 'string' || typeof c.model !== 'object' || c.model === null || typeof c.tokenizer !== 'object') {
    throw new Error('config is not a Performer training config (needs kind, model and tokenizer; was it written by performer train?)');
  }
  const { kernel, ...model } = c.model as PerformerConfig & { kernel?: unknown };
  if (kernel !== undefined) {
    if (model.featureMap !== undefined) throw new Error('the model config names its feature map twice ("kernel" and "featureMap")');
    if (typeof kernel !== 'string' || !isFeatureMap(kernel)) throw new Error(`model kernel must be one of ${FEATURE_MAPS.join(', ')}, got ${JSON.stringify(kernel)}`);
    model.featureMap = kernel;
  }
  const spec = { kind: c.kind, model, tokenizer: c.tokenizer } as ModelSpec;
  validateModelSpec(spec);
  return spec;
}

/** A lower bound of the values any model of this spec stores: token embedding; per layer the four d×d
 *  attention projections, the two FFN matrices d × ffMult·d and a FAVOR+ projection features × d/heads;
 *  and a learned position table. */
export function minimumParameters(spec: ModelSpec): number {
  const m = spec.model;
  const count = (x: unknown): number => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : 0);
  const hidden = count(m.ffMult ?? 4) * m.dim;
  const projection = (m.attention ?? 'favor') === 'favor' ? count(m.features) * (m.dim / m.heads) : 0;
  const perLayer = 4 * m.dim * m.dim + 2 * m.dim * hidden + projection;
  return m.vocabSize * m.dim + m.layers * perLayer + ((m.positions ?? 'learned') === 'learned' ? m.maxLen * m.dim : 0);
}

/** How far the config's lower bound may exceed the stored values before the model is refused unbuilt. */
const BUILD_SLACK = 4;
const BUILD_SLACK_VALUES = 2 ** 20;

/**
 * The model a checkpoint's config describes, built (untrained) to receive `weights`. A config far
 * larger than the stored values is refused before building (a lying checkpoint.json with dim 10^6
 * would otherwise allocate terabytes); one near them is built, so the shape check names the tensor.
 */
export function modelForWeights(config: JsonObject, weights: ReadonlyMap<string, Tensor>): { spec: ModelSpec; model: TrainModel } {
  const spec = specFromConfig(config);
  let stored = 0;
  for (const t of weights.values()) stored += t.size;
  const least = minimumParameters(spec);
  if (least > BUILD_SLACK * stored + BUILD_SLACK_VALUES) {
    throw new Error(`it describes a model of at least ${least} parameters, but ${MODEL_FILE} holds ${stored} values`);
  }
  return { spec, model: buildModel(spec) };
}
