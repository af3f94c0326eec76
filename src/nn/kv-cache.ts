// Per-layer attention state for incremental (one position at a time) causal decoding.
//
// - FAVOR+ layers: one FavorRecurrentState (batch 1, all heads) built on the layer's own projection
//   buffer and feature map. Constant time and memory per token, whatever the context length.
// - Local heads (the last ones of a layer that has them): the ring of their last 2w − 1 keys and
//   values (./local-cache.ts), beside the global heads' state.
// - Exact layers: a KV cache (keys and values of every position so far, [t, H·dh]), attention of the
//   new query over the cache: O(t) time per token and O(t) memory, as exact attention must be.
//
// Both take the current position's q, k, v rows laid out [H·dh] (heads contiguous, the layout of one
// row of the Q/K/V projections, i.e. [1, H, dh]) with rotary already applied, and write out [H·dh].
import type { Floats } from '../tensor/floats.js';
import { FavorRecurrentState } from '../favor/recurrent.js';
import { expScores, scoreRow, weightedValues } from '../kernels/reference/exact.js';
import { Tensor } from '../tensor/tensor.js';
import type { MultiHeadAttention } from './attention.js';
import { LocalWindowCache } from './local-cache.js';

export interface LayerCache {
  /** Bytes held for the context (fixed for FAVOR+, growing with the context for exact). */
  readonly stateBytes: number;
  /** Forgets the context; a FAVOR+ cache also picks up a projection redrawn since it was built. */
  reset(): void;
  /** Throws (changing nothing) if the cache can no longer continue its context. */
  check(): void;
  /** Appends this position's k, v and writes the attention output for q into out[outOff ..). */
  step(q: Floats, k: Floats, v: Floats, out: Floats, outOff: number): void;
}

export function layerCache(attn: MultiHeadAttention): LayerCache {
  const G = attn.globalHeads;
  const global = G === 0 ? undefined : attn.projection ? new FavorLayerCache(attn) : new ExactKVCache(G, attn.headDim);
  if (G === attn.heads) return global!;
  return new SplitLayerCache(global, new LocalWindowCache(attn.heads - G, attn.headDim, attn.opts.localWindow), G * attn.headDim);
}

/** A layer with local heads: its first heads' rows [0, split) go to the global cache, the rest to the local window. */
class SplitLayerCache implements LayerCache {
  constructor(private readonly global: LayerCache | undefined, private readonly local: LocalWindowCache, private readonly split: number) {}

  get stateBytes(): number {
    return (this.global?.stateBytes ?? 0) + this.local.stateBytes;
  }

  reset(): void {
    this.global?.reset();
    this.local.reset();
  }

  check(): void {
    this.global?.check();
  }

  step(q: Floats, k: Floats, v: Floats, out: Floats, outOff: number): void {
    const n = this.split;
    this.global?.step(q.subarray(0, n), k.subarray(0, n), v.subarray(0, n), out, outOff);
    this.local.step(q, n, k, v, out, outOff + n);
  }
}

function asF32(src: Floats, scratch: Float32Array): Float32Array {
  if (src instanceof Float32Array) return src;
  scratch.set(src);
  return scratch;
}

/** FAVOR+ layer: the recurrent (S, z, M) state of docs/MATH.md, "Recurrent". */
export class FavorLayerCache implements LayerCache {
  private state!: FavorRecurrentState;
  private source!: Floats; // the projection array the state was built on
  private readonly qs: Float32Array;
  private readonly ks: Float32Array;
  private readonly vs: Float32Array;

  constructor(private readonly attn: MultiHeadAttention) {
    const n = attn.globalHeads * attn.headDim;
    this.qs = new Float32Array(n); this.ks = new Float32Array(n); this.vs = new Float32Array(n);
    this.build();
  }

  private build(): void {
    const p = this.attn.projection!;
    this.source = p.data;
    // float32 models share the buffer; float64 ones (checks only) get a float32 copy
    const w = p.data instanceof Float32Array ? p.data : Float32Array.from(p.data);
    this.state = new FavorRecurrentState({
      batch: 1, heads: this.attn.globalHeads, valueDim: this.attn.headDim,
      projection: new Tensor(p.shape, w), featureMap: this.attn.opts.featureMap,
      oprfA: this.attn.oprfA ? Array.from(this.attn.oprfA.data) : undefined, // frozen while decoding
    });
  }

  get stateBytes(): number {
    return this.state.stateBytes;
  }

  reset(): void {
    if (this.attn.projection!.data !== this.source) this.build();
    else this.state.reset();
  }

  check(): void {
    if (this.attn.projection!.data !== this.source) {
      throw new Error('the FAVOR+ projection was redrawn since this decoder started; call reset() (the context is lost)');
    }
  }

  step(q: Floats, k: Floats, v: Floats, out: Floats, outOff: number): void {
    this.check();
    const H = this.attn.globalHeads, dh = this.attn.headDim;
    const o = this.state.step(
      new Tensor([1, H, dh], asF32(q, this.qs)), new Tensor([1, H, dh], asF32(k, this.ks)), new Tensor([1, H, dh], asF32(v, this.vs)),
    );
    for (let i = 0; i < o.data.length; i++) out[outOff + i] = o.data[i]!;
  }
}

/** Exact causal softmax attention over a growing cache of keys and values. */
export class ExactKVCache implements LayerCache {
  private keys: Float32Array;
  private values: Float32Array;
  private scores: Float64Array;
  private readonly num: Float64Array;
  private t = 0;
  private readonly width: number;

  constructor(private readonly heads: number, private readonly headDim: number, private readonly initialCapacity = 16) {
    this.width = heads * headDim;
    this.keys = new Float32Array(initialCapacity * this.width);
    this.values = new Float32Array(initialCapacity * this.width);
    this.scores = new Float64Array(initialCapacity);
    this.num = new Float64Array(headDim);
  }

  /** Positions held. */
  get length(): number {
    return this.t;
  }

  /** Allocated bytes of the key and value caches (capacity doubles as the context grows). */
  get stateBytes(): number {
    return (this.keys.length + this.values.length) * 4;
  }

  check(): void {}

  reset(): void {
    this.t = 0;
    this.keys = new Float32Array(this.initialCapacity * this.width);
    this.values = new Float32Array(this.initialCapacity * this.width);
    this.scores = new Float64Array(this.initialCapacity);
  }

  private grow(): void {
    const cap = this.scores.length * 2;
    const k = new Float32Array(cap * this.width), v = new Float32Array(cap * this.width);
    k.set(this.keys); v.set(this.values);
    this.keys = k; this.values = v;
    this.scores = new Float64Array(cap);
  }

  step(q: Floats, k: Floats, v: Floats, out: Floats, outOff: number): void {
    if (this.t === this.scores.length) this.grow();
    const { width: D, headDim: dh, keys: K, values: V, scores, num } = this;
    const t = this.t++;
    for (let c = 0; c < D; c++) { K[t * D + c] = k[c]!; V[t * D + c] = v[c]!; }
    for (let h = 0; h < this.heads; h++) {
      const ho = h * dh;
      const max = scoreRow(q, ho, K, ho, D, dh, t, scores);
      const den = expScores(scores, t, max);
      weightedValues(scores, t, V, ho, D, num);
      for (let c = 0; c < dh; c++) out[outOff + ho + c] = num[c]! / den;
    }
  }
}
