// One-line messages for the errors the operating system reports on files. A raw Node error names
// the call and, for an atomic write, a temporary file the user never mentioned
// ("ENOENT: no such file or directory, open 'nodir/.o.safetensors.23859.a960c4177ef6.tmp'"); these
// name the path the user gave and say what is wrong in words.

import { dirname } from 'node:path';
import { fileSystem } from './fs-node.js';

/** An operating-system error on a file the user named. `code` is the errno name (ENOSPC, ...). */
export class FileError extends Error {
  readonly path: string;
  readonly code: string | undefined;
  constructor(path: string, message: string, code?: string) {
    super(`${path}: ${message}`);
    this.name = 'FileError';
    this.path = path;
    this.code = code;
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'already exists',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EIO: 'input/output error',
  EBUSY: 'the file is busy',
  ELOOP: 'too many symbolic links',
  EFBIG: 'the file is too large',
  ETXTBSY: 'the file is busy',
  EXDEV: 'cannot move across devices',
};

export function errnoCode(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Whether e is an operating-system error (it has an errno code such as ENOENT). */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const code = errnoCode(e);
  return e instanceof Error && code !== undefined && /^E[A-Z0-9]+$/.test(code);
}

/** The reason in words, e.g. "no space left on the device (ENOSPC)". */
export function describeSystemError(e: unknown): string {
  const code = errnoCode(e);
  if (code && REASONS[code]) return `${REASONS[code]} (${code})`;
  return code ?? (e as Error).message.replace(/\s*\n\s*/g, ' ');
}

/** A FileError for a failed read of `path`. */
export function readError(path: string, e: unknown): FileError {
  return new FileError(path, `cannot read: ${describeSystemError(e)}`, errnoCode(e));
}

/**
 * A FileError for a failed write of `path` (the user's name, whatever temporary file failed). A
 * missing or non-folder parent is named as such: "the folder nodir does not exist".
 */
export async function writeError(path: string, e: unknown): Promise<FileError> {
  const code = errnoCode(e);
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const parent = dirname(path);
    const st = await fileSystem().stat(parent).catch(() => undefined);
    if (!st) return new FileError(path, `cannot write: the folder ${parent} does not exist`, code);
    if (!st.isDirectory()) return new FileError(path, `cannot write: ${parent} is not a folder`, code);
  }
  return new FileError(path, `cannot write: ${describeSystemError(e)}`, code);
}
