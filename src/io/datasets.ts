// Data sets for training Performer language models (no Node APIs: runs in browsers too; the file
// readers for Node are in ./datasets-node.ts).
//
// Reading. A source is a stream of byte chunks (any boundaries). Formats:
//   text   the whole input is one document, tokenized byte by byte (tokenizer.encodeBytes).
//   fasta  lines starting with '>' begin a record (the header); the following lines up to the next
//          header are its sequence (whitespace and line breaks are dropped); lines starting with
//          ';' are comments. Each record becomes one document: bos, residues, eos. Records with an
//          empty sequence are skipped (counted in stats.skippedEmpty).
// Gzip: ./datasets-node.ts streams files through zlib; `gunzipChunks` here uses DecompressionStream.
//
// A TokenCorpus holds the documents back to back in one token array (Uint16Array when the
// vocabulary fits, else Int32Array) plus the document boundaries.
//
// Splitting (train / validation, disjoint, deterministic):
//   tail       the last `fraction` of the tokens (for text: of the bytes) is the validation set.
//   documents  each document goes to validation when a seeded hash of its name (the FASTA record
//              id) falls below `fraction` — the same record lands in the same split whatever the
//              file order. At least one document is kept on each side when there are two or more.
//
// Batches are a pure function of (seed, step): step s draws its windows from
// new Rng(deriveSeed(seed, 'lm-batches'), s), so a resumed run sees exactly the batches of a
// straight run. Windows are [batch, seqLen + 1] tokens: inputs = first seqLen, targets = last
// seqLen. `packed` windows start anywhere in the token stream (crossing document boundaries, which
// are marked by eos/bos); `document` windows are random crops of one document chosen uniformly,
// padded with pad (targets ignoreIndex) when the document is shorter.
//
// Evaluation (`evalBatches`) walks the corpus in non-overlapping windows so that every token but the
// first of each segment is predicted exactly once.
//
// MLM (`maskTokens`): BERT-style. Of the maskable tokens (regular tokens and unk; never pad, bos,
// eos, mask) each is chosen with probability 0.15; a chosen token becomes mask (80%), a random
// regular token (10%) or stays (10%). Targets are the original id where chosen, ignoreIndex elsewhere.

import { Rng } from '../tensor/rng.js';
import type { Tokenizer } from './tokenizer.js';

export type DataFormat = 'text' | 'fasta';
export const DATA_FORMATS: readonly DataFormat[] = ['text', 'fasta'];
export type TokenArray = Uint16Array | Int32Array;

/** Default target value for positions that carry no loss (the crossEntropy default). */
export const IGNORE_INDEX = -100;

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export interface CorpusStats {
  /** Bytes read (after decompression). */
  bytes: number;
  /** FASTA: records read, including skipped ones. */
  records?: number;
  /** FASTA: records with an empty sequence, which were skipped. */
  skippedEmpty?: number;
}

export interface TokenCorpus {
  /** Where the data came from (a path), for messages. */
  readonly source: string;
  readonly format: DataFormat;
  readonly tokenizer: Tokenizer;
  /** All documents back to back. */
  readonly tokens: TokenArray;
  /** Document i is tokens[docStarts[i], docStarts[i + 1]); length = documents + 1. */
  readonly docStarts: Int32Array;
  /** FASTA: each record's id (the header up to the first whitespace). */
  readonly docNames?: readonly string[];
  readonly stats: CorpusStats;
}

export function numDocuments(c: TokenCorpus): number {
  return c.docStarts.length - 1;
}

// ---------------------------------------------------------------------------------------------
// Hashing and seeds

/** MurmurHash3 (x86, 32-bit) of bytes with a 32-bit seed. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed >>> 0;
  const n = bytes.length;
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k; h = (h << 13) | (h >>> 19); h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = n & 3;
  if (rest > 0) {
    let k = bytes[i]!;
    if (rest > 1) k ^= bytes[i + 1]! << 8;
    if (rest > 2) k ^= bytes[i + 2]! << 16;
    k = Math.imul(k, c1); k = (k << 15) | (k >>> 17); k = Math.imul(k, c2);
    h ^= k;
  }
  h ^= n;
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();

function checkSeed(seed: number, what = 'seed'): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DataError(`${what} must be a non-negative integer, got ${seed}`);
}

/** 32-bit hash of a string under a seed (any safe non-negative integer). */
export function seededHash(seed: number, s: string): number {
  checkSeed(seed);
  const lo = seed >>> 0, hi = Math.floor(seed / 0x100000000) >>> 0;
  return murmur3(utf8.encode(s), murmur3(utf8.encode(String(hi)), lo));
}

