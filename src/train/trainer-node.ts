// The Trainer: a model, its AdamW optimiser, the step-pure batcher over the training split, and the
// run's bookkeeping (step, per-step losses, evaluations). It can start fresh, start from another
// checkpoint's weights (init-from), or resume a checkpoint exactly.
//
// One step s (0-based):  redraw FAVOR+ features if s is a multiple of the redraw interval (s > 0);
// batch(s) from the batcher (a pure function of seed and s; MLM: masked 15%, BERT 80/10/10); mean
// cross-entropy; backward; clip the global gradient norm; AdamW update with the scheduled LR of s.
//
// Exact resumption: a checkpoint holds the weights and FAVOR+ projections, the AdamW moments and
// step count, the dropout Rng position and each layer's feature-draw index, and the step. The
// batches and the LR depend only on the step, so a resumed run continues bit for bit.

import { createHash } from 'node:crypto';
import { backward, clearTape } from '../autograd/tape.js';
import type { Var } from '../autograd/var.js';
import { saveCheckpoint, type CheckpointInput, type SaveResult } from '../io/checkpoint-node.js';
import { LmBatcher } from '../data/batches.js';
import type { TokenCorpus } from '../data/corpus.js';
import { splitCorpus, type SplitInfo } from '../data/split.js';
import { PerformerLM } from '../nn/models.js';
import { AdamW, clipGradNormVar } from '../optim/adamw.js';
import { buildModel, weightShapes, type ModelSpec, type TrainHyper, type TrainModel } from './config.js';
import { configFromSpec, parseTrainingState, type DataInfo, type EvalRecord, type TrainedModel } from './checkpoint-node.js';
import { evaluateModel, type EvalResult } from './evaluate.js';
import { scheduledLearningRate } from './schedule.js';

export class TrainingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingError';
  }
}

/** Seed of the train/validation split: fixed, so runs with different --seed validate on the same data. */
export const SPLIT_SEED = 0;

/** sha256 of the token ids as little-endian int32 (independent of the array type). */
export function tokensSha256(tokens: ArrayLike<number>): string {
  const h = createHash('sha256');
  const CH = 1 << 16;
  const buf = new Int32Array(CH);
  for (let i = 0; i < tokens.length; i += CH) {
    const n = Math.min(CH, tokens.length - i);
    for (let j = 0; j < n; j++) buf[j] = tokens[i + j]!;
    h.update(new Uint8Array(buf.buffer, 0, n * 4));
  }
  return h.digest('hex');
}

export function dataInfo(corpus: TokenCorpus): DataInfo {
  return { source: corpus.source, format: corpus.format, tokens: corpus.tokens.length, sha256: tokensSha256(corpus.tokens) };
}

export interface StepResult {
  /** The step just taken (0-based); trainer.step is now step + 1. */
  step: number;
  loss: number;
  lr: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Tokens in the step's batch. */
  tokens: number;
}

export interface InitFromOptions {
  /** A checkpoint loaded by loadTrainedModel. */
  source: TrainedModel;
}

export class Trainer {
  readonly model: TrainModel;
  readonly optimizer: AdamW;
  readonly batcher: LmBatcher;
  readonly train: TokenCorpus;
  readonly validation: TokenCorpus;
  readonly split: SplitInfo;
  readonly data: DataInfo;
  /** Steps done. */
  step = 0;
  /** Training loss of every step done (index = step). */
  readonly losses: number[] = [];
  readonly evals: EvalRecord[] = [];
  /** The checkpoint this run's weights started from, if any. */
  initFrom: string | undefined;

  private constructor(readonly spec: ModelSpec, readonly hyper: TrainHyper, corpus: TokenCorpus, data?: DataInfo) {
    // A model may cover only the regular ids (an imported 256-token byte model): text windows hold no special ids.
    const vocabFits = spec.model.vocabSize === corpus.tokenizer.vocabSize || spec.model.vocabSize === corpus.tokenizer.numRegular;
    if (!vocabFits || corpus.tokenizer.name !== spec.tokenizer.type) {
      throw new TrainingError(`the data is tokenized with the ${corpus.tokenizer.name} tokenizer, the model uses ${spec.tokenizer.type}`);
    }
    const split = splitCorpus(corpus, { fraction: hyper.valFraction, seed: SPLIT_SEED });
    if (split.validation.tokens.length < 2) throw new TrainingError(`${corpus.source}: the validation split is too small (${split.validation.tokens.length} tokens)`);
    this.train = split.train;
    this.validation = split.validation;
    this.split = split.info;
    this.data = data ?? dataInfo(corpus);
    this.batcher = new LmBatcher(split.train, { batchSize: hyper.batchSize, seqLen: hyper.seqLen, seed: hyper.seed, mode: 'packed' });
    this.model = buildModel(spec);
    this.model.train();
    this.optimizer = new AdamW(this.model, {
      lr: hyper.lr, beta1: hyper.beta1, beta2: hyper.beta2, eps: hyper.eps, weightDecay: hyper.weightDecay,
    });
  }

