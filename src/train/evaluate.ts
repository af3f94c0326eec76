// Evaluation of trained models on a whole corpus, every token counted once.
//
// LM: evalBatches' non-overlapping windows; each token after the first of the stream is predicted
// once from the tokens before it in its window (a context of up to seqLen − 1 tokens, reset at each
// window boundary). loss = mean −ln p(target) in nats/token; accuracy = share of targets that are the
// argmax (lowest id on ties).
//
// MLM: non-overlapping windows of seqLen tokens covering the stream; each window is run
// `MLM_EVAL_GROUPS` (7) times, pass g replacing the maskable tokens at positions i ≡ g (mod 7) by the
// mask token (1/7 ≈ 14% masked, close to the 15% of training; no random/kept replacements). So every
// maskable token (regular or unk; not pad/bos/eos/mask) is predicted exactly once. The last window
// is padded and its padding masked out of attention.
//
// Byte tokenizer: `characters` counts the targets that start a UTF-8 character (bytes other than
// 0x80–0xBF), so bitsPerCharacter = total bits / characters is exact for any text.

import { noGrad } from '../autograd/tape.js';
import { numDocuments, type TokenCorpus } from '../data/corpus.js';
import { countEvalWindows, evalBatches } from '../data/eval-windows.js';
import { PerformerEncoder, type PerformerLM } from '../nn/models.js';
import type { Floats } from '../tensor/floats.js';
import type { TrainModel } from './config.js';

export const MLM_EVAL_GROUPS = 7;

export interface EvalOptions {
  seqLen: number;
  batchSize: number;
  /** Evaluate only the first this many windows (0 or absent: all). */
  maxWindows?: number;
  /** Called after each batch with the windows done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface EvalResult {
  /** Mean negative log-likelihood, nats per predicted token. */
  loss: number;
  bitsPerToken: number;
  /** Share of predicted tokens whose argmax is right. */
  accuracy: number;
  /** Tokens predicted. */
  tokens: number;
  /** Byte tokenizer only: predicted tokens that begin a UTF-8 character, and the bits per character. */
  characters?: number;
  bitsPerCharacter?: number;
}

class Tally {
  nll = 0;
  correct = 0;
  tokens = 0;
  chars = 0;
  constructor(private readonly countChars: boolean) {}

  /** Adds rows of logits [rows, V] against targets (rows with target < 0 skipped). */
  add(logits: Floats, V: number, targets: ArrayLike<number>): void {
    for (let r = 0; r < targets.length; r++) {
      const t = targets[r]!;
      if (t < 0) continue;
      const off = r * V;
      let mx = -Infinity, best = 0;
      for (let c = 0; c < V; c++) {
        const z = logits[off + c]!;
        if (z > mx) { mx = z; best = c; }
      }
      let s = 0;
      for (let c = 0; c < V; c++) s += Math.exp(logits[off + c]! - mx);
      this.nll += mx + Math.log(s) - logits[off + t]!;
      if (best === t) this.correct++;
      this.tokens++;
      if (this.countChars && !(t >= 0x80 && t <= 0xbf)) this.chars++;
    }
  }

  result(): EvalResult {
    if (this.tokens === 0) throw new Error('nothing to evaluate: no token to predict');
    const loss = this.nll / this.tokens;
    const out: EvalResult = { loss, bitsPerToken: loss / Math.LN2, accuracy: this.correct / this.tokens, tokens: this.tokens };
    if (this.countChars && this.chars > 0) {
      out.characters = this.chars;
      out.bitsPerCharacter = this.nll / Math.LN2 / this.chars;
    }
    return out;
  }
}

/** Runs fn with the model in eval mode and no tape, restoring its mode after. */
function evalMode<T>(model: TrainModel, fn: () => T): T {
  const was = model.training;
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    model.train(was);
  }
}

/** Causal-LM evaluation over the whole corpus (see the file comment). */
export function evaluateLM(model: PerformerLM, corpus: TokenCorpus, opts: EvalOptions): EvalResult {
  const tally = new Tally(corpus.tokenizer.name === 'byte');
  const V = model.cfg.vocabSize;
  let total = countEvalWindows(corpus, opts.seqLen);
  if (opts.maxWindows) total = Math.min(total, opts.maxWindows);
  let done = 0;
  return evalMode(model, () => {
    for (const b of evalBatches(corpus, { seqLen: opts.seqLen, batchSize: opts.batchSize, ...(opts.maxWindows ? { maxWindows: opts.maxWindows } : {}) })) {
      // A model without the special ids (an imported 256-token byte model) reads 0 where the last
      // window is padded: the padding follows the real tokens, so a causal model's logits there
      // do not depend on it, and its targets are ignored.
      const pad = corpus.tokenizer.pad;
      const inputs = pad >= V ? b.inputs.map((id) => (id === pad ? 0 : id)) : b.inputs;
      const logits = model.forward(inputs, b.batchSize, b.seqLen);
      tally.add(logits.data, V, b.targets);
      done += b.batchSize;
      opts.onProgress?.(done, total);
    }
    return tally.result();
  });
}

/** Masked-LM evaluation over the whole corpus (see the file comment). */
export function evaluateMLM(model: PerformerEncoder, corpus: TokenCorpus, opts: EvalOptions): EvalResult {
  const tok = corpus.tokenizer;
  const tally = new Tally(tok.name === 'byte');
  const V = model.cfg.vocabSize, T = opts.seqLen, B = opts.batchSize, G = MLM_EVAL_GROUPS;
  const n = corpus.tokens.length;
  if (numDocuments(corpus) === 0 || n === 0) throw new Error('nothing to evaluate: the corpus is empty');
  const maskable = (id: number): boolean => (id >= 0 && id < tok.numRegular) || id === tok.unk;
  let windows = Math.ceil(n / T);
  if (opts.maxWindows) windows = Math.min(windows, opts.maxWindows);
  return evalMode(model, () => {
    for (let w0 = 0; w0 < windows; w0 += B) {
      const rows = Math.min(B, windows - w0);
      const base = new Int32Array(rows * T).fill(tok.pad);
      const keyMask = new Float32Array(rows * T);
      for (let r = 0; r < rows; r++) {
        const s = (w0 + r) * T, e = Math.min(n, s + T);
        base.set(corpus.tokens.subarray(s, e), r * T);
        keyMask.fill(1, r * T, r * T + (e - s));
      }
      for (let g = 0; g < G; g++) {
        const inputs = Int32Array.from(base);
        const targets = new Int32Array(rows * T).fill(-1);
        let any = false;
        for (let r = 0; r < rows; r++) {
          for (let i = g; i < T; i += G) {
            const j = r * T + i, id = base[j]!;
            if (keyMask[j] === 0 || !maskable(id)) continue;
            targets[j] = id;
            inputs[j] = tok.mask;
            any = true;
          }
        }
        if (!any) continue;
        const logits = model.mlmLogits(model.hidden(inputs, rows, T, keyMask));
        tally.add(logits.data, V, targets);
      }
      opts.onProgress?.(w0 + rows, windows);
    }
    return tally.result();
  });
}

/** evaluateLM or evaluateMLM, by the model's class. */
export function evaluateModel(model: TrainModel, corpus: TokenCorpus, opts: EvalOptions): EvalResult {
  return model instanceof PerformerEncoder ? evaluateMLM(model, corpus, opts) : evaluateLM(model, corpus, opts);
}
