// Gzip in any runtime: the web DecompressionStream (browsers, Node ≥ 18). The Node file reader
// (./read-node.ts) streams through zlib instead.
import { DataError } from './corpus.js';

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
