// FASTA, read incrementally from byte chunks (any boundaries). Lines starting with '>' begin a record
// (the header); the following lines up to the next header are its sequence (whitespace and line
// breaks are dropped); lines starting with ';' are comments. Each record becomes one document: bos,
// residues, eos. Records with an empty sequence are skipped (counted in skippedEmpty).
import { DataError, type TokenBuilder } from './corpus.js';
import type { Tokenizer } from './tokenizer.js';

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0b || c === 0x0c;
}

/** Incremental FASTA parser over byte chunks; emits the tokens of each record into a builder. */
export class FastaParser {
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