  /** A fresh run; with initFrom, its parameters (and matching FAVOR+ projections) come from that checkpoint. */
  static create(spec: ModelSpec, hyper: TrainHyper, corpus: TokenCorpus, opts: { initFrom?: TrainedModel } = {}): Trainer {
    const t = new Trainer(spec, hyper, corpus);
    if (opts.initFrom) t.loadInitWeights(opts.initFrom);
    return t;
  }

  /**
   * Resumes the run saved in `source` (loaded with the optimizer): same model, settings and data.
   * `steps` (optional) is the new planned total. Throws when the data is not the run's data.
   */
  static resume(source: TrainedModel, corpus: TokenCorpus, opts: { steps?: number } = {}): Trainer {
    const { checkpoint: ck, dir } = source;
    const st = parseTrainingState(dir, ck);
    const data = dataInfo(corpus);
    if (data.sha256 !== st.data.sha256 || data.format !== st.data.format) {
      throw new TrainingError(
        `${corpus.source} is not the data the run in ${dir} was trained on (${st.data.source}: ${st.data.tokens} tokens of ${st.data.format}, ` +
        `sha256 ${st.data.sha256.slice(0, 12)}…; this file: ${data.tokens} tokens of ${data.format}, sha256 ${data.sha256.slice(0, 12)}…); ` +
        'use --init-from to start a new run from its weights',
      );
    }
    const hyper = { ...st.training, ...(opts.steps !== undefined ? { steps: opts.steps } : {}) };
    const t = new Trainer(source.spec, hyper, corpus, data);
    t.model.loadStateDict(ck.weights);
    if (!ck.optimizer) throw new TrainingError(`${dir}: the checkpoint has no optimizer state, so it cannot be resumed exactly (use --init-from)`);
    try {
      t.optimizer.importState({ step: st.optimizerStep, tensors: new Map([...ck.optimizer].map(([k, v]) => [k, { shape: [...v.shape], data: v.data }])) });
      t.model.importRuntimeState(st.runtime);
    } catch (e) {
      throw new TrainingError(`${dir}: ${(e as Error).message}`);
    }
    t.model.train();
    t.step = st.step;
    t.losses.push(...st.losses);
    t.evals.push(...st.evals);
    t.initFrom = st.initFrom;
    return t;
  }

  private loadInitWeights(src: TrainedModel): void {
    if (src.spec.kind !== this.spec.kind) {
      throw new TrainingError(`--init-from ${src.dir}: it holds a ${src.spec.kind} model, this run trains ${this.spec.kind}`);
    }
    if (src.spec.tokenizer.type !== this.spec.tokenizer.type) {
      throw new TrainingError(`--init-from ${src.dir}: it uses the ${src.spec.tokenizer.type} tokenizer, this data the ${this.spec.tokenizer.type} one`);
    }
    const srcShift = src.spec.model.tokenShift ?? false, shift = this.spec.model.tokenShift ?? false;
    if (srcShift !== shift) {
      throw new TrainingError(`--init-from ${src.dir}: it was trained ${srcShift ? 'with' : 'without'} token shift, this run ${shift ? 'uses' : 'does not use'} it (the weights would mean something else)`);
    }
    const have = src.checkpoint.weights;
    const state = new Map<string, { shape: readonly number[]; data: ArrayLike<number> }>();
    for (const [name, v] of this.model.namedParameters()) {
      const w = have.get(name);
      if (!w) throw new TrainingError(`--init-from ${src.dir}: it has no weight "${name}" (a model of another shape: the layers, dim, heads and positions must match)`);
      if (w.shape.length !== v.shape.length || w.shape.some((d, i) => d !== v.shape[i])) {
        throw new TrainingError(`--init-from ${src.dir}: weight "${name}" is [${w.shape.join(', ')}], this model needs [${v.shape.join(', ')}] (the model shape must match)`);
      }
      state.set(name, w);
    }
    for (const name of have.keys()) {
      if (!state.has(name) && !name.endsWith('.attn.projection')) {
        throw new TrainingError(`--init-from ${src.dir}: it has weight "${name}", which this model lacks (the model shape must match)`);
      }
    }
    // FAVOR+ projections: taken over when the checkpoint has them with this shape, else the fresh draw stays.
    for (const [name, b] of this.model.namedBuffers()) {
      const w = have.get(name);
      state.set(name, w && w.shape.length === b.shape.length && w.shape.every((d, i) => d === b.shape[i]) ? w : { shape: b.shape, data: Float32Array.from(b.data) });
    }
    this.model.loadStateDict(state);
    this.initFrom = src.dir;
  }

