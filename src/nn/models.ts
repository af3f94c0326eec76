// Pre-LN Transformer blocks and the two models: PerformerLM (causal LM) and PerformerEncoder
// (bidirectional, with masked-LM and sequence-classification heads).
import { add, crossEntropy, dropout, gelu, matmul, meanPool } from '../autograd/ops.js';
import { noGrad } from '../autograd/tape.js';
import { tokenShift } from '../autograd/token-shift.js';
import { shiftSegments } from '../autograd/shift-segments.js';
import { gate } from '../autograd/scale-norm.js';
import type { GeluKind } from '../autograd/gelu-erf.js';
import { Var } from '../autograd/var.js';
import type { FeatureMap } from '../kernels/backend.js';
import type { ProjectionKind } from '../favor/projection.js';
import { IGNORE_INDEX } from '../data/ignore-index.js';
import { Rng } from '../tensor/rng.js';
import { MultiHeadAttention, type Numerics } from './attention.js';
import { Embedding, FeedForward, LayerNorm, Linear, ScaleNorm } from './layers.js';
import { allocArr, initParameters, Module, ModuleList, type DType } from './module.js';
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

/** 'sinusoidal-rotary': performer-pytorch's rotary_position_emb, a fixed sinusoidal table added to
 *  the token embeddings (Vaswani et al. 2017, sin and cos halves) plus rotary q and k in every layer. */
export type PositionKind = 'learned' | 'rotary' | 'none' | 'sinusoidal-rotary';

/** Pre-norm of each sublayer: LayerNorm, ScaleNorm, or none with a learned scalar gate on the
 *  sublayer's output (ReZero: x + g·f(x)). */
export type NormKind = 'layer' | 'scale' | 'rezero';


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
   *  position (autograd/token-shift.ts); default false. An array: performer-pytorch's shift_tokens
   *  segments (autograd/shift-segments.ts), [0, 1] causal, [-1, 0, 1] bidirectional. */
  tokenShift?: boolean | number[];
  tiedEmbeddings?: boolean; // LM output = token embeddingᵀ (default true)
  /** PerformerLM only: causal (default true) or bidirectional attention. */
  causal?: boolean;
  headDim?: number; // per-head width, default dim/heads
  qkvBias?: boolean; // default true
  outBias?: boolean; // attention output projection bias, default true
  headBias?: boolean; // untied LM head bias, default false
  ffGlu?: boolean; // GEGLU feed-forward, default false
  gelu?: GeluKind; // 'tanh' (default) or 'erf'
  norm?: NormKind; // default 'layer'
  numerics?: Numerics; // default 'favor'
  /** Heads per layer that run block-local exact attention (the last ones of each layer; docs/MATH.md,
   *  "Local attention heads"): one number for every layer or one per layer, default 0. */
  localHeads?: number | number[];
  localWindow?: number; // w, default 256
  seed?: number; // parameter init, feature draws and dropout
  dtype?: DType;
}

/** Layer `index`'s local heads from a config's localHeads (a number for all layers, or a list). */
export function localHeadsOf(cfg: Pick<PerformerConfig, 'localHeads' | 'layers'>, index: number): number {
  const n = cfg.localHeads ?? 0;
  if (typeof n === 'number') return n;
  if (n.length !== cfg.layers) throw new Error(`localHeads lists ${n.length} layers, the model has ${cfg.layers}`);
  return n[index]!;
}

