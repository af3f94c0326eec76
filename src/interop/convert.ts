// State dicts between performer-pytorch and our checkpoints, both directions. The key and config
// correspondence is in ./performer-pytorch.ts; this file moves the tensors and checks every one.

import type { Numerics } from '../nn/attention.js';
import { sinusoidTable } from '../nn/models.js';
import { localFrequencies } from '../kernels/reference/local.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import { createTokenizer, type TokenizerName } from '../data/tokenizer.js';
import { buildModel, validateModelSpec, type ModelSpec } from '../train/config.js';
import {
  configFromKwargs, keyPairs, kwargsFromConfig, localFreqKey, localHeadsPerLayer, normalizeStateDict, REDRAW_COUNTER, resolveKwargs,
  type NamedTensor, type PerformerLMKwargs,
} from './performer-pytorch.js';

/** The fixed sinusoid buffers of rotary_position_emb must be what PerformerLM computes (float32). */
const SINUSOID_TOL = 1e-5;

export interface Imported {
  spec: ModelSpec;
  weights: Map<string, Tensor>;
  kwargs: PerformerLMKwargs;
  /** performer.proj_updater.calls_since_last_redraw, when the file has it. */
  callsSinceRedraw?: number;
}

/** performer-pytorch's fixed buffers: the rotary sinusoid tables, and local-attention's rotary frequencies per layer with local heads. */
function fixedBuffers(kw: PerformerLMKwargs): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  if (kw.rotary_position_emb) {
    for (const [key, width] of [['pos_emb.emb', kw.dim], ['layer_pos_emb.emb', kw.dim_head]] as const) {
      out.set(key, new Tensor([kw.max_seq_len, width], sinusoidTable(kw.max_seq_len, width).data as Float32Array));
    }
  }
  localHeadsPerLayer(kw).forEach((n, i) => {
    if (n > 0) out.set(localFreqKey(kw, i), new Tensor([kw.dim_head / 2], Float32Array.from(localFrequencies(kw.dim_head))));
  });
  return out;
}

/** Our checkpoint contents for a PerformerLM state dict and its keyword arguments. */
export function importStateDict(
  raw: ReadonlyMap<string, NamedTensor>, config: Record<string, unknown>,
  opts: { numerics: Numerics; tokenizer?: TokenizerName },
): Imported {
  const sd = normalizeStateDict(raw);
  const kw = resolveKwargs(config, sd);
  const tokName = opts.tokenizer ?? (kw.num_tokens === 256 ? 'byte' : 'none');
  const tokenizer = createTokenizer(tokName, tokName === 'none' ? kw.num_tokens : undefined);
  const spec: ModelSpec = { kind: 'lm', model: configFromKwargs(kw, opts.numerics), tokenizer: tokenizer.toJSON() };
  try {
    validateModelSpec(spec);
  } catch (e) {
    throw new Error(`--tokenizer ${tokName}: ${(e as Error).message}`);
  }
  const model = buildModel(spec);
  const want = new Map<string, readonly number[]>([
    ...model.namedParameters().map(([n, v]) => [n, v.shape] as [string, readonly number[]]),
    ...model.namedBuffers().map(([n, v]) => [n, v.shape] as [string, readonly number[]]),
  ]);
  const used = new Set<string>();
  const weights = new Map<string, Tensor>();
  for (const { ours, theirs, scalar } of keyPairs(kw)) {
    const t = sd.get(theirs);
    if (!t) throw new Error(`missing tensor ${theirs} (expected for ${JSON.stringify(kw)})`);
    const shape = want.get(ours);
    if (!shape) throw new Error(`internal: no tensor ${ours} in the model for ${theirs}`);
    const expect = scalar ? [] : [...shape];
    if (t.shape.join() !== expect.join()) throw new Error(`${theirs} has shape ${formatShape(t.shape)}, the config implies ${formatShape(expect)}`);
    weights.set(ours, new Tensor([...shape], Float32Array.from(t.data)));
    used.add(theirs);
  }
  for (const n of want.keys()) if (!weights.has(n)) throw new Error(`internal: nothing maps to ${n}`);
  for (const [key, fixed] of fixedBuffers(kw)) {
    const t = sd.get(key), table = fixed.data;
    if (!t) throw new Error(`missing buffer ${key} (rotary_position_emb)`);
    if (t.shape.join() !== fixed.shape.join()) throw new Error(`${key} has shape ${formatShape(t.shape)}, expected ${formatShape(fixed.shape)}`);
    let worst = 0;
    for (let i = 0; i < table.length; i++) worst = Math.max(worst, Math.abs(t.data[i]! - table[i]!));
    if (!(worst <= SINUSOID_TOL)) throw new Error(`${key} is not performer-pytorch's fixed sinusoid table (differs by ${worst})`);
    used.add(key);
  }
  let callsSinceRedraw: number | undefined;
  const counter = sd.get(REDRAW_COUNTER);
  if (counter) {
    if (counter.data.length !== 1) throw new Error(`${REDRAW_COUNTER} has shape ${formatShape(counter.shape)}, expected a scalar`);
    callsSinceRedraw = counter.data[0];
    used.add(REDRAW_COUNTER);
  }
  const extra = [...sd.keys()].filter((k) => !used.has(k));
  if (extra.length) throw new Error(`unexpected tensor${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? `, … (${extra.length})` : ''} for this configuration`);
  return { spec, weights, kwargs: kw, ...(callsSinceRedraw !== undefined ? { callsSinceRedraw } : {}) };
}

export interface Exported {
  kwargs: PerformerLMKwargs;
  /** performer-pytorch keys (no proj_updater duplicates, as safetensors' save_model writes). */
  tensors: Map<string, Tensor>;
  /** Keys that are int64 there (calls_since_last_redraw). */
  int64: Set<string>;
}

/**
 * performer-pytorch's state dict for our model, or an error with every reason it cannot be.
 * `callsSinceRedraw` fills its ProjectionUpdater counter (an imported model's, else 0).
 */
export function exportStateDict(spec: ModelSpec, weights: ReadonlyMap<string, { shape: readonly number[]; data: Float32Array }>, callsSinceRedraw = 0): Exported {
  if (spec.kind !== 'lm') throw new Error(`a ${spec.kind} model cannot be exported: performer-pytorch's PerformerLM is a language model`);
  const { kwargs: fromConfig, refused } = kwargsFromConfig(spec.model);
  if (!fromConfig) throw new Error(`performer-pytorch cannot express this model: ${refused.join('; ')}`);
  // The feature count is the projection's (a config may leave it to the default).
  const projection = weights.get('blocks.0.attn.projection');
  if (!projection) throw new Error('the checkpoint has no tensor blocks.0.attn.projection');
  const kwargs = { ...fromConfig, nb_features: projection.shape[0]! };
  const tensors = new Map<string, Tensor>();
  for (const { ours, theirs, scalar } of keyPairs(kwargs)) {
    let w = weights.get(ours);
    if (!w && ours === 'head.bias') w = { shape: [spec.model.vocabSize], data: new Float32Array(spec.model.vocabSize) };
    if (!w) throw new Error(`the checkpoint has no tensor ${ours}`);
    tensors.set(theirs, new Tensor(scalar ? [] : [...w.shape], Float32Array.from(w.data)));
  }
  for (const [key, fixed] of fixedBuffers(kwargs)) tensors.set(key, fixed);
  tensors.set(REDRAW_COUNTER, new Tensor([], Float32Array.of(callsSinceRedraw)));
  return { kwargs, tensors, int64: new Set([REDRAW_COUNTER]) };
}
