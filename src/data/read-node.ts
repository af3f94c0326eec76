// Node file readers for ./read.ts: stream a file (through zlib when it is gzip) chunk by chunk
// into the tokenizer, so a large file is held in memory only once, as tokens.
//
// Format: explicit, or from the name (formatFromName: .fasta/.fa/... → fasta, else text; a .gz
// suffix → gzip). With gzip 'auto' (the default) a file is also gunzipped when it starts with the
// gzip magic bytes, whatever its name. Errors are DataErrors that name the file: missing file,
// directory, empty file, bad gzip data, truncated gzip data, FASTA without records.

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DATA_FORMATS, DataError, type DataFormat, type TokenCorpus } from './corpus.js';
import { isGzip } from './gzip.js';
import { corpusFromChunks, formatFromName } from './read.js';
import { createTokenizer, type Tokenizer } from './tokenizer.js';

export interface FileReadOptions {
  /** Default: from the file name. */
  format?: DataFormat | 'auto';
  /** true / false, or 'auto' (default): by the .gz suffix or the gzip magic bytes. */
  gzip?: boolean | 'auto';
  /** Default: byte for text, amino for fasta. */
  tokenizer?: Tokenizer;
  /** Read size in bytes (default 1 MiB). */
  chunkSize?: number;
}

function ioReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return 'no such file';
  if (err.code === 'EISDIR') return 'is a directory';
  if (err.code === 'EACCES') return 'permission denied';
  return err.code ?? err.message;
}

function gzipReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'Z_BUF_ERROR' || /unexpected end/i.test(err.message)) return 'gzip data is truncated (unexpected end of file)';
  if (err.code === 'Z_DATA_ERROR') return `not valid gzip data (${err.message})`;
  return `cannot decompress (${err.code ?? err.message})`;
}

/** What readFileChunks will do with a file: its size, whether it is gzip. */
export async function probeFile(path: string, gzip: boolean | 'auto' = 'auto'): Promise<{ size: number; gzip: boolean }> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new DataError(`${path}: cannot read (${ioReason(e)})`);
  }
  try {
    const st = await handle.stat();
    if (st.isDirectory()) throw new DataError(`${path}: cannot read (is a directory)`);
    if (gzip !== 'auto') return { size: st.size, gzip };
    if (formatFromName(path).gzip) return { size: st.size, gzip: true };
    const head = new Uint8Array(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return { size: st.size, gzip: isGzip(head.subarray(0, bytesRead)) };
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(`${path}: cannot read (${ioReason(e)})`);
  } finally {
    await handle.close();
  }
}

/** The (decompressed) bytes of a file, streamed. Errors name the file. */
export async function* readFileChunks(
  path: string,
  opts: { gzip?: boolean | 'auto'; chunkSize?: number } = {},
): AsyncGenerator<Uint8Array> {
  const { size, gzip } = await probeFile(path, opts.gzip ?? 'auto');
  if (size === 0) throw new DataError(`${path}: file is empty`);
  const src = createReadStream(path, { highWaterMark: opts.chunkSize ?? 1 << 20 });
  const stream = gzip ? pipeline(src, createGunzip(), () => undefined) : src;
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      yield new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (gzip && (code.startsWith('Z_') || /gzip|zlib|unexpected end/i.test((e as Error).message))) {
      throw new DataError(`${path}: ${gzipReason(e)}`);
    }
    throw new DataError(`${path}: cannot read (${ioReason(e)})`);
  } finally {
    src.destroy();
    if (stream !== src) stream.destroy();
  }
}

/** Resolve the format and tokenizer a file would be read with. */
export function resolveFileFormat(path: string, opts: FileReadOptions = {}): { format: DataFormat; tokenizer: Tokenizer } {
  const fmt = opts.format ?? 'auto';
  if (fmt !== 'auto' && !DATA_FORMATS.includes(fmt)) {
    throw new DataError(`${path}: unknown format ${JSON.stringify(fmt)} (known: auto, ${DATA_FORMATS.join(', ')})`);
  }
  const format = fmt === 'auto' ? formatFromName(path).format : fmt;
  return { format, tokenizer: opts.tokenizer ?? createTokenizer(format === 'fasta' ? 'amino' : 'byte') };
}

/** Read and tokenize a whole file (text or FASTA, optionally gzip) into a corpus. */
export async function loadCorpusFile(path: string, opts: FileReadOptions = {}): Promise<TokenCorpus> {
  const { format, tokenizer } = resolveFileFormat(path, opts);
  const { gzip } = await probeFile(path, opts.gzip ?? 'auto');
  return corpusFromChunks(readFileChunks(path, { gzip, ...(opts.chunkSize ? { chunkSize: opts.chunkSize } : {}) }), {
    format, tokenizer, source: path, ...(gzip ? { emptyNote: ' (after gzip decompression)' } : {}),
  });
}
