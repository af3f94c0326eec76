// Pre-LN Transformer blocks and the two models: PerformerLM (causal LM) and PerformerEncoder
// (bidirectional, with masked-LM and sequence-classification heads).
import { add, crossEntropy, dropout, gelu, matmul, meanPool } from '../autograd/ops.js';
import { noGrad } from '../autograd/tape.js';
import { tokenShift } from '../autograd/token-shift.js';
import type { Var } from '../autograd/var.js';
import type { FeatureMap } from '../kernels/backend.js';
import type { ProjectionKind } from '../favor/projection.js';
import { IGNORE_INDEX } from '../data/ignore-index.js';
import { Rng } from '../tensor/rng.js';
import { MultiHeadAttention } from './attention.js';
import { Embedding, FeedForward, LayerNorm, Linear } from './layers.js';
import { initParameters, Module, ModuleList, type DType } from './module.js';
import { BlockState, ModelState, ShiftState } from './step-state.js';

/** Per-forward context: the dropout generator (training) and the key mask. */
export interface ForwardContext {
  rng?: Rng;
  keyMask?: ArrayLike<number>; // [B, L], 0 = pad
}

export interface RuntimeState {
  rng: { block: number; pos: number; spareNormal: number | null };
  drawIndex: number[];
}

export type PositionKind = 'learned' | 'rotary' | 'none';

export interface PerformerConfig {
  vocabSize: number;
  dim: number;
  layers: number;
  heads: number;
  maxLen: number; // longest sequence (size of the learned position table)
  ffMult?: number; // FFN hidden = ffMult·dim, default 4
  dropout?: number; // residual and embedding dropout, default 0
  attention?: 'favor' | 'exact';
  featureMap?: FeatureMap;
  features?: number;
  projection?: ProjectionKind;
  redrawInterval?: number;
  chunk?: number;
  positions?: PositionKind; // default 'learned'
  /** Each block's attention and FFN inputs take their last ⌊dim/2⌋ features from the previous
   *  position (autograd/token-shift.ts); default false. */
  tokenShift?: boolean;
  tiedEmbeddings?: boolean; // LM output = token embeddingᵀ (default true)
  seed?: number; // parameter init, feature draws and dropout
  dtype?: DType;
}

export class Block extends Module {
  readonly ln1: LayerNorm; readonly attn: MultiHeadAttention; readonly ln2: LayerNorm; readonly ff: FeedForward;
  constructor(readonly cfg: PerformerConfig, index: number, causal: boolean) {
    super(cfg.dtype);
    const dtype = cfg.dtype;
    const outStd = 0.02 / Math.sqrt(2 * cfg.layers); // GPT-2: scale residual projections by depth
    this.ln1 = this.child('ln1', new LayerNorm(cfg.dim, { dtype }));
    this.attn = this.child('attn', new MultiHeadAttention(cfg.dim, cfg.heads, {
      attention: cfg.attention, featureMap: cfg.featureMap, features: cfg.features, projection: cfg.projection,
      redrawInterval: cfg.redrawInterval, causal, rotary: cfg.positions === 'rotary', chunk: cfg.chunk,
      seed: (cfg.seed ?? 0) * 1000 + index, outStd, dtype,
    }));
    this.ln2 = this.child('ln2', new LayerNorm(cfg.dim, { dtype }));
    this.ff = this.child('ff', new FeedForward(cfg.dim, { mult: cfg.ffMult, outStd, dtype }));
  }

  /** Features shifted in from the previous position by tokenShift (0 = off). */
  get shiftedChannels(): number {
    return this.cfg.tokenShift ? Math.floor(this.cfg.dim / 2) : 0;
  }

  /**
   * The block, written once for `forward` and `step`: x + drop(attn(shift(ln1 x))), then
   * + drop(ff(shift(ln2 x))). `mix` supplies the parts that see other positions (attention, token
   * shift; shift is the identity unless cfg.tokenShift) and dropout.
   */
  private apply(x: Var, mix: { attend(h: Var): Var; shift(h: Var, input: 'attn' | 'ff'): Var; drop(y: Var): Var }): Var {
    x = add(x, mix.drop(mix.attend(mix.shift(this.ln1.forward(x), 'attn'))));
    return add(x, mix.drop(this.ff.forward(mix.shift(this.ln2.forward(x), 'ff'))));
  }

  forward(x: Var, ctx: ForwardContext): Var {
    const p = this.training ? this.cfg.dropout ?? 0 : 0;
    const s = this.shiftedChannels;
    return this.apply(x, {
      attend: (h) => this.attn.forward(h, ctx.keyMask),
      shift: (h) => (s > 0 ? tokenShift(h, s, ctx.keyMask) : h),
      drop: (y) => (p > 0 && ctx.rng ? dropout(y, p, ctx.rng) : y),
    });
  }