export class Block extends Module {
  /** Pre-norms (undefined with norm 'rezero'). */
  readonly ln1: LayerNorm | ScaleNorm | undefined; readonly ln2: LayerNorm | ScaleNorm | undefined;
  readonly attn: MultiHeadAttention; readonly ff: FeedForward;
  /** ReZero gates g on the sublayer outputs (norm 'rezero'). */
  readonly attnGate: Var | undefined; readonly ffGate: Var | undefined;
  constructor(readonly cfg: PerformerConfig, index: number, causal: boolean) {
    super(cfg.dtype);
    const dtype = cfg.dtype;
    const outStd = 0.02 / Math.sqrt(2 * cfg.layers); // GPT-2: scale residual projections by depth
    const norm = (name: string): LayerNorm | ScaleNorm | undefined =>
      cfg.norm === 'rezero' ? undefined : this.child(name, cfg.norm === 'scale' ? new ScaleNorm(1e-5, { dtype }) : new LayerNorm(cfg.dim, { dtype }));
    this.ln1 = norm('ln1');
    this.attn = this.child('attn', new MultiHeadAttention(cfg.dim, cfg.heads, {
      attention: cfg.attention, featureMap: cfg.featureMap, features: cfg.features, projection: cfg.projection,
      redrawInterval: cfg.redrawInterval, causal, rotary: cfg.positions === 'rotary' || cfg.positions === 'sinusoidal-rotary', chunk: cfg.chunk,
      headDim: cfg.headDim, qkvBias: cfg.qkvBias, outBias: cfg.outBias, numerics: cfg.numerics,
      localHeads: localHeadsOf(cfg, index), localWindow: cfg.localWindow,
      seed: (cfg.seed ?? 0) * 1000 + index, outStd, dtype,
    }));
    this.ln2 = norm('ln2');
    this.ff = this.child('ff', new FeedForward(cfg.dim, { mult: cfg.ffMult, outStd, glu: cfg.ffGlu, gelu: cfg.gelu, dtype }));
    const rezero = cfg.norm === 'rezero';
    this.attnGate = rezero ? this.param('attn_gate', [1], 'norm', { kind: 'zeros' }) : undefined;
    this.ffGate = rezero ? this.param('ff_gate', [1], 'norm', { kind: 'zeros' }) : undefined;
  }

  /** Features shifted in from the previous position by tokenShift (0 = off), for the decoder. */
  get shiftedChannels(): number {
    const s = this.cfg.tokenShift, D = this.cfg.dim;
    if (Array.isArray(s)) {
      // Segments [0, 1] with an even width move exactly the last D/2 features by one.
      if (s.length === 2 && s[0] === 0 && s[1] === 1 && D % 2 === 0) return D / 2;
      throw new Error(`incremental decoding supports token shift segments [0, 1] with an even dim, not ${JSON.stringify(s)} with dim ${D}`);
    }
    return s ? Math.floor(D / 2) : 0;
  }

  /** The pre-norm of sublayer 1 (attention) or 2 (FFN): LayerNorm, ScaleNorm, or none (ReZero). */
  private norm(which: 1 | 2, x: Var): Var {
    const n = which === 1 ? this.ln1 : this.ln2;
    return n ? n.forward(x) : x;
  }

  /** x + gate·y (ReZero) or x + y. */
  private residual(which: 1 | 2, x: Var, y: Var): Var {
    const g = which === 1 ? this.attnGate : this.ffGate;
    return add(x, g ? gate(y, g) : y);
  }

  /**
   * The block, written once for `forward` and `step`: x + drop(attn(shift(norm1 x))), then
   * + drop(ff(shift(norm2 x))), each sublayer's output scaled by its gate under ReZero. `mix`
   * supplies the parts that see other positions (attention, token shift; shift is the identity
   * unless cfg.tokenShift) and dropout.
   */
  private apply(x: Var, mix: { attend(h: Var): Var; shift(h: Var, input: 'attn' | 'ff'): Var; drop(y: Var): Var }): Var {
    x = this.residual(1, x, mix.drop(mix.attend(mix.shift(this.norm(1, x), 'attn'))));
    return this.residual(2, x, mix.drop(this.ff.forward(mix.shift(this.norm(2, x), 'ff'))));
  }

