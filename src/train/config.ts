// Training configuration: the model spec (what the weights mean) and the training hyperparameters
// (how they were produced), their defaults, validation, and building a model from a spec.
//
// Both go into a checkpoint: the model spec as checkpoint.json "config", the hyperparameters under
// "state.training". A resumed run takes both from its checkpoint.

import { PerformerEncoder, PerformerLM, type PerformerConfig, type PositionKind } from '../nn/models.js';
import type { FeatureMap } from '../kernels/backend.js';
import type { GeluKind } from '../autograd/gelu-erf.js';
import { tokenizerFromJSON, type Tokenizer, type TokenizerJSON } from '../data/tokenizer.js';

/** 'lm': causal language model (PerformerLM); 'mlm': bidirectional encoder trained by masked-LM. */
export type ModelKind = 'lm' | 'mlm';
export const MODEL_KINDS: readonly ModelKind[] = ['lm', 'mlm'];

/** What a checkpoint's weights are: the model class, its config and the tokenizer that feeds it. */
export interface ModelSpec {
  kind: ModelKind;
  model: PerformerConfig;
  tokenizer: TokenizerJSON;
}

export type TrainModel = PerformerLM | PerformerEncoder;

/** The knobs of a training run (the model's own ones live in ModelSpec.model). */
export interface TrainHyper {
  /** Tokens of input per training window. */
  seqLen: number;
  batchSize: number;
  /** Planned total optimiser steps (a resumed run may raise it). */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  /** Linear warmup steps (fixed, independent of `steps`). */
  warmup: number;
  /** Cosine horizon: the LR decays from lr to minLrRatio·lr over steps [warmup, scheduleSteps), then stays there. */
  scheduleSteps: number;
  minLrRatio: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Global gradient-norm clip. */
  clip: number;
  /** Seed of the batches, masks, parameter init, dropout and feature draws. */
  seed: number;
  /** Share of the data held out for validation. */
  valFraction: number;
  /** MLM: chance a token is chosen for prediction. */
  mlmProb: number;
}

/** Defaults of `performer train` (and of the library when a field is left out). */
export const TRAIN_DEFAULTS = {
  kind: 'lm' as ModelKind,
  layers: 4,
  dim: 256,
  heads: 4,
  attention: 'favor' as 'favor' | 'exact',
  featureMap: 'softmax' as FeatureMap,
  features: 256,
  redraw: 1000,
  positions: 'rotary' as PositionKind,
  dropout: 0.1,
  seqLen: 512,
  batchSize: 8,
  steps: 2000,
  lr: 1e-3,
  warmup: 100,
  scheduleSteps: 2000,
  minLrRatio: 0.1,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  clip: 1,
  seed: 0,
  valFraction: 0.05,
  mlmProb: 0.15,
} as const;

export interface ModelOptions {
  kind?: ModelKind;
  layers?: number;
  dim?: number;
  heads?: number;
  attention?: 'favor' | 'exact';
  featureMap?: FeatureMap;
  features?: number;
  /** Steps between FAVOR+ feature redraws (0 = never). */
  redraw?: number;
  positions?: PositionKind;
  /** Token shift in every block (PerformerConfig.tokenShift); default false. */
  tokenShift?: boolean | number[];
  /** FFN GELU: 'tanh' (default) or 'erf' (exact, as performer-pytorch). */
  gelu?: GeluKind;
  /** Local attention heads per layer (PerformerConfig.localHeads) and their window; default none. */
  localHeads?: number | number[];
  localWindow?: number;
  dropout?: number;
  /** Longest sequence (the learned position table); default the training seqLen. */
  maxLen?: number;
  /** LM output layer = token embeddingᵀ (default true); false adds a separate [vocab, dim] head. */
  tiedEmbeddings?: boolean;
  seed?: number;
}

