// Which file, if any, a request path of `performer serve` names (Node). Only two kinds of file are
// ever served: the page's own (under the built dist/ folder, by extension) and, of the checkpoint
// folder it was given, checkpoint.json and model.safetensors. Everything else is "not found" —
// including paths that try to leave a root (`..`, its percent-encoded forms, encoded slashes or
// backslashes, NUL) and symbolic links whose target lies outside the root.

import { realpath, stat } from 'node:fs/promises';
import { extname, join, relative } from 'node:path';

/** Content types of the page's files; any other extension under the page root is not served. */
export const PAGE_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The checkpoint files the page may load (not the optimizer state, the corpus or anything else). */
export const CHECKPOINT_TYPES: Readonly<Record<string, string>> = {
  'checkpoint.json': 'application/json',
  'model.safetensors': 'application/octet-stream',
};

/** URL prefix under which the checkpoint's two files appear. */
export const CHECKPOINT_PREFIX = '/checkpoint/';

export interface ServedFile {
  path: string;
  type: string;
  size: number;
}

export interface FileRoots {
  /** The built page and library (dist/). */
  page: string;
  /** The checkpoint folder, when --checkpoint was given. */
  checkpoint?: string;
}

/**
 * The path segments of a URL path, decoded, or undefined when one is unsafe: `.`/`..`, empty
 * (a `//`), or containing `/`, `\` or NUL once decoded, or not valid percent-encoding.
 */
export function safeSegments(pathname: string): string[] | undefined {
  if (!pathname.startsWith('/')) return undefined;
  const segments: string[] = [];
  for (const raw of pathname.slice(1).split('/')) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (s === '' || s === '.' || s === '..' || /[/\\\0]/.test(s)) return undefined;
    segments.push(s);
  }
  return segments;
}

/**
 * `file` if it exists as a regular file reached from `root` without any symbolic link: its real path
 * must be exactly the root's real path plus the segments asked for. A link below the root is never
 * followed, also one that leads out and back in (`/up/dist/web/` through a link `up` → the root's
 * parent): a real-path prefix check alone would serve that.
 */
async function inside(root: string, file: string, type: string): Promise<ServedFile | undefined> {
  try {
    const [realRoot, realFile] = await Promise.all([realpath(root), realpath(file)]);
    if (realFile !== join(realRoot, relative(root, file))) return undefined;
    const st = await stat(realFile);
    return st.isFile() ? { path: realFile, type, size: st.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The file a raw request path (as sent, before any dot-segment normalisation) names, or undefined
 * (→ 404). A path ending in `/` names that folder's index.html; `/` itself names nothing (the
 * server redirects it to the page).
 */
export async function resolveRequestPath(pathname: string, roots: FileRoots): Promise<ServedFile | undefined> {
  const folder = pathname.endsWith('/');
  const segments = safeSegments(folder ? pathname.slice(0, -1) : pathname);
  if (!segments || segments.length === 0) return undefined;
  if (pathname.startsWith(CHECKPOINT_PREFIX)) {
    const name = segments[1];
    if (roots.checkpoint === undefined || folder || segments.length !== 2 || name === undefined || !Object.hasOwn(CHECKPOINT_TYPES, name)) return undefined;
    return inside(roots.checkpoint, join(roots.checkpoint, name), CHECKPOINT_TYPES[name]!);
  }
  if (folder) segments.push('index.html');
  const type = PAGE_TYPES[extname(segments[segments.length - 1]!)];
  if (type === undefined) return undefined;
  return inside(roots.page, join(roots.page, ...segments), type);
}
