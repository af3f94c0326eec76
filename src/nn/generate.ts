// Incremental decoding and text generation for PerformerLM.
//
// The decoder runs the model through its `step` methods (./step-state.ts), one position at a time
// or a few at once for a prompt. FAVOR+ layers carry the O(1)-memory recurrent state, exact layers a
// KV cache, token-shifted blocks the previous row's shifted features; every other part is the
// model's own forward on the new rows, so the logits equal those of the full causal forward at
// every position (up to float32 rounding in attention). Decoding always has evaluation semantics:
// no dropout and no feature redraws, whatever model.training.
import { noGrad } from '../autograd/tape.js';
import { Var } from '../autograd/var.js';
import { Rng } from '../tensor/rng.js';
import type { PerformerLM } from './models.js';
import { sample, validateSampling, type SamplingOptions } from './sampling.js';
import type { ModelState } from './step-state.js';

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

class LMDecoder implements Decoder {
  private readonly state: ModelState;

  constructor(readonly model: PerformerLM) {
    this.state = model.startDecoding();
  }

  get length(): number {
    return this.state.position;
  }

  get stateBytes(): number {
    return this.state.bytes;
  }

  reset(): void {
    this.state.reset();
  }

  feed(tokenId: number): Float32Array {
    return this.feedMany([tokenId]);
  }

  feedMany(tokenIds: ArrayLike<number>): Float32Array {
    const h = this.model.step(Array.from(tokenIds), this.state); // [1, R, D]
    const D = this.model.cfg.dim, R = h.size / D;
    const logits = noGrad(() => this.model.logits(new Var([1, 1, D], h.data.slice((R - 1) * D))).data);
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
  if (model.hasPositionTable && tokens > 0 && n + tokens - 1 > model.cfg.maxLen) {
    throw new Error(
      `a ${n}-token prompt plus ${tokens} generated tokens needs ${n + tokens - 1} positions, but the model's ` +
      `${model.pos ? 'learned' : 'sinusoidal'} position table holds maxLen = ${model.cfg.maxLen} (models with rotary or no positions have no limit)`,
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
