// The fuzzing harness (fast-check) shared by test/fuzz-*.test.ts. Each target is a property over
// generated inputs: the parser returns, or throws its module's own error class, and nothing else;
// no case takes longer than CASE_LIMIT_MS; and what it returns is bounded by what it was given.
//
// `npm test` runs every target with a fixed seed and a few hundred cases (seconds in all);
// `npm run fuzz` (PERFORMER_FUZZ=long) runs LONG_FACTOR times as many, with the seed from
// PERFORMER_FUZZ_SEED when set. Every failure found is written to test/fixtures/fuzz/<target>/ as
// JSON and replayed first on every later run, so a bug once found stays a test. With
// PERFORMER_FUZZ_REPORT=FILE each target appends {target, regressions, runs, ms} to FILE.

import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';

export const LONG = process.env.PERFORMER_FUZZ === 'long';
export const LONG_FACTOR = 40;
export const SEED = process.env.PERFORMER_FUZZ_SEED !== undefined ? Number(process.env.PERFORMER_FUZZ_SEED) : 0x5eed14;
/** A case slower than this fails (catches super-linear blow-ups; a true infinite loop stalls the run instead). */
export const CASE_LIMIT_MS = 2000;
const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'fuzz');

/** Cases for a target: `short` under npm test, LONG_FACTOR × short under npm run fuzz. */
export function cases(short: number): number {
  return LONG ? short * LONG_FACTOR : short;
}

// Regression files hold the failing value as JSON, with byte arrays as {"$bytes": base64}.
function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('base64') } : v), 1);
}
function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown) => {
    const b = (v as { $bytes?: unknown } | null)?.$bytes;
    return typeof b === 'string' && Object.keys(v as object).length === 1 ? new Uint8Array(Buffer.from(b, 'base64')) : v;
  });
}

/** The values kept for `target` (test/fixtures/fuzz/<target>/*.json). */
export function regressions(target: string): { file: string; value: unknown }[] {
  const dir = join(FIXTURES, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => ({ file: join(dir, f), value: fromJson(readFileSync(join(dir, f), 'utf8')) }));
}

/** Keep a failing value as a regression case; returns the file written. */
export function keepRegression(target: string, value: unknown): string {
  const text = toJson(value);
  const dir = join(FIXTURES, target);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${createHash('sha256').update(text).digest('hex').slice(0, 16)}.json`);
  writeFileSync(file, `${text}\n`);
  return file;
}

/** fn(), where only errors of `allowed` may escape (they are swallowed); anything else is rethrown, marked. */
export async function onlyThrows<T>(allowed: ReadonlyArray<abstract new (...a: never[]) => Error>, fn: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    if (allowed.some((c) => e instanceof c)) {
      const msg = (e as Error).message;
      if (msg.includes('\n')) throw new Error(`error message is not one line: ${JSON.stringify(msg)}`);
      return undefined;
    }
    const err = e as Error;
    throw new Error(`unexpected ${err?.name ?? typeof e}: ${err?.message ?? String(e)}`, { cause: e });
  }
}

export interface FuzzStats { target: string; regressions: number; runs: number; ms: number }

/**
 * Replays the target's regression cases, then checks `property` on `runs` generated values. A
 * failure (property error or a case over CASE_LIMIT_MS) is kept as a regression file and fails the test.
 */
export async function fuzz<T>(target: string, arbitrary: fc.Arbitrary<T>, property: (value: T) => void | Promise<void>, runs: number): Promise<FuzzStats> {
  const t0 = performance.now();
  const timed = async (value: T): Promise<void> => {
    const start = performance.now();
    await property(value);
    const ms = performance.now() - start;
    if (ms > CASE_LIMIT_MS) throw new Error(`one case took ${ms.toFixed(0)} ms (limit ${CASE_LIMIT_MS} ms)`);
  };
  const kept = regressions(target);
  for (const { file, value } of kept) {
    try {
      await timed(value as T);
    } catch (e) {
      throw new Error(`${target}: regression case ${file} fails again: ${(e as Error).message}`, { cause: e });
    }
  }
  const details = await fc.check(fc.asyncProperty(arbitrary, timed), { seed: SEED, numRuns: runs });
  if (details.failed) {
    const value = details.counterexample?.[0];
    const file = value !== undefined ? keepRegression(target, value) : '(no counterexample)';
    throw new Error(`${target}: ${fc.defaultReportMessage(details) ?? 'failed'}\nkept as ${file}`);
  }
  const s = { target, regressions: kept.length, runs: details.numRuns, ms: performance.now() - t0 };
  if (process.env.PERFORMER_FUZZ_REPORT) appendFileSync(process.env.PERFORMER_FUZZ_REPORT, `${JSON.stringify(s)}\n`);
  return s;
}

/** Generic byte mutations of a valid input: flips, truncation, insertion, overwrite of a span. */
export function mutated(valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  );
  return fc.tuple(valid, fc.array(edit, { minLength: 1, maxLength: 4 })).map(([bytes, edits]) => {
    let b = Uint8Array.from(bytes);
    for (const e of edits) {
      const at = b.length === 0 ? 0 : e.at % (b.length + (e.kind === 'insert' ? 1 : 0));
      if (e.kind === 'flip' && b.length > 0) b[at % b.length] = b[at % b.length]! ^ (1 << e.bit);
      else if (e.kind === 'truncate') b = b.slice(0, at);
      else if (e.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]);
      else if (e.kind === 'overwrite') b.set(e.bytes.subarray(0, Math.max(0, b.length - at)), at);
    }
    return b;
  });
}
