// Incremental decoding and text generation for PerformerLM.
//
// The decoder runs the model one position at a time (or a few at once for a prompt), outside the
// autograd tape, and keeps per-layer attention state (./kv-cache.ts): FAVOR+ layers carry the
// O(1)-memory recurrent state, exact layers a KV cache. Everything else (embeddings, LayerNorm,
// projections, FFN, output head) reuses the model's own modules on the new rows only, so the logits
// equal those of the full causal forward at every position (up to float32 rounding in attention).
// Decoding always has evaluation semantics: no dropout and no feature redraws, whatever model.training.
import { add, matmul, ropeApply } from '../autograd/ops.js';
import { noGrad } from '../autograd/tape.js';
import type { Floats } from '../tensor/floats.js';
import { alloc, Var } from '../autograd/var.js';
import { Rng } from '../tensor/rng.js';
import { layerCache, type LayerCache } from './kv-cache.js';
import type { PerformerLM } from './models.js';
import { sample, validateSampling, type SamplingOptions } from './sampling.js';

/** RoPE base of MultiHeadAttention (the `rope` op's default). */
const ROPE_BASE = 10000;

export interface Decoder {
  readonly model: PerformerLM;
  /** Positions consumed so far (the position of the next token fed). */
  readonly length: number;
  /** Bytes of context state across all layers (attention state and any token-shift carry): constant
   *  for FAVOR+, growing for exact attention. */
  readonly stateBytes: number;
  /** Consumes one token; returns the next-token logits [vocabSize] (float32). */
  feed(tokenId: number): Float32Array;
  /**
   * Consumes several tokens at once (a prompt): the matmuls run on all rows together, attention
   * steps through them in order. Returns the logits after the last one. Same result as feeding
   * them one by one.
   */
  feedMany(tokenIds: ArrayLike<number>): Float32Array;
  /** Forgets the context (and picks up FAVOR+ projections redrawn since the decoder was made). */
  reset(): void;
}

/**
 * Token shift across decoder calls: the shifted features of the last row seen, per layer, for the
 * attention input and the FFN input (Block.forward shifts both).
 */
class ShiftCarry {
  readonly attn: Float32Array;
  readonly ff: Float32Array;
  constructor(readonly channels: number) {
    this.attn = new Float32Array(channels);
    this.ff = new Float32Array(channels);
  }

  /** h [R, D] in place: rows take the previous row's last `channels` features, row 0 the carry's. */
  shift(h: Floats, R: number, D: number, carry: Float32Array): void {
    const s = this.channels, keep = D - s;
    if (s === 0) return;
    const last = h.slice((R - 1) * D + keep, R * D);
    for (let r = R - 1; r > 0; r--) h.copyWithin(r * D + keep, (r - 1) * D + keep, r * D);
    h.set(carry, keep);
    carry.set(last);
  }

  reset(): void {
    this.attn.fill(0);
    this.ff.fill(0);
  }
}

class LMDecoder implements Decoder {
  private readonly caches: LayerCache[];
  private readonly shifts: ShiftCarry[];
  private pos = 0;

  constructor(readonly model: PerformerLM) {
    this.caches = model.blocks.map((b) => layerCache(b.attn));
    this.shifts = model.blocks.map((b) => new ShiftCarry(b.shiftedChannels));
  }

  get length(): number {
    return this.pos;
  }

  get stateBytes(): number {
    return this.caches.reduce((n, c) => n + c.stateBytes, 0) + this.shifts.reduce((n, s) => n + 8 * s.channels, 0);
  }

  reset(): void {
    for (const c of this.caches) c.reset();
    for (const s of this.shifts) s.reset();
    this.pos = 0;
  }

  feed(tokenId: number): Float32Array {
    return this.feedMany([tokenId]);
  }

  feedMany(tokenIds: ArrayLike<number>): Float32Array {
    const model = this.model, cfg = model.cfg;
    const R = tokenIds.length;
    if (R === 0) throw new Error('feedMany needs at least one token');
    for (let r = 0; r < R; r++) {
      const id = tokenIds[r]!;
      if (!Number.isInteger(id) || id < 0 || id >= cfg.vocabSize) throw new Error(`token id ${id} is out of range [0, ${cfg.vocabSize})`);
    }
    const start = this.pos;
    if (model.pos && start + R > cfg.maxLen) {
      throw new Error(
        `position ${start + R - 1} is beyond the learned position table (maxLen ${cfg.maxLen}); ` +
        `models with rotary or no positions have no such limit`,
      );
    }
    for (const c of this.caches) c.check();
    const ids = Array.from(tokenIds);
    const logits = noGrad(() => {
      const D = cfg.dim;
      let x = model.tok.forward(ids, [1, R]);
      if (model.pos) x = add(x, model.pos.forward(ids.map((_, r) => start + r), [R]));
      for (let li = 0; li < model.blocks.length; li++) {
        const b = model.blocks[li]!, attn = b.attn, cache = this.caches[li]!, shift = this.shifts[li]!;
        const h = b.ln1.forward(x);
        shift.shift(h.data, R, D, shift.attn);
        const q = attn.wq.forward(h), k = attn.wk.forward(h), v = attn.wv.forward(h); // [1, R, H·dh]
        const o = new Var([1, R, D], alloc(q.data, R * D));
        for (let r = 0; r < R; r++) {
          const qr = q.data.subarray(r * D, (r + 1) * D), kr = k.data.subarray(r * D, (r + 1) * D);
          if (attn.opts.rotary) { // [H, dh] rows, all at absolute position start + r
            ropeApply(qr, qr, 1, attn.headDim, start + r, ROPE_BASE, 1);
            ropeApply(kr, kr, 1, attn.headDim, start + r, ROPE_BASE, 1);
          }
          cache.step(qr, kr, v.data.subarray(r * D, (r + 1) * D), o.data, r * D);
        }
        x = add(x, attn.wo.forward(o));
        const h2 = b.ln2.forward(x);
        shift.shift(h2.data, R, D, shift.ff);
        x = add(x, b.ff.forward(h2));
      }
      const last = new Var([1, 1, D], x.data.slice((R - 1) * D, R * D));
      const hf = model.lnF.forward(last);
      return (model.head ? model.head.forward(hf) : matmul(hf, model.tok.weight, { transB: true })).data;
    });
    this.pos += R;
    return logits instanceof Float32Array ? logits : Float32Array.from(logits);
  }
}

