// Reading a corpus from a stream of byte chunks (any boundaries; no Node APIs: the file readers for
// Node are in ./read-node.ts). Formats:
//   text   the whole input is one document, tokenized byte by byte (tokenizer.encodeBytes).
//   fasta  one document per record (./fasta.ts).
import { DATA_FORMATS, DataError, newBuilder, type DataFormat, type TokenCorpus } from './corpus.js';
import { FastaParser } from './fasta.js';
import type { Tokenizer } from './tokenizer.js';

const utf8 = new TextEncoder();

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

/** Format from a file name: .fasta/.fa/.faa/.fas/.fna (optionally + .gz) → fasta, anything else → text. */
export function formatFromName(name: string): { format: DataFormat; gzip: boolean } {
  let n = name.toLowerCase();
  const gzip = n.endsWith('.gz') || n.endsWith('.gzip');
  if (gzip) n = n.slice(0, n.lastIndexOf('.'));
  const fasta = /\.(fasta|fa|faa|fas|fna|ffn|mpfa)$/.test(n);
  return { format: fasta ? 'fasta' : 'text', gzip };
}
