// Atomic file writes (Node): the data goes to a temporary file in the same directory, is fsynced,
// and is then renamed over the target, so readers see either the old file or the complete new one,
// never a partial one. On any failure the temporary file is removed and the old file is untouched.
// Failures are FileErrors naming the target the caller gave (never the temporary file), e.g.
// "out/o.safetensors: cannot write: the folder out does not exist".

import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { writeError } from './file-error-node.js';
import { fileSystem, type FileData } from './fs-node.js';

export type { FileData } from './fs-node.js';

/** Name of the temporary file used for `path`: hidden, same directory, unique per call. */
export function tempPathFor(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Write data to a fresh temporary file next to `path`, fsync it, and return its name. */
async function writeTemp(path: string, data: FileData, mode: number): Promise<string> {
  const fs = fileSystem();
  const tmp = tempPathFor(path);
  try {
    await fs.writeNew(tmp, data, mode);
    return tmp;
  } catch (e) {
    await fs.unlink(tmp).catch(() => undefined);
    throw await writeError(path, e);
  }
}

export interface AtomicWriteOptions {
  /** Permission bits for a new file (default 0o644, reduced by the umask). */
  mode?: number;
}

/** Atomically replace (or create) `path` with `data`. */
export async function writeFileAtomic(path: string, data: FileData, opts: AtomicWriteOptions = {}): Promise<void> {
  await writeFilesAtomic([[path, data]], opts);
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
  const fs = fileSystem();
  const temps: [tmp: string, path: string][] = [];
  try {
    for (const [path, data] of files) temps.push([await writeTemp(path, data, opts.mode ?? 0o644), path]);
  } catch (e) {
    await Promise.all(temps.map(([tmp]) => fs.unlink(tmp).catch(() => undefined)));
    throw e;
  }
  let i = 0;
  try {
    for (; i < temps.length; i++) await fs.rename(temps[i]![0], resolve(temps[i]![1]));
  } catch (e) {
    await Promise.all(temps.slice(i).map(([tmp]) => fs.unlink(tmp).catch(() => undefined)));
    throw await writeError(temps[i]![1], e);
  }
  await Promise.all([...new Set(temps.map(([, p]) => dirname(resolve(p))))].map((d) => fs.syncDir(d)));
}
