// Next-token sampling from logits: temperature, top-k and top-p (nucleus), seeded by the
// counter-based Rng so the same seed gives the same tokens.
//
// Order of operations (as in most LM toolkits): p ∝ exp(z / T); keep the k most probable tokens;
// of those, keep the smallest most-probable prefix whose (renormalised) mass reaches p; renormalise
// and draw. Temperature 0 is greedy decoding (argmax; top-k and top-p then change nothing). Ties are
// broken towards the lower token id everywhere, so every step is deterministic given the Rng.
import type { Rng } from '../tensor/rng.js';

export interface SamplingOptions {
  /** ≥ 0; 0 = greedy argmax. Default 1. */
  temperature?: number;
  /** Keep only the k most probable tokens (integer ≥ 1; k ≥ vocabulary size keeps all). */
  topK?: number;
  /** Keep the smallest set of most probable tokens whose mass reaches p, 0 < p ≤ 1. Default 1. */
  topP?: number;
}

/** Throws a clear error for an invalid temperature, top-k or top-p. */
export function validateSampling(opts: SamplingOptions): void {
  const { temperature, topK, topP } = opts;
  if (temperature !== undefined && !(typeof temperature === 'number' && Number.isFinite(temperature) && temperature >= 0)) {
    throw new Error(`temperature must be a finite number >= 0 (0 = greedy), got ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) {
    throw new Error(`topK must be an integer >= 1, got ${topK}`);
  }
  if (topP !== undefined && !(typeof topP === 'number' && topP > 0 && topP <= 1)) {
    throw new Error(`topP must be in (0, 1], got ${topP}`);
  }
}

function checkLogits(logits: ArrayLike<number>): void {
  if (logits.length === 0) throw new Error('cannot sample from empty logits');
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    if (Number.isNaN(z) || z === Infinity) throw new Error(`logit ${i} is ${z}; logits must be finite or -Infinity`);
  }
}

/** Index of the largest logit (the lowest such index on ties). */
export function argmax(logits: ArrayLike<number>): number {
  checkLogits(logits);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (logits[best] === -Infinity) throw new Error('every logit is -Infinity');
  return best;
}

/**
 * The distribution that `sample` draws from: probabilities over the whole vocabulary (float64,
 * summing to 1), zero outside the top-k / top-p set. With temperature 0, one-hot on the argmax.
 */
export function samplingDistribution(logits: ArrayLike<number>, opts: SamplingOptions = {}): Float64Array {
  validateSampling(opts);
  const V = logits.length;
  const out = new Float64Array(V);
  const T = opts.temperature ?? 1;
  if (T === 0) {
    out[argmax(logits)] = 1;
    return out;
  }
  checkLogits(logits);
  let max = -Infinity;
  for (let i = 0; i < V; i++) if (logits[i]! > max) max = logits[i]!;
  if (max === -Infinity) throw new Error('every logit is -Infinity');
  let total = 0;
  for (let i = 0; i < V; i++) {
    const p = Math.exp((logits[i]! - max) / T); // the max term is 1, so total ≥ 1
    out[i] = p;
    total += p;
  }
  const k = opts.topK ?? V;
  const p = opts.topP ?? 1;
  if (k < V || p < 1) {
    // Most probable first, lower id first on ties (stable sort of the ids).
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => out[b]! - out[a]! || a - b);
    let keep = Math.min(k, V);
    let kept = 0;
    for (let r = 0; r < keep; r++) kept += out[order[r]!]!;
    if (p < 1) {
      // Smallest prefix whose mass reaches p of the top-k mass (always at least one token).
      const target = p * kept;
      let cum = 0, n = 0;
      while (n < keep) {
        cum += out[order[n]!]!;
        n++;
        if (cum >= target) break;
      }
      keep = n;
    }
    for (let r = keep; r < V; r++) out[order[r]!] = 0;
    total = 0;
    for (let r = 0; r < keep; r++) total += out[order[r]!]!;
  }
  for (let i = 0; i < V; i++) out[i] = out[i]! / total;
  return out;
}

/** Draws one token id from the logits (one rng.uniform() per call; none when greedy). */
export function sample(logits: ArrayLike<number>, opts: SamplingOptions, rng: Rng): number {
  if ((opts.temperature ?? 1) === 0) {
    validateSampling(opts);
    return argmax(logits);
  }
  const probs = samplingDistribution(logits, opts);
  const u = rng.uniform();
  let cum = 0, last = -1;
  for (let i = 0; i < probs.length; i++) {
    const q = probs[i]!;
    if (q === 0) continue;
    cum += q;
    last = i;
    if (u < cum) return i;
  }
  return last; // u beyond the rounded total: the last token with non-zero probability
}
