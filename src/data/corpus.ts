// A TokenCorpus: documents back to back in one token array (Uint16Array when the vocabulary fits,
// else Int32Array) plus the document boundaries. Built from byte chunks by ./read.ts.
import type { Tokenizer } from './tokenizer.js';

export type DataFormat = 'text' | 'fasta';
export const DATA_FORMATS: readonly DataFormat[] = ['text', 'fasta'];
export type TokenArray = Uint16Array | Int32Array;

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

export function checkSeed(seed: number, what = 'seed'): void {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DataError(`${what} must be a non-negative integer, got ${seed}`);
}

export function checkPositiveInt(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 1) throw new DataError(`${what} must be a positive integer, got ${v}`);
}

/** A growable token array. */
export class TokenBuilder {
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

export function newBuilder(tokenizer: Tokenizer): TokenBuilder {
  return new TokenBuilder(tokenizer.vocabSize > 0x10000);
}