/** A model spec from options (defaults as in TRAIN_DEFAULTS). Validates. */
export function makeModelSpec(opts: ModelOptions, tokenizer: Tokenizer, seqLen: number = TRAIN_DEFAULTS.seqLen): ModelSpec {
  const d = TRAIN_DEFAULTS;
  const attention = opts.attention ?? d.attention;
  const model: PerformerConfig = {
    vocabSize: tokenizer.vocabSize,
    dim: opts.dim ?? d.dim,
    layers: opts.layers ?? d.layers,
    heads: opts.heads ?? d.heads,
    maxLen: opts.maxLen ?? seqLen,
    ffMult: 4,
    dropout: opts.dropout ?? d.dropout,
    attention,
    ...(attention === 'favor'
      ? { featureMap: opts.featureMap ?? d.featureMap, features: opts.features ?? d.features, projection: 'orthogonal' as const, redrawInterval: opts.redraw ?? d.redraw }
      : {}),
    chunk: 64,
    positions: opts.positions ?? d.positions,
    ...(opts.tokenShift ? { tokenShift: opts.tokenShift } : {}),
    ...(opts.gelu === 'erf' ? { gelu: 'erf' as const } : {}),
    ...(opts.localHeads ? { localHeads: opts.localHeads, localWindow: opts.localWindow ?? 256 } : {}),
    tiedEmbeddings: opts.tiedEmbeddings ?? true,
    seed: opts.seed ?? d.seed,
  };
  const spec: ModelSpec = { kind: opts.kind ?? d.kind, model, tokenizer: tokenizer.toJSON() };
  validateModelSpec(spec);
  return spec;
}

function isPosInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 1;
}

/** Throws a one-line Error naming the first bad field. */
export function validateModelSpec(spec: ModelSpec): void {
  if (!MODEL_KINDS.includes(spec.kind)) throw new Error(`model kind must be one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(spec.kind)}`);
  const m = spec.model;
  if (typeof m !== 'object' || m === null) throw new Error('the model config is missing');
  for (const k of ['vocabSize', 'dim', 'layers', 'heads', 'maxLen'] as const) {
    if (!isPosInt(m[k])) throw new Error(`model ${k} must be a positive integer, got ${JSON.stringify(m[k])}`);
  }
  if (m.dim % m.heads !== 0) throw new Error(`model dim ${m.dim} is not divisible by ${m.heads} heads`);
  const headDim = m.headDim ?? m.dim / m.heads;
  if ((m.positions === 'rotary' || m.positions === 'sinusoidal-rotary') && headDim % 2 !== 0) {
    throw new Error(`rotary positions need an even head dim, got ${headDim}`);
  }
  if (m.dropout !== undefined && !(typeof m.dropout === 'number' && m.dropout >= 0 && m.dropout < 1)) {
    throw new Error(`dropout must be in [0, 1), got ${JSON.stringify(m.dropout)}`);
  }
  if (m.attention !== undefined && m.attention !== 'favor' && m.attention !== 'exact') {
    throw new Error(`attention must be favor or exact, got ${JSON.stringify(m.attention)}`);
  }
  if (m.tokenShift !== undefined && typeof m.tokenShift !== 'boolean' && !(Array.isArray(m.tokenShift) && m.tokenShift.length > 0 && m.tokenShift.every((x) => Number.isInteger(x)))) {
    throw new Error(`tokenShift must be true, false or a list of integer shifts, got ${JSON.stringify(m.tokenShift)}`);
  }
  validateArchitecture(m);
  validateLocalHeads(m, headDim);
  if (m.features !== undefined && !isPosInt(m.features)) throw new Error(`features must be a positive integer, got ${JSON.stringify(m.features)}`);
  if (m.redrawInterval !== undefined && !(Number.isSafeInteger(m.redrawInterval) && m.redrawInterval >= 0)) {
    throw new Error(`redraw interval must be an integer >= 0, got ${JSON.stringify(m.redrawInterval)}`);
  }
  const tok = tokenizerFromJSON(spec.tokenizer);
  // A model may also cover only the regular ids (an imported 256-token byte model has no specials).
  if (tok.vocabSize !== m.vocabSize && tok.numRegular !== m.vocabSize) throw new Error(`the model's vocabulary (${m.vocabSize}) does not match its ${tok.name} tokenizer (${tok.vocabSize})`);
}