/**
 * An independent seed for one purpose (e.g. 'lm-batches', 'mlm-masks') derived from the run's seed,
 * so that different consumers of `new Rng(seed, stream)` never share a sequence.
 */
export function deriveSeed(seed: number, tag: string): number {
  const a = seededHash(seed, `performer:${tag}:a`), b = seededHash(seed, `performer:${tag}:b`);
  return (a & 0x1fffff) * 0x100000000 + b; // 53 bits
}

// ---------------------------------------------------------------------------------------------
// Building corpora from byte chunks

/** A growable token array. */
class TokenBuilder {
  private buf: TokenArray;
  length = 0;
  constructor(private readonly wide: boolean, capacity = 1 << 16) {
    this.buf = wide ? new Int32Array(capacity) : new Uint16Array(capacity);
  }
  private reserve(extra: number): void {
    if (this.length + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + extra) cap *= 2;
    const next = this.wide ? new Int32Array(cap) : new Uint16Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  push(id: number): void {
    this.reserve(1);
    this.buf[this.length++] = id;
  }
  append(ids: ArrayLike<number>): void {
    this.reserve(ids.length);
    this.buf.set(ids, this.length);
    this.length += ids.length;
  }
  finish(): TokenArray {
    return this.buf.slice(0, this.length);
  }
}

function newBuilder(tokenizer: Tokenizer): TokenBuilder {
  return new TokenBuilder(tokenizer.vocabSize > 0x10000);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0b || c === 0x0c;
}

/** Incremental FASTA parser over byte chunks; emits the tokens of each record into a builder. */
class FastaParser {
  private lineNo = 1;
  private atLineStart = true;
  private mode: 'seq' | 'header' | 'comment' | 'none' = 'none';
  private header: number[] = [];
  private recordStart = -1;
  private sawRecord = false;
  readonly docStarts: number[] = [];
  readonly docNames: string[] = [];
  records = 0;
  skippedEmpty = 0;
  private readonly headerDecoder = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly out: TokenBuilder, private readonly tokenizer: Tokenizer, private readonly source: string) {}

  private endRecord(): void {
    if (this.recordStart < 0) return;
    if (this.out.length === this.recordStart + 1) {
      this.out.length = this.recordStart; // only bos: empty sequence
      this.skippedEmpty++;
    } else {
      this.out.push(this.tokenizer.eos);
      this.docStarts.push(this.recordStart);
      const h = this.headerDecoder.decode(Uint8Array.from(this.header)).trim();
      this.docNames.push(h.split(/\s/, 1)[0] ?? '');
    }
    this.recordStart = -1;
  }

  push(chunk: Uint8Array): void {
    let seqFrom = -1; // start of a run of non-whitespace sequence bytes in this chunk
    const flushSeq = (to: number): void => {
      if (seqFrom >= 0 && to > seqFrom) this.out.append(this.tokenizer.encodeBytes(chunk.subarray(seqFrom, to)));
      seqFrom = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.atLineStart) {
        this.atLineStart = false;
        if (c === 0x3e /* > */) {
          this.endRecord();
          this.records++;
          this.sawRecord = true;
          this.mode = 'header';
          this.header = [];
          this.recordStart = this.out.length;
          this.out.push(this.tokenizer.bos);
          continue;
        }
        if (c === 0x3b /* ; */) {
          this.mode = 'comment';
          continue;
        }
        if (!this.sawRecord && !isSpace(c)) {
          throw new DataError(`${this.source}: line ${this.lineNo}: sequence data before the first '>' header line (is this a FASTA file?)`);
        }
      }
      if (c === 0x0a) {
        flushSeq(i);
        this.mode = this.sawRecord ? 'seq' : 'none';
        this.atLineStart = true;
        this.lineNo++;
      } else if (this.mode === 'seq') {
        if (isSpace(c)) flushSeq(i);
        else if (seqFrom < 0) seqFrom = i;
      } else if (this.mode === 'header') {
        if (c !== 0x0d) this.header.push(c);
      }
    }
    flushSeq(chunk.length);
  }

  finish(): void {
    this.endRecord();
    this.docStarts.push(this.out.length);
  }
}

export interface ReadOptions {
  format: DataFormat;
  tokenizer: Tokenizer;
  /** Name for messages (a path). */
  source: string;
  /** Appended to "is empty" messages, e.g. " after gzip decompression". */
  emptyNote?: string;
}