  /** The scheduled learning rate of step `step`. */
  learningRate(step: number): number {
    return scheduledLearningRate(step, this.hyper);
  }

  /** Tokens per training step. */
  get tokensPerStep(): number {
    return this.hyper.batchSize * this.hyper.seqLen;
  }

  /**
   * One optimiser step (see the file comment). Throws TrainingError on a non-finite loss or gradient.
   * Asynchronous so that one code path serves every engine: the work is enqueued on the model's
   * engine, and the two values the step must see — the loss (before backward, so a diverged step
   * changes nothing) and the global gradient norm (before the update) — come back through the
   * engine's awaited read. On the CPU engines that read is the array itself.
   */
  async trainStep(): Promise<StepResult> {
    const s = this.step, h = this.hyper, model = this.model;
    let loss: Var;
    try {
      model.maybeRedraw(s);
      this.optimizer.zeroGrad();
      if (model instanceof PerformerLM) {
        const b = this.batcher.batch(s);
        loss = model.loss(b.inputs, b.targets, h.batchSize, h.seqLen);
      } else {
        const b = this.batcher.maskedBatch(s, { prob: h.mlmProb });
        loss = model.mlmLoss(b.inputs, b.targets, h.batchSize, h.seqLen);
      }
    } catch (e) {
      clearTape();
      throw e;
    }
    const value = await loss.readItem();
    if (!Number.isFinite(value)) {
      clearTape();
      throw new TrainingError(`training diverged at step ${s + 1}: the loss is ${value} (try a lower --lr)`);
    }
    backward(loss);
    const gradNorm = await clipGradNormVar(model.parameters(), h.clip).readItem();
    if (!Number.isFinite(gradNorm)) {
      this.optimizer.zeroGrad();
      throw new TrainingError(`training diverged at step ${s + 1}: the gradient norm is ${gradNorm} (try a lower --lr)`);
    }
    const lr = this.learningRate(s);
    this.optimizer.step(lr);
    this.step = s + 1;
    this.losses.push(value);
    return { step: s, loss: value, lr, gradNorm, tokens: this.tokensPerStep };
  }

  /** Evaluates the model on the validation split (the first maxWindows windows when given). */
  evaluate(maxWindows?: number): EvalResult {
    return evaluateModel(this.model, this.validation, { seqLen: this.hyper.seqLen, batchSize: this.hyper.batchSize, ...(maxWindows ? { maxWindows } : {}) });
  }

  /** Mean training loss over steps (from, to] (0-based step indices from..to-1). */
  meanLoss(from: number, to: number = this.step): number {
    const xs = this.losses.slice(Math.max(0, from), to);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  }

  /** Everything a checkpoint of this run holds. */
  checkpointInput(): CheckpointInput {
    const opt = this.optimizer.exportState();
    return {
      config: configFromSpec(this.spec),
      weights: this.model.stateDict(),
      optimizer: opt.tensors,
      state: {
        step: this.step,
        training: this.hyper,
        data: this.data,
        split: this.split,
        runtime: this.model.exportRuntimeState(),
        optimizer: { step: opt.step },
        losses: this.losses,
        evals: this.evals,
        ...(this.initFrom !== undefined ? { initFrom: this.initFrom } : {}),
        producer: 'performer train',
      },
    };
  }

  /** Saves the run into `dir` (crash-safe: the previous checkpoint stays loadable until the new one is complete). */
  save(dir: string): Promise<SaveResult> {
    return saveCheckpoint(dir, this.checkpointInput());
  }

  /** Weight shapes of this run's model (for checks). */
  weightShapes(): Map<string, number[]> {
    return weightShapes(this.model);
  }
}
