// Training batches, a pure function of (seed, step): step s draws its windows from
// new Rng(deriveSeed(seed, 'lm-batches'), s), so a resumed run sees exactly the batches of a
// straight run. Windows are [batch, seqLen + 1] tokens: inputs = first seqLen, targets = last
// seqLen. `packed` windows start anywhere in the token stream (crossing document boundaries, which
// are marked by eos/bos); `document` windows are random crops of one document chosen uniformly,
// padded with pad (targets IGNORE_INDEX) when the document is shorter.
import { deriveSeed, Rng } from '../tensor/rng.js';
import { checkPositiveInt, checkSeed, DataError, numDocuments, type TokenCorpus } from './corpus.js';
import { IGNORE_INDEX } from './ignore-index.js';
import { maskTokens, type MlmOptions } from './masking.js';

export type WindowMode = 'packed' | 'document';

export interface BatcherOptions {
  batchSize: number;
  /** Tokens of input per row; each window has seqLen + 1 tokens. */
  seqLen: number;
  seed: number;
  /** Default 'packed'. */
  mode?: WindowMode;
  /** Target of padded positions. Default IGNORE_INDEX. */
  ignoreIndex?: number;
}

export interface LmBatch {
  step: number;
  batchSize: number;
  seqLen: number;
  /** [batchSize, seqLen + 1] windows (padded with pad in document mode). */
  windows: Int32Array;
  /** [batchSize, seqLen]: windows without their last token. */
  inputs: Int32Array;
  /** [batchSize, seqLen]: windows without their first token; ignoreIndex at padding. */
  targets: Int32Array;
  /** Token offset of each window in the corpus. */
  starts: Int32Array;
  /** Number of targets that are not ignoreIndex. */
  numTargets: number;
}

export interface MlmBatch {
  step: number;
  batchSize: number;
  seqLen: number;
  /** [batchSize, seqLen] masked inputs. */
  inputs: Int32Array;
  /** [batchSize, seqLen]: original ids at chosen positions, ignoreIndex elsewhere. */
  targets: Int32Array;
  starts: Int32Array;
  numTargets: number;
}

/** Draws training windows; batch(step) is a pure function of (corpus, options, step). */
export class LmBatcher {
  readonly batchSize: number;
  readonly seqLen: number;
  readonly seed: number;
  readonly mode: WindowMode;
  readonly ignoreIndex: number;
  /** Document mode: the documents with at least 2 tokens. */
  private readonly docs: Int32Array;

  constructor(readonly corpus: TokenCorpus, opts: BatcherOptions) {
    checkPositiveInt(opts.batchSize, 'batch size');
    checkPositiveInt(opts.seqLen, 'sequence length');
    checkSeed(opts.seed);
    this.batchSize = opts.batchSize;
    this.seqLen = opts.seqLen;
    this.seed = opts.seed;
    this.mode = opts.mode ?? 'packed';
    this.ignoreIndex = opts.ignoreIndex ?? IGNORE_INDEX;
    const n = corpus.tokens.length;
    if (this.mode === 'packed') {
      if (n < this.seqLen + 1) {
        throw new DataError(`${corpus.source}: ${n} tokens, fewer than one window of seqLen + 1 = ${this.seqLen + 1}`);
      }
      this.docs = new Int32Array(0);
    } else if (this.mode === 'document') {
      const ok: number[] = [];
      for (let d = 0; d < numDocuments(corpus); d++) if (corpus.docStarts[d + 1]! - corpus.docStarts[d]! >= 2) ok.push(d);
      if (ok.length === 0) throw new DataError(`${corpus.source}: no document has 2 or more tokens`);
      this.docs = Int32Array.from(ok);
    } else {
      throw new DataError(`unknown window mode ${JSON.stringify(opts.mode)} (known: packed, document)`);
    }
  }

  private rngFor(step: number, tag: string): Rng {
    if (!Number.isInteger(step) || step < 0 || step > 0xffffffff) throw new DataError(`step must be an integer in [0, 2^32), got ${step}`);
    return new Rng(deriveSeed(this.seed, tag), step);
  }

  /** Fill `out` ([rows, width]) with windows; returns their starts and lengths. */
  private drawWindows(rng: Rng, width: number, out: Int32Array): { starts: Int32Array; lengths: Int32Array } {
    const { tokens, docStarts } = this.corpus;
    const B = this.batchSize;
    const starts = new Int32Array(B), lengths = new Int32Array(B);
    const pad = this.corpus.tokenizer.pad;
    for (let b = 0; b < B; b++) {
      let start: number, len: number;
      if (this.mode === 'packed') {
        start = rng.below(tokens.length - width + 1);
        len = width;
      } else {
        const d = this.docs[rng.below(this.docs.length)]!;
        const s = docStarts[d]!, docLen = docStarts[d + 1]! - s;
        start = s + (docLen > width ? rng.below(docLen - width + 1) : 0);
        len = Math.min(width, docLen);
      }
      starts[b] = start;
      lengths[b] = len;
      const row = out.subarray(b * width, (b + 1) * width);
      row.set(tokens.subarray(start, start + len));
      if (len < width) row.fill(pad, len);
    }
    return { starts, lengths };
  }

  /** The causal-LM batch of a step. */
  batch(step: number): LmBatch {
    const B = this.batchSize, T = this.seqLen, W = T + 1;
    const windows = new Int32Array(B * W);
    const { starts, lengths } = this.drawWindows(this.rngFor(step, 'lm-batches'), W, windows);
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    let numTargets = 0;
    for (let b = 0; b < B; b++) {
      inputs.set(windows.subarray(b * W, b * W + T), b * T);
      targets.set(windows.subarray(b * W + 1, b * W + W), b * T);
      const real = lengths[b]! - 1;
      targets.fill(this.ignoreIndex, b * T + real, (b + 1) * T);
      numTargets += real;
    }
    return { step, batchSize: B, seqLen: T, windows, inputs, targets, starts, numTargets };
  }

  /** The masked-LM batch of a step: [batchSize, seqLen] windows, masked by `maskTokens`. */
  maskedBatch(step: number, mlm: MlmOptions = {}): MlmBatch {
    const B = this.batchSize, T = this.seqLen;
    const windows = new Int32Array(B * T);
    const { starts } = this.drawWindows(this.rngFor(step, 'mlm-windows'), T, windows);
    const { inputs, targets, numTargets } = maskTokens(windows, this.corpus.tokenizer, this.rngFor(step, 'mlm-masks'), {
      ignoreIndex: this.ignoreIndex, ...mlm,
    });
    return { step, batchSize: B, seqLen: T, inputs, targets, starts, numTargets };
  }
}