/**
 * An incremental decoder for `model` (batch 1). It reads the model's parameters live, so it follows
 * training updates, but its context state was built with the old weights: reset() after changing them.
 */
export function createDecoder(model: PerformerLM): Decoder {
  return new LMDecoder(model);
}

export interface GenerateOptions extends SamplingOptions {
  /** How many tokens to generate (integer ≥ 0). */
  tokens: number;
  /** Sampling seed (default 0): the same seed, model and prompt give the same tokens. */
  seed?: number;
  /** Called after each generated token; return false to stop early. */
  onToken?: (id: number, index: number) => boolean | void;
}

export interface GenerateResult {
  /** The generated ids (the prompt not included). */
  ids: number[];
  /**
   * Milliseconds per generated token: entry i is one decoder step (the token at position
   * prompt.length − 1 + i) plus sampling token i, so every entry is the cost of one position.
   */
  msPerToken: number[];
  /** Milliseconds to feed the prompt up to its last token (that one is step 0 of msPerToken). */
  promptMs: number;
}

/** The Rng stream used for sampling (so a seed shared with model init draws unrelated numbers). */
export const SAMPLING_STREAM = 0x5a3b1e;

function now(): number {
  return globalThis.performance ? globalThis.performance.now() : Date.now();
}

/** Generates `tokens` ids after `promptIds` (at least one token) with temperature / top-k / top-p sampling. */
export function generate(model: PerformerLM, promptIds: ArrayLike<number>, opts: GenerateOptions): GenerateResult {
  const { tokens, seed = 0, onToken } = opts;
  validateSampling(opts);
  if (!Number.isInteger(tokens) || tokens < 0) throw new Error(`tokens must be an integer >= 0, got ${tokens}`);
  const n = promptIds.length;
  if (n === 0) throw new Error('the prompt must contain at least one token');
  if (model.pos && tokens > 0 && n + tokens - 1 > model.cfg.maxLen) {
    throw new Error(
      `a ${n}-token prompt plus ${tokens} generated tokens needs ${n + tokens - 1} positions, but the model's ` +
      `learned position table holds maxLen = ${model.cfg.maxLen} (models with rotary or no positions have no limit)`,
    );
  }
  const rng = new Rng(seed, SAMPLING_STREAM);
  const dec = createDecoder(model);
  const ids: number[] = [], msPerToken: number[] = [];
  let t0 = now();
  if (n > 1) dec.feedMany(Array.from(promptIds).slice(0, n - 1));
  else if (!(Number.isInteger(promptIds[0]) && promptIds[0]! >= 0 && promptIds[0]! < model.cfg.vocabSize)) {
    throw new Error(`token id ${promptIds[0]} is out of range [0, ${model.cfg.vocabSize})`);
  }
  const promptMs = now() - t0;
  let next = promptIds[n - 1]!;
  for (let i = 0; i < tokens; i++) {
    t0 = now();
    const logits = dec.feed(next);
    next = sample(logits, opts, rng);
    msPerToken.push(now() - t0);
    ids.push(next);
    if (onToken && onToken(next, i) === false) break;
  }
  return { ids, msPerToken, promptMs };
}

/** Mean ms/token over the first and the last `fraction` (default 10%, at least one) of the tokens. */
export function timingSummary(msPerToken: readonly number[], fraction = 0.1): { count: number; first: number; last: number; mean: number } {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`fraction must be in (0, 1], got ${fraction}`);
  const N = msPerToken.length;
  if (N === 0) return { count: 0, first: NaN, last: NaN, mean: NaN };
  const c = Math.max(1, Math.round(N * fraction));
  const mean = (a: readonly number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
  return { count: c, first: mean(msPerToken.slice(0, c)), last: mean(msPerToken.slice(N - c)), mean: mean(msPerToken) };
}
