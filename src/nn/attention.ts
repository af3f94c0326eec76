// Multi-head attention with FAVOR+ (or exact softmax) attention, optional rotary embeddings.
import { exactAttentionOp, favorAttentionOp } from '../autograd/attention.js';
import { concatHeads, sliceHeads } from '../autograd/heads.js';
import { oprfCoefficients } from '../favor/oprf.js';
import { localAttentionOp } from '../autograd/local-attention.js';
import { performerPytorchAttention } from '../autograd/favor-pytorch.js';
import { mergeHeads, reshape, rope, splitHeads } from '../autograd/ops.js';
import { noGrad } from '../autograd/tape.js';
import { alloc, Var } from '../autograd/var.js';
import type { FeatureMap } from '../kernels/backend.js';
import type { Floats } from '../tensor/floats.js';
import { drawProjection, type ProjectionKind } from '../favor/projection.js';
import { fnv1a } from '../tensor/rng.js';
import { formatShape } from '../tensor/shape.js';
import { layerCache } from './kv-cache.js';
import { Linear } from './layers.js';
import { allocArr, Module, type DType } from './module.js';
import { AttentionState } from './step-state.js';

export interface AttentionOptions {
  attention?: 'favor' | 'exact'; // default 'favor'
  featureMap?: FeatureMap; // FAVOR+ feature map, default 'softmax'
  features?: number; // m random features per head; default round(dh·ln dh), at least dh
  projection?: ProjectionKind; // 'orthogonal' (default) | 'iid'
  /** Training steps between feature redraws (0 = never). Eval mode never redraws. */
  redrawInterval?: number;
  causal?: boolean;
  rotary?: boolean; // RoPE on q and k (interleaved pairs, the `rope` op's base) before the feature map
  chunk?: number; // causal FAVOR+ chunk length, default 64
  headDim?: number; // per-head width, default dim/heads (q, k, v are heads·headDim wide)
  qkvBias?: boolean; // biases on the q, k, v projections (default true)
  outBias?: boolean; // bias on the output projection (default true)
  numerics?: Numerics; // how FAVOR+ is evaluated (default 'favor')
  /** The last localHeads heads run exact softmax attention within blocks of localWindow
   *  (performer-pytorch's local_attn_heads; docs/MATH.md, "Local attention heads"); default 0. */
  localHeads?: number;
  localWindow?: number; // default 256, performer-pytorch's local_window_size
}

/**
 * 'favor': our estimator (docs/MATH.md), causally exact, with the recurrent decoder.
 * 'performer-pytorch': performer-pytorch 1.1.4's formulas, to reproduce its models' logits on full
 * sequences (autograd/favor-pytorch.ts); inference only.
 */
export type Numerics = 'favor' | 'performer-pytorch';
export const NUMERICS: readonly Numerics[] = ['favor', 'performer-pytorch'];

/** μ of the FAVOR++ running average (MultiHeadAttention.oprfA). */
export const OPRF_MOMENTUM = 0.1;

export function defaultFeatures(dh: number): number {
  return Math.max(dh, Math.round(dh * Math.log(dh)));
}

export class MultiHeadAttention extends Module {
  readonly heads: number;
  readonly headDim: number;
  readonly opts: Required<Omit<AttentionOptions, 'features' | 'headDim' | 'qkvBias' | 'outBias' | 'numerics'>> & { features: number };
  /** heads − localHeads: the heads that run FAVOR+ (or exact) attention over the whole sequence. */
  readonly globalHeads: number;
  /** heads·headDim, the width of q, k, v and of the output projection's input. */
  readonly innerDim: number;
  /** Settable: a model keeps its weights and changes how FAVOR+ is evaluated. */
  numerics: Numerics;
  readonly wq: Linear; readonly wk: Linear; readonly wv: Linear; readonly wo: Linear;
  /** FAVOR+ W [m, dh], a buffer (saved in checkpoints, never trained). */
  readonly projection: Var | undefined;
  private readonly projSeed: number;
  /** Which draw of W is current (0 = the initial one). */
  drawIndex = 0;
  /**
   * FAVOR++'s A per global head [G], causal softmax++ layers only: a buffer (saved in checkpoints,
   * no gradient). A causal call must not take A from its own sequence, so each training forward runs
   * with the value from before its batch and then folds its batch in: a ← (1 − μ)·a + μ·mean_b A*(q, k),
   * μ = OPRF_MOMENTUM (as BatchNorm's running statistics; it starts at 0, i.e. FAVOR+). Evaluation
   * and decoding use it frozen. Bidirectional layers compute A* per call instead.
   */
  readonly oprfA: Var | undefined;