  /** A fresh decoding state for `step` (./step-state.ts). */
  startDecoding(): BlockState {
    const s = this.shiftedChannels;
    return new BlockState(this.attn.startDecoding(), { attn: new ShiftState(s), ff: new ShiftState(s) });
  }

  /** x [1, R, D], the R positions after those `state` holds → forward's rows there (eval mode, outside the tape). */
  step(x: Var, state: BlockState): Var {
    state.check();
    return noGrad(() => this.apply(x, {
      attend: (h) => this.attn.step(h, state.attn),
      shift: (h, input) => state.shift[input].apply(h),
      drop: (y) => y,
    }));
  }
}

function checkConfig(cfg: PerformerConfig): void {
  for (const k of ['vocabSize', 'dim', 'layers', 'heads', 'maxLen'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new Error(`config.${k} must be a positive integer, got ${cfg[k]}`);
  }
}

/** Shared trunk: token (+ learned position) embeddings, blocks, final LayerNorm. */
abstract class Trunk extends Module {
  readonly cfg: PerformerConfig;
  readonly tok: Embedding;
  readonly pos: Embedding | undefined;
  readonly blocks: Block[] = [];
  readonly lnF: LayerNorm;
  /** Dropout generator; its `state` belongs in a checkpoint for exact resumption. */
  readonly rng: Rng;

  constructor(cfg: PerformerConfig, causal: boolean) {
    super(cfg.dtype);
    checkConfig(cfg);
    this.cfg = cfg;
    const dtype = cfg.dtype;
    this.tok = this.child('tok', new Embedding(cfg.vocabSize, cfg.dim, { dtype }));
    this.pos = (cfg.positions ?? 'learned') === 'learned' ? this.child('pos', new Embedding(cfg.maxLen, cfg.dim, { dtype, std: 0.01 })) : undefined;
    const blocks = this.child('blocks', new ModuleList<Block>(dtype));
    for (let i = 0; i < cfg.layers; i++) this.blocks.push(blocks.push(new Block(cfg, i, causal)));
    this.lnF = this.child('ln_f', new LayerNorm(cfg.dim, { dtype }));
    this.rng = new Rng(cfg.seed ?? 0, 0x0d0d);
  }

  /**
   * What a checkpoint needs beyond parameters and buffers to resume bit-exactly: the dropout Rng
   * position and each layer's feature-draw index (the Rng key is the config seed).
   */
  exportRuntimeState(): RuntimeState {
    return { rng: this.rng.state, drawIndex: this.blocks.map((b) => b.attn.drawIndex) };
  }

  importRuntimeState(s: RuntimeState): void {
    if (s.drawIndex.length !== this.blocks.length) throw new Error(`runtime state has ${s.drawIndex.length} layers, the model ${this.blocks.length}`);
    this.rng.state = s.rng;
    this.blocks.forEach((b, i) => { b.attn.drawIndex = s.drawIndex[i]!; });
  }

  /** Redraws FAVOR+ features where each layer's interval says so; call once per training step. */
  maybeRedraw(step: number): void {
    for (const b of this.blocks) b.attn.maybeRedraw(step);
  }

  /** Token embeddings of ids [B·L] plus learned positions start … start + L − 1 (if any): [B, L, dim]. */
  private embed(ids: Int32Array | readonly number[], B: number, L: number, start: number): Var {
    const x = this.tok.forward(ids, [B, L]);
    if (!this.pos) return x;
    const posIds = new Int32Array(L);
    for (let i = 0; i < L; i++) posIds[i] = start + i;
    return add(x, this.pos.forward(posIds, [L]));
  }

  /** ids [B·L] (row-major [B, L]) → hidden [B, L, dim] after the final LayerNorm. */
  hidden(ids: Int32Array | readonly number[], B: number, L: number, keyMask?: ArrayLike<number>): Var {
    if (ids.length !== B * L) throw new Error(`expected ${B}×${L} = ${B * L} ids, got ${ids.length}`);
    if (L > this.cfg.maxLen && this.pos) throw new Error(`sequence length ${L} exceeds maxLen ${this.cfg.maxLen}`);
    let x = this.embed(ids, B, L, 0);
    const ctx: ForwardContext = { rng: this.rng, keyMask };
    const p = this.training ? this.cfg.dropout ?? 0 : 0;
    if (p > 0) x = dropout(x, p, this.rng);
    for (const b of this.blocks) x = b.forward(x, ctx);
    return this.lnF.forward(x);
  }

  /** A fresh decoding state for `step` (causal models only; ./step-state.ts). */
  startDecoding(): ModelState {
    return new ModelState(this.blocks.map((b) => b.startDecoding()));
  }

  /**
   * The next R token ids (batch 1) after those `state` holds → hidden [1, R, dim], the rows `hidden`
   * gives those positions of the whole sequence (eval mode, outside the tape). On bad ids, positions
   * past the learned table or a stale state it throws and changes nothing.
   */
  step(ids: readonly number[] | Int32Array, state: ModelState): Var {
    const R = ids.length, V = this.cfg.vocabSize, start = state.position;
    if (R === 0) throw new Error('step needs at least one token');
    for (let r = 0; r < R; r++) {
      const id = ids[r]!;
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`token id ${id} is out of range [0, ${V})`);
    }
    if (this.pos && start + R > this.cfg.maxLen) {
      throw new Error(
        `position ${start + R - 1} is beyond the learned position table (maxLen ${this.cfg.maxLen}); ` +
        `models with rotary or no positions have no such limit`,
      );
    }
    state.check();
    return noGrad(() => {
      let x = this.embed(ids, 1, R, start);
      this.blocks.forEach((b, i) => { x = b.step(x, state.blocks[i]!); });
      state.position += R;
      return this.lnF.forward(x);
    });
  }
}

