// Train / validation split (disjoint, deterministic):
//   tail       the last `fraction` of the tokens (for text: of the bytes) is the validation set.
//   documents  each document goes to validation when a seeded hash of its name (the FASTA record
//              id) falls below `fraction` — the same record lands in the same split whatever the
//              file order. At least one document is kept on each side when there are two or more.
import { seededHash } from '../tensor/rng.js';
import { checkSeed, DataError, numDocuments, type TokenCorpus } from './corpus.js';

export type SplitMode = 'tail' | 'documents';

export interface SplitOptions {
  /** Share of the data for validation, in [0, 1). Default 0.1. */
  fraction?: number;
  /** Default: 'documents' for corpora of several documents, 'tail' for one. */
  mode?: SplitMode;
  /** Seed of the document hash. Default 0. */
  seed?: number;
}

export interface SplitInfo {
  mode: SplitMode;
  fraction: number;
  seed: number;
  trainTokens: number;
  validationTokens: number;
  trainDocuments: number;
  validationDocuments: number;
}

export interface CorpusSplit {
  train: TokenCorpus;
  validation: TokenCorpus;
  info: SplitInfo;
}

function subCorpus(c: TokenCorpus, docs: number[], suffix: string): TokenCorpus {
  let total = 0;
  for (const d of docs) total += c.docStarts[d + 1]! - c.docStarts[d]!;
  const tokens = c.tokens instanceof Int32Array ? new Int32Array(total) : new Uint16Array(total);
  const starts = new Int32Array(docs.length + 1);
  let pos = 0;
  docs.forEach((d, i) => {
    starts[i] = pos;
    const seg = c.tokens.subarray(c.docStarts[d]!, c.docStarts[d + 1]!);
    tokens.set(seg, pos);
    pos += seg.length;
  });
  starts[docs.length] = pos;
  return {
    source: `${c.source}${suffix}`, format: c.format, tokenizer: c.tokenizer, tokens, docStarts: starts,
    ...(c.docNames ? { docNames: docs.map((d) => c.docNames![d]!) } : {}),
    stats: c.stats,
  };
}

/** Split a corpus into disjoint train and validation parts, deterministically. */
export function splitCorpus(c: TokenCorpus, opts: SplitOptions = {}): CorpusSplit {
  const fraction = opts.fraction ?? 0.1;
  const seed = opts.seed ?? 0;
  checkSeed(seed, 'split seed');
  if (!(fraction >= 0 && fraction < 1)) throw new DataError(`validation fraction must be in [0, 1), got ${fraction}`);
  const docs = numDocuments(c);
  const mode = opts.mode ?? (docs > 1 ? 'documents' : 'tail');
  if (mode === 'tail') {
    const n = c.tokens.length;
    const nVal = fraction === 0 ? 0 : Math.max(2, Math.round(n * fraction));
    if (n - nVal < 2) throw new DataError(`${c.source}: ${n} tokens are too few to hold out ${nVal} for validation`);
    const cut = n - nVal;
    // Documents are cut at `cut`: starts before it stay in train, the rest shift into validation.
    const trainStarts: number[] = [], valStarts: number[] = [];
    for (let d = 0; d < docs; d++) {
      const s = c.docStarts[d]!;
      if (s < cut) trainStarts.push(s);
      else valStarts.push(s - cut);
    }
    if (nVal > 0 && valStarts[0] !== 0) valStarts.unshift(0);
    const train: TokenCorpus = {
      source: `${c.source} (train)`, format: c.format, tokenizer: c.tokenizer, tokens: c.tokens.subarray(0, cut),
      docStarts: Int32Array.from([...trainStarts, cut]), stats: c.stats,
    };
    const validation: TokenCorpus = {
      source: `${c.source} (validation)`, format: c.format, tokenizer: c.tokenizer, tokens: c.tokens.subarray(cut),
      docStarts: Int32Array.from(nVal > 0 ? [...valStarts, nVal] : [0]), stats: c.stats,
    };
    return {
      train, validation,
      info: { mode, fraction, seed, trainTokens: cut, validationTokens: nVal, trainDocuments: numDocuments(train), validationDocuments: numDocuments(validation) },
    };
  }
  if (docs < 2 && fraction > 0) throw new DataError(`${c.source}: a document split needs at least 2 documents, found ${docs}`);
  const threshold = fraction * 0x100000000;
  const trainDocs: number[] = [], valDocs: number[] = [];
  for (let d = 0; d < docs; d++) {
    const name = c.docNames?.[d] ?? `#${d}`;
    (seededHash(seed, name) < threshold ? valDocs : trainDocs).push(d);
  }
  if (fraction > 0 && valDocs.length === 0) valDocs.push(trainDocs.pop()!);
  if (trainDocs.length === 0) trainDocs.push(valDocs.shift()!);
  const train = subCorpus(c, trainDocs, ' (train)');
  const validation = subCorpus(c, valDocs, ' (validation)');
  return {
    train, validation,
    info: {
      mode, fraction, seed, trainTokens: train.tokens.length, validationTokens: validation.tokens.length,
      trainDocuments: trainDocs.length, validationDocuments: valDocs.length,
    },
  };
}
