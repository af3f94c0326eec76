// Node file helpers for safetensors (the format itself is in ./safetensors.ts).

import { open, readFile } from 'node:fs/promises';
import {
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
  SafetensorsError,
  type DecodedSafetensors,
  type DecodeOptions,
  type SafetensorsHeader,
  type TensorSet,
} from './safetensors.js';
import { writeFileAtomic } from './atomic-node.js';

/** Read and decode a whole file. Errors name the file (and the tensor where there is one). */
export async function readSafetensorsFile(path: string, opts: Omit<DecodeOptions, 'source'> = {}): Promise<DecodedSafetensors> {
  const bytes = await readFileOneLine(path);
  return decodeSafetensors(bytes, { ...opts, source: path });
}

/** Read and validate only the header (reads 8 + header-length bytes, not the data). */
export async function readSafetensorsHeaderFile(path: string): Promise<SafetensorsHeader> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw ioError(path, e);
  }
  try {
    const { size } = await handle.stat();
    const lenBytes = new Uint8Array(8);
    const { bytesRead } = await handle.read(lenBytes, 0, 8, 0);
    if (bytesRead < 8) return parseSafetensorsHeader(lenBytes.subarray(0, bytesRead), { source: path, fileSize: size });
    const n = new DataView(lenBytes.buffer).getBigUint64(0, true);
    // Let the parser report lengths beyond the file or above the limit, without reading them.
    const want = n > BigInt(size - 8) || n > 100_000_000n ? 8 : 8 + Number(n);
    const prefix = new Uint8Array(want);
    prefix.set(lenBytes);
    if (want > 8) await handle.read(prefix, 8, want - 8, 8);
    return parseSafetensorsHeader(prefix, { source: path, fileSize: size });
  } finally {
    await handle.close();
  }
}

/** Encode float32 tensors as F32 and write the file atomically. */
export async function writeSafetensorsFile(
  path: string,
  tensors: TensorSet,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  await writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

async function readFileOneLine(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw ioError(path, e);
  }
}

function ioError(path: string, e: unknown): SafetensorsError {
  const err = e as NodeJS.ErrnoException;
  const reason = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code ?? err.message;
  return new SafetensorsError(path, `cannot read (${reason})`);
}