/** Causal language model: logits [B, L, V] for next-token prediction. */
export class PerformerLM extends Trunk {
  readonly head: Linear | undefined;
  constructor(cfg: PerformerConfig) {
    super(cfg, true);
    this.head = cfg.tiedEmbeddings ?? true ? undefined : this.child('head', new Linear(cfg.dim, cfg.vocabSize, { bias: false, dtype: cfg.dtype }));
    initParameters(this, cfg.seed ?? 0);
  }

  forward(ids: Int32Array | readonly number[], B: number, L: number): Var {
    return this.logits(this.hidden(ids, B, L));
  }

  /** Output head: hidden [..., dim] → logits [..., V] (tied: h · tokᵀ). */
  logits(h: Var): Var {
    return this.head ? this.head.forward(h) : matmul(h, this.tok.weight, { transB: true });
  }

  /** Mean cross-entropy of logits(ids) against targets [B·L] (ignoreIndex rows skipped). */
  loss(ids: Int32Array | readonly number[], targets: Int32Array | readonly number[], B: number, L: number, ignoreIndex = IGNORE_INDEX): Var {
    return crossEntropy(this.forward(ids, B, L), targets, ignoreIndex);
  }
}

export interface EncoderConfig extends PerformerConfig {
  numClasses?: number; // classification head size (default 2)
}

/** Bidirectional encoder with a masked-LM head (tied decoder) and a mean-pooled classification head. */
export class PerformerEncoder extends Trunk {
  readonly mlmDense: Linear; readonly mlmLn: LayerNorm; readonly mlmBias: Var;
  readonly cls: Linear;
  constructor(cfg: EncoderConfig) {
    super(cfg, false);
    const dtype = cfg.dtype;
    const mlm = this.child('mlm', new MlmHead(cfg.dim, cfg.vocabSize, dtype));
    this.mlmDense = mlm.dense; this.mlmLn = mlm.ln; this.mlmBias = mlm.bias;
    this.cls = this.child('cls', new Linear(cfg.dim, cfg.numClasses ?? 2, { dtype }));
    initParameters(this, cfg.seed ?? 0);
  }

  /** MLM logits [B, L, V] = LN(GELU(dense h)) · tokᵀ + bias. */
  mlmLogits(h: Var): Var {
    const t = this.mlmLn.forward(gelu(this.mlmDense.forward(h)));
    return add(matmul(t, this.tok.weight, { transB: true }), this.mlmBias);
  }

  /** Masked-LM loss: targets [B·L] hold the original token at masked positions, ignoreIndex elsewhere. */
  mlmLoss(ids: Int32Array | readonly number[], targets: Int32Array | readonly number[], B: number, L: number, keyMask?: ArrayLike<number>, ignoreIndex = IGNORE_INDEX): Var {
    return crossEntropy(this.mlmLogits(this.hidden(ids, B, L, keyMask)), targets, ignoreIndex);
  }

  /** Class logits [B, C] from the mean of the unpadded hidden states. */
  classify(ids: Int32Array | readonly number[], B: number, L: number, keyMask?: ArrayLike<number>): Var {
    return this.cls.forward(meanPool(this.hidden(ids, B, L, keyMask), keyMask));
  }

  classificationLoss(ids: Int32Array | readonly number[], labels: Int32Array | readonly number[], B: number, L: number, keyMask?: ArrayLike<number>): Var {
    return crossEntropy(this.classify(ids, B, L, keyMask), labels);
  }
}

class MlmHead extends Module {
  readonly dense: Linear; readonly ln: LayerNorm; readonly bias: Var;
  constructor(dim: number, vocab: number, dtype?: DType) {
    super(dtype);
    this.dense = this.child('dense', new Linear(dim, dim, { dtype }));
    this.ln = this.child('ln', new LayerNorm(dim, { dtype }));
    this.bias = this.param('bias', [vocab], 'bias', { kind: 'zeros' });
  }
}