  constructor(dim: number, heads: number, opts: AttentionOptions & { seed?: number; outStd?: number; dtype?: DType } = {}) {
    super(opts.dtype);
    if (opts.headDim === undefined && dim % heads !== 0) throw new Error(`model dim ${dim} is not divisible by ${heads} heads`);
    this.heads = heads;
    this.headDim = opts.headDim ?? dim / heads;
    if (!Number.isInteger(this.headDim) || this.headDim < 1) throw new Error(`head dim must be a positive integer, got ${this.headDim}`);
    this.innerDim = heads * this.headDim;
    this.numerics = opts.numerics ?? 'favor';
    this.opts = {
      attention: opts.attention ?? 'favor', featureMap: opts.featureMap ?? 'softmax',
      features: opts.features ?? defaultFeatures(this.headDim), projection: opts.projection ?? 'orthogonal',
      redrawInterval: opts.redrawInterval ?? 0, causal: opts.causal ?? false, rotary: opts.rotary ?? false, chunk: opts.chunk ?? 64,
      localHeads: opts.localHeads ?? 0, localWindow: opts.localWindow ?? 256,
    };
    const { localHeads, localWindow } = this.opts;
    if (!Number.isInteger(localHeads) || localHeads < 0 || localHeads > heads) throw new Error(`local heads must be an integer in 0..${heads} (the layer's heads), got ${localHeads}`);
    if (!Number.isInteger(localWindow) || localWindow < 1) throw new Error(`local window must be a positive integer, got ${localWindow}`);
    if (localHeads > 0 && this.headDim % 2 !== 0) throw new Error(`local heads need an even head dim (their rotary pairs halves), got ${this.headDim}`);
    this.globalHeads = heads - localHeads;
    if (this.opts.rotary && this.headDim % 2 !== 0) throw new Error(`rotary embeddings need an even head dim, got ${this.headDim}`);
    const d = opts.dtype;
    const inner = this.innerDim, bias = opts.qkvBias ?? true;
    this.wq = this.child('wq', new Linear(dim, inner, { dtype: d, bias }));
    this.wk = this.child('wk', new Linear(dim, inner, { dtype: d, bias }));
    this.wv = this.child('wv', new Linear(dim, inner, { dtype: d, bias }));
    this.wo = this.child('wo', new Linear(inner, dim, { dtype: d, std: opts.outStd, bias: opts.outBias ?? true }));
    this.projSeed = opts.seed ?? 0;
    if (this.opts.attention === 'favor') {
      this.projection = this.buffer('projection', new Var([this.opts.features, this.headDim], allocArr(this.dtype, this.opts.features * this.headDim)));
      this.redraw(0);
      if (this.opts.featureMap === 'softmax++' && this.opts.causal) this.oprfA = this.buffer('oprf_a', new Var([this.globalHeads], allocArr(this.dtype, this.globalHeads)));
    }
  }

  /** Draws W number `index` (deterministic in the module seed and the index). */
  redraw(index: number): void {
    if (!this.projection) return;
    const w = drawProjection({
      features: this.opts.features, dim: this.headDim, kind: this.opts.projection,
      seed: (fnv1a(`${this.projSeed}/${index}`) + this.projSeed * 4294967296) % Number.MAX_SAFE_INTEGER,
    });
    const p = this.projection;
    // The draw lands on the default engine; a float32 buffer on that engine takes its storage as is.
    if (this.dtype === 'float32' && w.device === p.device) p.storage = w.storage;
    else p.data = this.dtype === 'float64' ? Float64Array.from(w.data) : w.data;
    this.drawIndex = index;
  }

  /** Call once per optimiser step (before the forward): redraws W when the interval says so. */
  maybeRedraw(step: number): void {
    const n = this.opts.redrawInterval;
    if (!this.training || !this.projection || n <= 0 || step <= 0 || step % n !== 0) return;
    this.redraw(step / n);
  }

  /**
   * q, k, v [B, H, L, dh] of x [B, L, D] whose first row is at position `offset`. The layer's rotary
   * goes on the global heads only (performer-pytorch's pos_emb); local heads rotate inside their op.
   */
  private project(x: Var, offset: number): [Var, Var, Var] {
    const [B, L] = x.shape as [number, number];
    // [B, 1, H·dh] is [B, H, 1, dh] already: one decoded position needs no transpose
    const split = (y: Var): Var => (L === 1 ? reshape(y, [B, this.heads, 1, this.headDim]) : splitHeads(y, this.heads));
    let q = split(this.wq.forward(x));
    let k = split(this.wk.forward(x));
    const v = split(this.wv.forward(x));
    if (this.opts.rotary && this.globalHeads > 0) {
      const G = this.globalHeads, H = this.heads;
      const rot = (y: Var): Var => (G === H ? rope(y, { offset }) : concatHeads(rope(sliceHeads(y, 0, G), { offset }), sliceHeads(y, G, H)));
      q = rot(q); k = rot(k);
    }
    return [q, k, v];
  }

