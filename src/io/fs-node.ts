// The file-system operations that the writers (atomic.ts, checkpoint.ts, run-lock.ts) and the
// checkpoint reader use, behind one interface. Tests swap it (useFileSystem) to inject the faults a
// real disk produces and a test cannot: ENOSPC in the middle of a write, EACCES or EROFS on a
// folder — running as root, chmod proves nothing, since root writes into read-only folders anyway.

import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';

export type FileData = Uint8Array | string;

export interface FileSystem {
  /** Create `path` exclusively (O_CREAT | O_EXCL), write all of `data`, fsync, close. */
  writeNew(path: string, data: FileData, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  link(existing: string, path: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  mkdir(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<{ isDirectory(): boolean; size: number; mtimeMs: number }>;
  /** fsync a folder, so that a rename in it is durable (best effort: not every platform can). */
  syncDir(path: string): Promise<void>;
}

export const nodeFileSystem: FileSystem = {
  async writeNew(path, data, mode) {
    const handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  unlink: (path) => fsp.unlink(path),
  link: (existing, path) => fsp.link(existing, path),
  copyFile: (from, to) => fsp.copyFile(from, to),
  mkdir: async (path) => {
    await fsp.mkdir(path, { recursive: true });
  },
  rmdir: (path) => fsp.rmdir(path),
  readdir: (path) => fsp.readdir(path),
  readFile: async (path) => {
    const buf = await fsp.readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  },
  stat: (path) => fsp.stat(path),
  async syncDir(path) {
    let handle;
    try {
      handle = await fsp.open(path, constants.O_RDONLY);
      await handle.sync();
    } catch {
      // Not possible everywhere (e.g. Windows); the rename itself has happened.
    } finally {
      await handle?.close().catch(() => undefined);
    }
  },
};

let current: FileSystem = nodeFileSystem;

/** The file system in use (nodeFileSystem unless a test swapped it). */
export function fileSystem(): FileSystem {
  return current;
}

/** Use `fs` from now on (tests: fault injection); returns the function that restores the previous one. */
export function useFileSystem(fs: FileSystem): () => void {
  const previous = current;
  current = fs;
  return () => {
    current = previous;
  };
}