/** Tokenize a stream of byte chunks into a corpus. */
export async function corpusFromChunks(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: ReadOptions,
): Promise<TokenCorpus> {
  const { format, tokenizer, source } = opts;
  if (!DATA_FORMATS.includes(format)) throw new DataError(`${source}: unknown format ${JSON.stringify(format)} (known: ${DATA_FORMATS.join(', ')})`);
  const out = newBuilder(tokenizer);
  let bytes = 0;
  const fasta = format === 'fasta' ? new FastaParser(out, tokenizer, source) : undefined;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (fasta) fasta.push(chunk);
    else out.append(tokenizer.encodeBytes(chunk));
  }
  if (bytes === 0) throw new DataError(`${source}: file is empty${opts.emptyNote ?? ''}`);
  if (fasta) {
    fasta.finish();
    if (fasta.records === 0) throw new DataError(`${source}: no FASTA records (a record starts with a '>' header line)`);
    if (fasta.docNames.length === 0) {
      throw new DataError(`${source}: all ${fasta.records} FASTA record(s) have an empty sequence`);
    }
    return {
      source, format, tokenizer, tokens: out.finish(),
      docStarts: Int32Array.from(fasta.docStarts), docNames: fasta.docNames,
      stats: { bytes, records: fasta.records, skippedEmpty: fasta.skippedEmpty },
    };
  }
  if (out.length === 0) throw new DataError(`${source}: no tokens (the ${tokenizer.name} tokenizer skips all ${bytes} bytes)`);
  return { source, format, tokenizer, tokens: out.finish(), docStarts: Int32Array.from([0, out.length]), stats: { bytes } };
}

/** Tokenize an in-memory text (as the `text` format would read its UTF-8 bytes). */
export function corpusFromText(text: string, tokenizer: Tokenizer, source = '<text>', format: DataFormat = 'text'): Promise<TokenCorpus> {
  return corpusFromChunks([utf8.encode(text)], { format, tokenizer, source });
}

/** True when bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decompress gzip chunks with the web DecompressionStream (browsers, Node ≥ 18). */
export async function* gunzipChunks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, source = '<stream>'): AsyncGenerator<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') throw new DataError(`${source}: gzip needs DecompressionStream, which this runtime lacks`);
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  const feeding = (async () => {
    try {
      for await (const c of chunks) await writer.write(c as Uint8Array<ArrayBuffer>);
      await writer.close();
    } catch (e) {
      await writer.abort(e).catch(() => undefined);
    }
  })();
  const reader = ds.readable.getReader();
  let finished = false;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        finished = true;
        throw new DataError(`${source}: bad or truncated gzip data (${(e as Error).message})`);
      }
      if (r.done) break;
      yield r.value;
    }
    finished = true;
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    await feeding;
  }
}

/** Format from a file name: .fasta/.fa/.faa/.fas/.fna (optionally + .gz) → fasta, anything else → text. */
export function formatFromName(name: string): { format: DataFormat; gzip: boolean } {
  let n = name.toLowerCase();
  const gzip = n.endsWith('.gz') || n.endsWith('.gzip');
  if (gzip) n = n.slice(0, n.lastIndexOf('.'));
  const fasta = /\.(fasta|fa|faa|fas|fna|ffn|mpfa)$/.test(n);
  return { format: fasta ? 'fasta' : 'text', gzip };
}

// ---------------------------------------------------------------------------------------------
// Train / validation split

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

// ---------------------------------------------------------------------------------------------
// Batches

export type WindowMode = 'packed' | 'document';

export interface BatcherOptions {
  batchSize: number;
  /** Tokens of input per row; each window has seqLen + 1 tokens. */
  seqLen: number;
  seed: number;
  /** Default 'packed'. */
  mode?: WindowMode;
  /** Target of padded positions. Default -100. */
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

function checkPositiveInt(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new DataError(`${what} must be a positive integer, got ${v}`);
}

/** Uniform integer in [0, n). */
function below(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(rng.uniform() * n));
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
        start = below(rng, tokens.length - width + 1);
        len = width;
      } else {
        const d = this.docs[below(rng, this.docs.length)]!;
        const s = docStarts[d]!, docLen = docStarts[d + 1]! - s;
        start = s + (docLen > width ? below(rng, docLen - width + 1) : 0);
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

// ---------------------------------------------------------------------------------------------
// Evaluation windows

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

// ---------------------------------------------------------------------------------------------
// Masked language modelling

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
    else if (r < maskShare + randomShare) inputs[i] = below(rng, R);
  }
  return { inputs, targets, numTargets };
}
