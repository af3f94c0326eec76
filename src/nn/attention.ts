// Multi-head attention with FAVOR+ (or exact softmax) attention, optional rotary embeddings.
import { exactAttentionOp, favorAttentionOp } from '../autograd/attention.js';
import { mergeHeads, rope, splitHeads } from '../autograd/ops.js';
import { Var } from '../autograd/var.js';
import type { FeatureMap } from '../kernels/backend.js';
import { drawProjection, type ProjectionKind } from '../favor/projection.js';
import { Linear } from './layers.js';
import { allocArr, fnv1a, Module, type DType } from './module.js';

export interface AttentionOptions {
  attention?: 'favor' | 'exact'; // default 'favor'
  featureMap?: FeatureMap; // FAVOR+ feature map, default 'softmax'
  features?: number; // m random features per head; default round(dh·ln dh), at least dh
  projection?: ProjectionKind; // 'orthogonal' (default) | 'iid'
  /** Training steps between feature redraws (0 = never). Eval mode never redraws. */
  redrawInterval?: number;
  causal?: boolean;
  rotary?: boolean; // RoPE on q and k (interleaved pairs, base 10000) before the feature map
  chunk?: number; // causal FAVOR+ chunk length, default 64
}

export function defaultFeatures(dh: number): number {
  return Math.max(dh, Math.round(dh * Math.log(dh)));
}

export class MultiHeadAttention extends Module {
  readonly heads: number;
  readonly headDim: number;
  readonly opts: Required<Omit<AttentionOptions, 'features'>> & { features: number };
  readonly wq: Linear; readonly wk: Linear; readonly wv: Linear; readonly wo: Linear;
  /** FAVOR+ W [m, dh], a buffer (saved in checkpoints, never trained). */
  readonly projection: Var | undefined;
  private readonly projSeed: number;
  /** Which draw of W is current (0 = the initial one). */
  drawIndex = 0;

  constructor(dim: number, heads: number, opts: AttentionOptions & { seed?: number; outStd?: number; dtype?: DType } = {}) {
    super(opts.dtype);
    if (dim % heads !== 0) throw new Error(`model dim ${dim} is not divisible by ${heads} heads`);
    this.heads = heads;
    this.headDim = dim / heads;
    this.opts = {
      attention: opts.attention ?? 'favor', featureMap: opts.featureMap ?? 'softmax',
      features: opts.features ?? defaultFeatures(this.headDim), projection: opts.projection ?? 'orthogonal',
      redrawInterval: opts.redrawInterval ?? 0, causal: opts.causal ?? false, rotary: opts.rotary ?? false, chunk: opts.chunk ?? 64,
    };
    if (this.opts.rotary && this.headDim % 2 !== 0) throw new Error(`rotary embeddings need an even head dim, got ${this.headDim}`);
    const d = opts.dtype;
    this.wq = this.child('wq', new Linear(dim, dim, { dtype: d }));
    this.wk = this.child('wk', new Linear(dim, dim, { dtype: d }));
    this.wv = this.child('wv', new Linear(dim, dim, { dtype: d }));
    this.wo = this.child('wo', new Linear(dim, dim, { dtype: d, std: opts.outStd }));
    this.projSeed = opts.seed ?? 0;
    if (this.opts.attention === 'favor') {
      this.projection = this.buffer('projection', new Var([this.opts.features, this.headDim], allocArr(this.dtype, this.opts.features * this.headDim)));
      this.redraw(0);
    }
  }

  /** Draws W number `index` (deterministic in the module seed and the index). */
  redraw(index: number): void {
    if (!this.projection) return;
    const w = drawProjection({
      features: this.opts.features, dim: this.headDim, kind: this.opts.projection,
      seed: (fnv1a(`${this.projSeed}/${index}`) + this.projSeed * 4294967296) % Number.MAX_SAFE_INTEGER,
    }).data;
    this.projection.data = this.dtype === 'float64' ? Float64Array.from(w) : w;
    this.drawIndex = index;
  }

  /** Call once per optimiser step (before the forward): redraws W when the interval says so. */
  maybeRedraw(step: number): void {
    const n = this.opts.redrawInterval;
    if (!this.training || !this.projection || n <= 0 || step <= 0 || step % n !== 0) return;
    this.redraw(step / n);
  }

  /** x [B, L, D] → [B, L, D]. keyMask [B, L] (0 = pad). */
  forward(x: Var, keyMask?: ArrayLike<number>): Var {
    let q = splitHeads(this.wq.forward(x), this.heads);
    let k = splitHeads(this.wk.forward(x), this.heads);
    const v = splitHeads(this.wv.forward(x), this.heads);
    if (this.opts.rotary) { q = rope(q); k = rope(k); }
    const { causal } = this.opts;
    const o = this.projection
      ? favorAttentionOp(q, k, v, { projection: this.projection.data, featureMap: this.opts.featureMap, causal, keyMask, chunk: this.opts.chunk })
      : exactAttentionOp(q, k, v, { causal, keyMask });
    return this.wo.forward(mergeHeads(o));
  }
}
