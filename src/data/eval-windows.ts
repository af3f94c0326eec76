// Evaluation windows: the corpus in non-overlapping windows, so that every token but the first of
// each segment is predicted exactly once.
import { checkPositiveInt, numDocuments, type TokenCorpus } from './corpus.js';
import { IGNORE_INDEX } from './ignore-index.js';
import type { WindowMode } from './batches.js';

export interface EvalOptions {
  seqLen: number;
  batchSize: number;
  /** 'packed' (default): the whole token stream is one segment; 'document': each document is one. */
  mode?: WindowMode;
  ignoreIndex?: number;
  /** Stop after this many windows (e.g. a quick validation estimate). Default: all. */
  maxWindows?: number;
}

export interface EvalBatch {
  /** Rows in this batch (the last batch may have fewer than batchSize). */
  batchSize: number;
  seqLen: number;
  inputs: Int32Array;
  targets: Int32Array;
  numTargets: number;
}

/** Number of windows `evalBatches` yields (before maxWindows). */
export function countEvalWindows(c: TokenCorpus, seqLen: number, mode: WindowMode = 'packed'): number {
  checkPositiveInt(seqLen, 'sequence length');
  let count = 0;
  for (const [s, e] of evalSegments(c, mode)) count += Math.ceil((e - s - 1) / seqLen);
  return count;
}

function evalSegments(c: TokenCorpus, mode: WindowMode): [number, number][] {
  if (mode === 'packed') return c.tokens.length >= 2 ? [[0, c.tokens.length]] : [];
  const segs: [number, number][] = [];
  for (let d = 0; d < numDocuments(c); d++) {
    const s = c.docStarts[d]!, e = c.docStarts[d + 1]!;
    if (e - s >= 2) segs.push([s, e]);
  }
  return segs;
}

/**
 * Non-overlapping windows over the corpus: within each segment, window k has inputs
 * tokens[s + kT, s + kT + T) and targets tokens[s + kT + 1, s + kT + T + 1), so every token of the
 * segment but its first is a target exactly once. The last window of a segment is padded
 * (inputs pad, targets ignoreIndex).
 */
export function* evalBatches(c: TokenCorpus, opts: EvalOptions): Generator<EvalBatch> {
  const T = opts.seqLen, B = opts.batchSize;
  checkPositiveInt(T, 'sequence length');
  checkPositiveInt(B, 'batch size');
  const mode = opts.mode ?? 'packed';
  const ignore = opts.ignoreIndex ?? IGNORE_INDEX;
  const pad = c.tokenizer.pad;
  let left = opts.maxWindows ?? Infinity;
  let inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
  let rows = 0, numTargets = 0;
  const flush = (): EvalBatch => {
    const batch = { batchSize: rows, seqLen: T, inputs: inputs.slice(0, rows * T), targets: targets.slice(0, rows * T), numTargets };
    inputs = new Int32Array(B * T);
    targets = new Int32Array(B * T);
    rows = 0;
    numTargets = 0;
    return batch;
  };
  for (const [s, e] of evalSegments(c, mode)) {
    for (let p = s; p < e - 1 && left > 0; p += T, left--) {
      const n = Math.min(T, e - 1 - p);
      const o = rows * T;
      inputs.set(c.tokens.subarray(p, p + n), o);
      targets.set(c.tokens.subarray(p + 1, p + 1 + n), o);
      inputs.fill(pad, o + n, o + T);
      targets.fill(ignore, o + n, o + T);
      numTargets += n;
      if (++rows === B) yield flush();
    }
  }
  if (rows > 0) yield flush();
}