  /** x [B, L, D] → [B, L, D]. keyMask [B, L] (0 = pad). */
  forward(x: Var, keyMask?: ArrayLike<number>): Var {
    const [q, k, v] = this.project(x, 0);
    const G = this.globalHeads, H = this.heads;
    if (G === H) return this.wo.forward(mergeHeads(this.globalAttention(q, k, v, keyMask)));
    const local = localAttentionOp(sliceHeads(q, G, H), sliceHeads(k, G, H), sliceHeads(v, G, H), {
      window: this.opts.localWindow, causal: this.opts.causal, keyMask, paddedRows: this.numerics === 'performer-pytorch',
    });
    if (G === 0) return this.wo.forward(mergeHeads(local));
    const global = this.globalAttention(sliceHeads(q, 0, G), sliceHeads(k, 0, G), sliceHeads(v, 0, G), keyMask);
    return this.wo.forward(mergeHeads(concatHeads(global, local)));
  }

  /** The global heads' attention: FAVOR+ (our numerics or performer-pytorch's) or exact. */
  private globalAttention(q: Var, k: Var, v: Var, keyMask: ArrayLike<number> | undefined): Var {
    const { causal, featureMap } = this.opts;
    if (this.projection && this.numerics === 'performer-pytorch') {
      if (featureMap !== 'softmax' && featureMap !== 'relu') throw new Error(`performer-pytorch numerics exist for the softmax and relu feature maps, not ${featureMap}`);
      return performerPytorchAttention(q, k, v, { projection: this.projection.data, featureMap, causal, keyMask, chunk: this.opts.chunk });
    }
    if (!this.projection) return exactAttentionOp(q, k, v, { causal, keyMask });
    const oprfA = this.oprfA ? Float64Array.from(this.oprfA.data) : undefined;
    const o = favorAttentionOp(q, k, v, { projection: this.projection, featureMap, causal, keyMask, chunk: this.opts.chunk, oprfA });
    if (this.oprfA && this.training) this.updateOprfA(q, k, keyMask);
    return o;
  }

  /** The running average of A* after a training batch (see oprfA). */
  private updateOprfA(q: Var, k: Var, keyMask: ArrayLike<number> | undefined): void {
    const [B, G, L, dh] = q.shape as [number, number, number, number];
    const batch = oprfCoefficients(q.data, k.data, { B, H: G, Lq: L, Lk: L, d: dh }, keyMask);
    const a = Float64Array.from(this.oprfA!.data);
    for (let h = 0; h < G; h++) {
      let mean = 0;
      for (let b = 0; b < B; b++) mean += batch[b * G + h]! / B;
      a[h] = (1 - OPRF_MOMENTUM) * a[h]! + OPRF_MOMENTUM * mean;
    }
    this.oprfA!.data = this.dtype === 'float64' ? a : Float32Array.from(a);
  }

  /** A fresh decoding state for `step` (causal layers only; see ./step-state.ts). */
  startDecoding(): AttentionState {
    if (!this.opts.causal) throw new Error('a bidirectional attention layer cannot decode step by step (every position sees the ones after it)');
    return new AttentionState(layerCache(this));
  }

  /**
   * x [1, R, D], the R positions after those `state` holds → the rows of `forward` at those positions
   * (evaluation mode; outside the tape). Attention runs one position at a time through the state:
   * the FAVOR+ recurrence of docs/MATH.md, "Recurrent", or the exact KV cache.
   */
  step(x: Var, state: AttentionState): Var {
    if (x.rank !== 3 || x.shape[0] !== 1) throw new Error(`attention step takes x [1, R, D] (batch 1), got ${formatShape(x.shape)}`);
    state.check();
    return noGrad(() => {
      const [q, k, v] = this.project(x, state.position); // [1, H, R, dh]
      const H = this.heads, dh = this.headDim, R = x.shape[1]!;
      const o = new Var(q.shape, alloc(q.data, q.size));
      if (R === 1) state.cache.step(q.data, k.data, v.data, o.data, 0); // [1, H, 1, dh] is one row [H·dh]
      else {
        const [qr, kr, vr, or] = [0, 1, 2, 3].map(() => alloc(q.data, H * dh)) as [Floats, Floats, Floats, Floats];
        for (let r = 0; r < R; r++) {
          gatherRow(q.data, qr, H, R, dh, r); gatherRow(k.data, kr, H, R, dh, r); gatherRow(v.data, vr, H, R, dh, r);
          state.cache.step(qr, kr, vr, or, 0);
          for (let h = 0; h < H; h++) o.data.set(or.subarray(h * dh, (h + 1) * dh), (h * R + r) * dh);
        }
      }
      state.position += R;
      return this.wo.forward(R === 1 ? reshape(o, [1, 1, this.innerDim]) : mergeHeads(o));
    });
  }
}

/** Position r of src [H, R, dh] → dst [H·dh]. */
function gatherRow(src: Floats, dst: Floats, H: number, R: number, dh: number, r: number): void {
  for (let h = 0; h < H; h++) dst.set(src.subarray((h * R + r) * dh, (h * R + r + 1) * dh), h * dh);
}