  /** With performer-pytorch numerics the FFN's shift ignores the key mask, as there (its mask reaches only the attention sublayer). */
  forward(x: Var, ctx: ForwardContext): Var {
    const p = this.training ? this.cfg.dropout ?? 0 : 0;
    const t = this.cfg.tokenShift;
    const ffMask = this.attn.numerics === 'performer-pytorch' ? undefined : ctx.keyMask;
    return this.apply(x, {
      attend: (h) => this.attn.forward(h, ctx.keyMask),
      shift: (h, input) => {
        const mask = input === 'attn' ? ctx.keyMask : ffMask;
        if (Array.isArray(t)) return shiftSegments(h, t, mask);
        return t ? tokenShift(h, Math.floor(this.cfg.dim / 2), mask) : h;
      },
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

/**
 * Rows start … start+L−1 of performer-pytorch's FixedPositionalEmbedding: row t =
 * [sin(t·f_i)]_i ++ [cos(t·f_i)]_i, f_i = 10000^(−2i/dim), i < dim/2, rounded like its float32
 * computation.
 */
export function sinusoidTable(L: number, dim: number, dtype: DType = 'float32', start = 0): Var {
  if (dim % 2 !== 0) throw new Error(`sinusoidal positions need an even dim, got ${dim}`);
  const f = Math.fround, half = dim / 2;
  const out = allocArr(dtype, L * dim);
  for (let i = 0; i < half; i++) {
    const inv = f(1 / f(10000 ** f((2 * i) / dim)));
    for (let t = 0; t < L; t++) {
      const a = f((start + t) * inv);
      out[t * dim + i] = f(Math.sin(a));
      out[t * dim + half + i] = f(Math.cos(a));
    }
  }
  return new Var([L, dim], out);
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

  /** Whether positions come from a table of maxLen rows (learned or sinusoidal). */
  get hasPositionTable(): boolean {
    return this.pos !== undefined || this.cfg.positions === 'sinusoidal-rotary';
  }

  /** How FAVOR+ is evaluated in every layer (the weights stay). */
  setNumerics(n: Numerics): void {
    for (const b of this.blocks) b.attn.numerics = n;
  }

  /** Token embeddings of ids [B·L] plus absolute positions start … start + L − 1 (learned or sinusoidal, if any): [B, L, dim]. */
  private embed(ids: Int32Array | readonly number[], B: number, L: number, start: number): Var {
    const x = this.tok.forward(ids, [B, L]);
    if (this.cfg.positions === 'sinusoidal-rotary') return add(x, sinusoidTable(L, this.cfg.dim, this.dtype, start));
    if (!this.pos) return x;
    const posIds = new Int32Array(L);
    for (let i = 0; i < L; i++) posIds[i] = start + i;
    return add(x, this.pos.forward(posIds, [L]));
  }

  /** ids [B·L] (row-major [B, L]) → hidden [B, L, dim] after the final LayerNorm. */
  hidden(ids: Int32Array | readonly number[], B: number, L: number, keyMask?: ArrayLike<number>): Var {
    if (ids.length !== B * L) throw new Error(`expected ${B}×${L} = ${B * L} ids, got ${ids.length}`);
    if (L > this.cfg.maxLen && this.hasPositionTable) throw new Error(`sequence length ${L} exceeds maxLen ${this.cfg.maxLen}`);
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
    if (this.hasPositionTable && start + R > this.cfg.maxLen) {
      throw new Error(
        `position ${start + R - 1} is beyond the ${this.pos ? 'learned' : 'sinusoidal'} position table (maxLen ${this.cfg.maxLen}); ` +
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
    super(cfg, cfg.causal ?? true);
    this.head = cfg.tiedEmbeddings ?? true ? undefined : this.child('head', new Linear(cfg.dim, cfg.vocabSize, { bias: cfg.headBias ?? false, dtype: cfg.dtype }));
    initParameters(this, cfg.seed ?? 0);
  }

  /** Logits [B, L, V]; keyMask [B, L] (0 = pad) for padded batches. */
  forward(ids: Int32Array | readonly number[], B: number, L: number, keyMask?: ArrayLike<number>): Var {
    return this.logits(this.hidden(ids, B, L, keyMask));
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
