// A model spec as checkpoint.json stores it ("config"), both ways. Browser-safe: the Node folder
// loader (checkpoint-node.ts) and the bytes loader (checkpoint-files.ts) use it.

import type { JsonObject } from '../io/checkpoint-manifest.js';
import { FEATURE_MAPS, isFeatureMap } from '../kernels/backend.js';
import type { PerformerConfig } from '../nn/models.js';
import { validateModelSpec, type ModelSpec } from './config.js';

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