function validateLocalHeads(m: PerformerConfig, headDim: number): void {
  const n = m.localHeads;
  if (n === undefined) return;
  const list = typeof n === 'number' ? [n] : n;
  if (!Array.isArray(list) || (Array.isArray(n) && n.length !== m.layers) || !list.every((x) => Number.isInteger(x) && x >= 0 && x <= m.heads)) {
    throw new Error(`localHeads must be an integer in 0..${m.heads} (the heads) or a list of ${m.layers} (one per layer), got ${JSON.stringify(n)}`);
  }
  if (m.localWindow !== undefined && !isPosInt(m.localWindow)) throw new Error(`localWindow must be a positive integer, got ${JSON.stringify(m.localWindow)}`);
  if (list.some((x) => x > 0) && headDim % 2 !== 0) throw new Error(`local heads need an even head dim (their rotary pairs halves), got ${headDim}`);
}

/** The PerformerConfig fields an imported model may set beyond what performer train does. */
const ARCHITECTURE_KEYS = ['causal', 'headDim', 'qkvBias', 'outBias', 'headBias', 'ffGlu', 'gelu', 'norm', 'ffMult', 'tiedEmbeddings'] as const;

function validateArchitecture(m: PerformerConfig): void {
  for (const k of ['causal', 'qkvBias', 'outBias', 'headBias', 'ffGlu'] as const) {
    if (m[k] !== undefined && typeof m[k] !== 'boolean') throw new Error(`${k} must be true or false, got ${JSON.stringify(m[k])}`);
  }
  for (const k of ['headDim', 'ffMult'] as const) if (m[k] !== undefined && !isPosInt(m[k])) throw new Error(`${k} must be a positive integer, got ${JSON.stringify(m[k])}`);
  if (m.gelu !== undefined && m.gelu !== 'tanh' && m.gelu !== 'erf') throw new Error(`gelu must be tanh or erf, got ${JSON.stringify(m.gelu)}`);
  if (m.norm !== undefined && !['layer', 'scale', 'rezero'].includes(m.norm)) throw new Error(`norm must be layer, scale or rezero, got ${JSON.stringify(m.norm)}`);
  if (m.numerics !== undefined && m.numerics !== 'favor' && m.numerics !== 'performer-pytorch') throw new Error(`numerics must be favor or performer-pytorch, got ${JSON.stringify(m.numerics)}`);
  if (m.positions !== undefined && !['learned', 'rotary', 'none', 'sinusoidal-rotary'].includes(m.positions)) throw new Error(`positions must be learned, rotary, none or sinusoidal-rotary, got ${JSON.stringify(m.positions)}`);
}

/** A new run from `from`'s weights keeps its architecture (head width, biases, FFN, norms, …). */
export function inheritArchitecture(spec: ModelSpec, from: ModelSpec): ModelSpec {
  // A model over the regular ids only (an imported 256-token byte model) keeps its vocabulary.
  const model: PerformerConfig = { ...spec.model, vocabSize: from.model.vocabSize };
  for (const k of ARCHITECTURE_KEYS) {
    if (from.model[k] === undefined) delete model[k];
    else (model as unknown as Record<string, unknown>)[k] = from.model[k];
  }
  const out = { ...spec, model };
  validateModelSpec(out);
  return out;
}

export function buildModel(spec: ModelSpec): TrainModel {
  return spec.kind === 'lm' ? new PerformerLM(spec.model) : new PerformerEncoder(spec.model);
}

/** Training hyperparameters with defaults filled in. Validates. */
export function makeTrainHyper(opts: Partial<TrainHyper>): TrainHyper {
  const d = TRAIN_DEFAULTS;
  const h: TrainHyper = {
    seqLen: opts.seqLen ?? d.seqLen, batchSize: opts.batchSize ?? d.batchSize, steps: opts.steps ?? d.steps,
    lr: opts.lr ?? d.lr, warmup: opts.warmup ?? d.warmup, scheduleSteps: opts.scheduleSteps ?? d.scheduleSteps,
    minLrRatio: opts.minLrRatio ?? d.minLrRatio, weightDecay: opts.weightDecay ?? d.weightDecay,
    beta1: opts.beta1 ?? d.beta1, beta2: opts.beta2 ?? d.beta2, eps: opts.eps ?? d.eps, clip: opts.clip ?? d.clip,
    seed: opts.seed ?? d.seed, valFraction: opts.valFraction ?? d.valFraction, mlmProb: opts.mlmProb ?? d.mlmProb,
  };
  validateTrainHyper(h);
  return h;
}

