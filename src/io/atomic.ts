// Atomic file writes (Node): the data goes to a temporary file in the same directory, is fsynced,
// and is then renamed over the target, so readers see either the old file or the complete new one,
// never a partial one. On any failure the temporary file is removed and the old file is untouched.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

export type FileData = Uint8Array | string;

/** Name of the temporary file used for `path`: hidden, same directory, unique per call. */
export function tempPathFor(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename durable. Not possible on every platform (e.g. Windows): best effort.
  let handle;
  try {
    handle = await open(dir, constants.O_RDONLY);
    await handle.sync();
  } catch {
    // ignore
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Write data to a fresh temporary file next to `path`, fsync it, and return its name. */
async function writeTemp(path: string, data: FileData, mode: number): Promise<string> {
  const tmp = tempPathFor(path);
  let handle;
  try {
    handle = await open(tmp, 'wx', mode);
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    return tmp;
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}

export interface AtomicWriteOptions {
  /** Permission bits for a new file (default 0o644, reduced by the umask). */
  mode?: number;
}

/** Atomically replace (or create) `path` with `data`. */
export async function writeFileAtomic(path: string, data: FileData, opts: AtomicWriteOptions = {}): Promise<void> {
  const tmp = await writeTemp(path, data, opts.mode ?? 0o644);
  try {
    await rename(tmp, resolve(path));
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dirname(resolve(path)));
}

/**
 * Write several files, each atomically. All temporary files are written and fsynced first; only
 * if every one succeeded are they renamed into place (in the given order, so a checkpoint can put
 * its index/manifest last). If writing fails, nothing is renamed and all temporaries are removed.
 * The set as a whole is not atomic: a crash during the renames can leave some files new and some old.
 */
export async function writeFilesAtomic(
  files: ReadonlyArray<readonly [path: string, data: FileData]>,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const temps: [tmp: string, path: string][] = [];
  try {
    for (const [path, data] of files) temps.push([await writeTemp(path, data, opts.mode ?? 0o644), resolve(path)]);
  } catch (e) {
    await Promise.all(temps.map(([tmp]) => unlink(tmp).catch(() => undefined)));
    throw e;
  }
  let i = 0;
  try {
    for (; i < temps.length; i++) await rename(temps[i]![0], temps[i]![1]);
  } catch (e) {
    await Promise.all(temps.slice(i).map(([tmp]) => unlink(tmp).catch(() => undefined)));
    throw e;
  }
  await Promise.all([...new Set(temps.map(([, p]) => dirname(p)))].map(fsyncDir));
}
