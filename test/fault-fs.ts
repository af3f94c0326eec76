// A FileSystem (src/io/fs-node.ts) that fails where a test says: the errors a full disk (ENOSPC), a
// refused folder (EACCES) or a read-only mount (EROFS) give, which chmod cannot produce for root.
import { nodeFileSystem, type FileData, type FileSystem } from '../src/io/fs-node.js';

export type FsOp = keyof FileSystem;
/** The writing operations, in the sense of "each write of a save". */
export const WRITE_OPS: readonly FsOp[] = ['writeNew', 'rename', 'link', 'copyFile', 'mkdir'];

export interface FsCall { op: FsOp; path: string }

/** An errno-style error as Node reports it. */
export function systemError(code: string, op: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: simulated, ${op} '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = op;
  e.path = path;
  return e;
}

/**
 * Wraps `base`. `fail(call, index)` returns an errno code to fail that call with (index counts the
 * calls of WRITE_OPS), or undefined to let it through. A failed writeNew first writes half of its
 * data, as a disk that fills up mid-write leaves a partial file. `calls` records every call.
 */
export function faultyFs(fail: (call: FsCall, writeIndex: number) => string | undefined, base: FileSystem = nodeFileSystem) {
  const calls: FsCall[] = [];
  let writes = 0;
  const check = (op: FsOp, path: string): void => {
    const call = { op, path };
    calls.push(call);
    const index = WRITE_OPS.includes(op) ? writes++ : -1;
    const code = fail(call, index);
    if (code) throw systemError(code, op, path);
  };
  const fs: FileSystem = {
    async writeNew(path: string, data: FileData, mode: number) {
      calls.push({ op: 'writeNew', path });
      const code = fail({ op: 'writeNew', path }, writes++);
      if (code) {
        if (code === 'ENOSPC') await base.writeNew(path, data.slice(0, Math.floor(data.length / 2)), mode);
        throw systemError(code, 'write', path);
      }
      await base.writeNew(path, data, mode);
    },
    rename: async (a, b) => { check('rename', b); await base.rename(a, b); },
    unlink: async (p) => { check('unlink', p); await base.unlink(p); },
    link: async (a, b) => { check('link', b); await base.link(a, b); },
    copyFile: async (a, b) => { check('copyFile', b); await base.copyFile(a, b); },
    mkdir: async (p) => { check('mkdir', p); await base.mkdir(p); },
    rmdir: async (p) => { check('rmdir', p); await base.rmdir(p); },
    readdir: async (p) => { check('readdir', p); return base.readdir(p); },
    readFile: async (p) => { check('readFile', p); return base.readFile(p); },
    stat: async (p) => { check('stat', p); return base.stat(p); },
    syncDir: async (p) => { check('syncDir', p); await base.syncDir(p); },
  };
  return { fs, calls, writes: () => writes };
}