export function validateTrainHyper(h: TrainHyper): void {
  for (const k of ['seqLen', 'batchSize', 'steps', 'scheduleSteps'] as const) {
    if (!isPosInt(h[k])) throw new Error(`${k} must be a positive integer, got ${JSON.stringify(h[k])}`);
  }
  if (!(Number.isSafeInteger(h.warmup) && h.warmup >= 0)) throw new Error(`warmup must be an integer >= 0, got ${JSON.stringify(h.warmup)}`);
  if (h.warmup > h.scheduleSteps) throw new Error(`warmup (${h.warmup}) must not exceed the schedule length (${h.scheduleSteps})`);
  if (!(Number.isSafeInteger(h.seed) && h.seed >= 0)) throw new Error(`seed must be an integer >= 0, got ${JSON.stringify(h.seed)}`);
  const pos = (k: keyof TrainHyper): void => {
    if (!(typeof h[k] === 'number' && Number.isFinite(h[k]) && h[k] > 0)) throw new Error(`${k} must be a positive number, got ${JSON.stringify(h[k])}`);
  };
  pos('lr'); pos('clip'); pos('eps');
  const unit = (k: keyof TrainHyper, lo: number, hiOpen: number, loOpen = false): void => {
    const v = h[k];
    if (!(typeof v === 'number' && (loOpen ? v > lo : v >= lo) && v < hiOpen)) {
      throw new Error(`${k} must be in ${loOpen ? '(' : '['}${lo}, ${hiOpen}), got ${JSON.stringify(v)}`);
    }
  };
  unit('beta1', 0, 1); unit('beta2', 0, 1); unit('weightDecay', 0, 1); unit('valFraction', 0, 1, true); unit('mlmProb', 0, 1, true);
  if (!(typeof h.minLrRatio === 'number' && h.minLrRatio >= 0 && h.minLrRatio <= 1)) throw new Error(`minLrRatio must be in [0, 1], got ${JSON.stringify(h.minLrRatio)}`);
}

/** The shapes of every weight (parameters and buffers) of a model, by name. */
export function weightShapes(model: TrainModel): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [n, v] of model.namedParameters()) out.set(n, [...v.shape]);
  for (const [n, v] of model.namedBuffers()) out.set(n, [...v.shape]);
  return out;
}

/** A short description, e.g. "PerformerLM: 4 layers × 256, 4 heads, FAVOR+ softmax (256 features, redraw 1000), rotary". */
export function describeModel(spec: ModelSpec, params?: number): string {
  const m = spec.model;
  const att = (m.attention ?? 'favor') === 'favor'
    ? `FAVOR+ ${m.featureMap ?? 'softmax'} (${m.features ?? 'default'} features${m.redrawInterval ? `, redraw every ${m.redrawInterval}` : ''})`
    : 'exact softmax attention';
  const cls = spec.kind === 'lm' ? 'PerformerLM' : 'PerformerEncoder (masked LM)';
  const p = params === undefined ? '' : `, ${formatCount(params)} parameters`;
  const heads = `${m.heads} heads${m.headDim !== undefined ? ` × ${m.headDim}` : ''}${m.causal === false ? ', bidirectional' : ''}`;
  const local = m.localHeads && (typeof m.localHeads === 'number' || m.localHeads.some((x) => x > 0))
    ? `, local heads ${JSON.stringify(m.localHeads)} (window ${m.localWindow ?? 256})` : '';
  return `${cls}: ${m.layers} layer${m.layers === 1 ? '' : 's'} × ${m.dim}, ${heads}, ${att}${local}, ${m.positions ?? 'learned'} positions${m.tokenShift ? ', token shift' : ''}${p}`;
}

/** 1234567 → "1.23M", 12345 → "12.3k". */
export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toPrecision(3)}G`;
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  return String(n);
}
