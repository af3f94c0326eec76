// Masked language modelling, BERT-style. Of the maskable tokens (regular tokens and unk; never pad,
// bos, eos, mask) each is chosen with probability 0.15; a chosen token becomes mask (80%), a random
// regular token (10%) or stays (10%). Targets are the original id where chosen, IGNORE_INDEX elsewhere.
import type { Rng } from '../tensor/rng.js';
import { DataError } from './corpus.js';
import { IGNORE_INDEX } from './ignore-index.js';
import type { Tokenizer } from './tokenizer.js';

export interface MlmOptions {
  /** Chance that a maskable token is chosen. Default 0.15. */
  prob?: number;
  /** Of the chosen: share replaced by mask (default 0.8) and by a random regular token (default 0.1); the rest stay. */
  maskShare?: number;
  randomShare?: number;
  ignoreIndex?: number;
}

/** BERT-style masking of `ids` with draws from `rng` (deterministic given the rng's state). */
export function maskTokens(
  ids: Int32Array,
  tokenizer: Tokenizer,
  rng: Rng,
  opts: MlmOptions = {},
): { inputs: Int32Array; targets: Int32Array; numTargets: number } {
  const prob = opts.prob ?? 0.15, maskShare = opts.maskShare ?? 0.8, randomShare = opts.randomShare ?? 0.1;
  const ignore = opts.ignoreIndex ?? IGNORE_INDEX;
  if (!(prob >= 0 && prob <= 1)) throw new DataError(`masking probability must be in [0, 1], got ${prob}`);
  if (!(maskShare >= 0 && randomShare >= 0 && maskShare + randomShare <= 1)) {
    throw new DataError(`mask and random shares must be non-negative with a sum of at most 1, got ${maskShare} and ${randomShare}`);
  }
  const inputs = Int32Array.from(ids);
  const targets = new Int32Array(ids.length).fill(ignore);
  const R = tokenizer.numRegular;
  let numTargets = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < R) && id !== tokenizer.unk) continue;
    if (rng.uniform() >= prob) continue;
    targets[i] = id;
    numTargets++;
    const r = rng.uniform();
    if (r < maskShare) inputs[i] = tokenizer.mask;
    else if (r < maskShare + randomShare) inputs[i] = rng.below(R);
  }
  return { inputs, targets, numTargets };
}
