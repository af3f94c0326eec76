// A run lock on a checkpoint directory: one writer at a time. Two `performer train --out DIR` (or a
// train and an import) writing one directory would each overwrite the other's checkpoints.
//
// The lock is the file DIR/performer.lock, created exclusively (O_CREAT | O_EXCL: the create fails
// when the name exists, atomically, also across processes), holding JSON {pid, host, started,
// command, token}. It is removed when the run ends: by release(), on process exit, and on SIGINT or
// SIGTERM when nothing else handles them (a handler that stops a run cleanly — train's Ctrl-C —
// keeps the lock until its run has saved and released it).
//
// When DIR is locked:
//   - held by a live process on this host, or by one on another host: RunLockError naming the
//     holder (pid, host, start time, command); the CLI exits with EXIT_LOCKED;
//   - held by a process that no longer exists on this host (a kill -9 leaves its lock): broken,
//     with a warning;
//   - held from another host (a shared file system), whose process this host cannot check: broken
//     only with `force` (--force), with a warning. A live holder on this host is never broken.
// A lock file that cannot be parsed (its writer died between create and write) counts as stale once
// it is older than a few seconds.

import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describeSystemError, errnoCode, FileError } from './file-error-node.js';
import { fileSystem } from './fs-node.js';

export const LOCK_FILE = 'performer.lock';
/** Exit code of a CLI command refused because another run holds the lock (sysexits EX_TEMPFAIL: try again later). */
export const EXIT_LOCKED = 75;
/** An unparseable lock file older than this is stale (its writer died between create and write). */
const UNREADABLE_STALE_MS = 10_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  started: string;
  command: string;
  token: string;
}

export class RunLockError extends Error {
  readonly exitCode = EXIT_LOCKED;
  readonly holder: LockHolder | undefined;
  constructor(message: string, holder?: LockHolder) {
    super(message);
    this.name = 'RunLockError';
    this.holder = holder;
  }
}

export interface RunLockOptions {
  /** What holds the lock, for the message another run gets (e.g. "performer train"). */
  command?: string;
  /** Break a lock held from another host. */
  force?: boolean;
  /** Where warnings go (stale lock broken); default: nowhere. */
  warn?: (message: string) => void;
}

export interface RunLock {
  readonly dir: string;
  readonly path: string;
  readonly holder: LockHolder;
  /** Remove the lock (if it is still ours) and the signal handlers; idempotent. */
  release(): Promise<void>;
}

function describeHolder(h: LockHolder): string {
  return `pid ${h.pid} on host ${h.host}, started ${h.started}${h.command ? ` (${h.command})` : ''}`;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const j = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(j.pid) && typeof j.host === 'string' && typeof j.started === 'string' && typeof j.token === 'string') {
      return { pid: j.pid!, host: j.host, started: j.started, command: typeof j.command === 'string' ? j.command : '', token: j.token };
    }
  } catch {
    // fall through
  }
  return undefined;
}

/** Whether a process with this pid exists here (EPERM: it exists, but belongs to another user). */
export function processExists(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM';
  }
}

/** Unlink the lock file only if it still holds `token` (never another run's fresh lock). */
function removeIfOurs(path: string, token: string): void {
  try {
    if (parseHolder(readFileSync(path, 'utf8'))?.token === token) unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Take the run lock on `dir` (created if needed) for the rest of the run; see the file comment.
 * Throws RunLockError when another run holds it.
 */
export async function acquireRunLock(dir: string, opts: RunLockOptions = {}): Promise<RunLock> {
  const fs = fileSystem();
  const path = join(dir, LOCK_FILE);
  const st = await fs.stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) throw new FileError(dir, 'exists and is not a directory', 'ENOTDIR');
  const createdDir = st === undefined;
  if (createdDir) {
    try {
      await fs.mkdir(dir);
    } catch (e) {
      throw new FileError(dir, `cannot create the directory: ${describeSystemError(e)}`, errnoCode(e));
    }
  }
  const holder: LockHolder = {
    pid: process.pid, host: hostname(), started: new Date().toISOString(), command: opts.command ?? '', token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(holder)}\n`;
  for (let attempt = 0; ; attempt++) {
    try {
      await fs.writeNew(path, text, 0o644);
      break;
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw new FileError(path, `cannot create the run lock: ${describeSystemError(e)}`, errnoCode(e));
    }
    if (attempt === 3) throw new RunLockError(`${path}: cannot take the run lock (other runs keep taking it)`);
    await breakIfStale(path, opts);
  }
  return installRelease(dir, path, holder, createdDir);
}

/** Remove the lock at `path` if its holder is gone (or, with force, on another host); else throw. */
async function breakIfStale(path: string, opts: RunLockOptions): Promise<void> {
  const fs = fileSystem();
  let bytes: Uint8Array, mtimeMs: number;
  try {
    [bytes, { mtimeMs }] = await Promise.all([fs.readFile(path), fs.stat(path)]);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return; // released meanwhile: try again
    throw new FileError(path, `cannot read the run lock: ${describeSystemError(e)}`, errnoCode(e));
  }
  const h = parseHolder(new TextDecoder().decode(bytes));
  const here = hostname();
  let why: string;
  if (h === undefined) {
    if (Date.now() - mtimeMs < UNREADABLE_STALE_MS) {
      throw new RunLockError(`${path}: another run is taking the lock right now (the lock file is not written yet); try again`);
    }
    why = 'an unreadable lock file (its run died while taking it)';
  } else if (h.host === here) {
    if (processExists(h.pid)) {
      throw new RunLockError(`${path}: another run is writing this checkpoint directory: ${describeHolder(h)}; wait for it to end, or stop it (kill ${h.pid})`, h);
    }
    why = `the lock of a run that is gone (${describeHolder(h)})`;
  } else {
    if (!opts.force) {
      throw new RunLockError(
        `${path}: another run holds this checkpoint directory: ${describeHolder(h)}; this host cannot tell whether it still runs: ` +
        'if it does not, pass --force to break the lock', h);
    }
    why = `the lock of ${describeHolder(h)} (--force)`;
  }
  // Move it aside, then check that what moved is the lock we judged: a competing run may have
  // broken it and taken a fresh one in between, and that one must stay.
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.broken`;
  try {
    await fs.rename(path, aside);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw new FileError(path, `cannot break the stale run lock: ${describeSystemError(e)}`, errnoCode(e));
  }
  const moved = await fs.readFile(aside).then((b) => parseHolder(new TextDecoder().decode(b)), () => undefined);
  if (h !== undefined && moved?.token !== h.token) {
    await fs.link(aside, path).catch(() => undefined); // put the fresh lock back
  } else {
    opts.warn?.(`warning: ${path}: breaking ${why}`);
  }
  await fs.unlink(aside).catch(() => undefined);
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function installRelease(dir: string, path: string, holder: LockHolder, createdDir: boolean): RunLock {
  let released = false;
  const releaseSync = (): void => {
    if (released) return;
    released = true;
    removeIfOurs(path, holder.token);
    process.removeListener('exit', releaseSync);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
  // Prepended, so it runs before any other handler of the signal: if there is one (a run that stops
  // cleanly), the lock stays until that run releases it; otherwise the signal would end the process
  // with the lock left behind, so release it and re-raise the signal for its default action.
  function onSignal(signal: NodeJS.Signals): void {
    if (process.listenerCount(signal) > 1) return;
    releaseSync();
    process.kill(process.pid, signal);
  }
  process.on('exit', releaseSync);
  for (const s of SIGNALS) process.prependListener(s, onSignal);
  return {
    dir, path, holder,
    release: async () => {
      releaseSync();
      if (createdDir) await fileSystem().rmdir(dir).catch(() => undefined); // only if the run left it empty
    },
  };
}

/** Run fn holding the run lock on dir. */
export async function withRunLock<T>(dir: string, opts: RunLockOptions, fn: (lock: RunLock) => Promise<T>): Promise<T> {
  const lock = await acquireRunLock(dir, opts);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
