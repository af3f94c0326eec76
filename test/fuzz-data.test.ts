// Fuzzing the data readers and tokenizers: text and FASTA tokenization of arbitrary bytes in
// arbitrary chunks, gzip streams (web DecompressionStream and the Node file reader) damaged at
// random, tokenizer JSON, and the tokenizers' round trips. Property for the readers: a corpus or a
// DataError, nothing else; for the tokenizers: encode then decode gives back the bytes exactly.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DataError } from '../src/data/corpus.js';
import { gunzipChunks } from '../src/data/gzip.js';
import { corpusFromChunks } from '../src/data/read.js';
import { loadCorpusFile } from '../src/data/read-node.js';
import { AminoTokenizer, ByteTokenizer, TokenizerError, tokenizerFromJSON } from '../src/data/tokenizer.js';
import { cases, fuzz, mutated, onlyThrows } from './fuzz-harness.js';

let tmp: string;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'performer-fuzz-data-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const byte = new ByteTokenizer();
const amino = new AminoTokenizer();

/** bytes cut at the given points (in any order, out of range ones folded in). */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => (bytes.length ? c % (bytes.length + 1) : 0)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** FASTA-like bytes: headers, sequence lines, blank lines, junk, CRLF, in any mix. */
const fastaish = fc.array(fc.oneof(
  fc.string({ maxLength: 12 }).map((s) => `>${s}\n`),
  fc.stringMatching(/^[ACDEFGHIKLMNPQRSTVWYXBZacgt*\- ]{0,30}$/).map((s) => `${s}\n`),
  fc.constantFrom('\n', '\r\n', '>\n', ';comment\n', '>\r\n'),
  fc.string({ maxLength: 8, unit: 'binary' }),
), { maxLength: 12 }).map((parts) => new TextEncoder().encode(parts.join('')));

const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), fastaish);

describe('fuzz: text and FASTA readers', () => {
  for (const format of ['text', 'fasta'] as const) {
    test(`${format}: arbitrary bytes in arbitrary chunks give a corpus or a DataError; chunking never changes the result`, async () => {
      await fuzz(`reader-${format}`, fc.record({ bytes: anyBytes, cuts: fc.array(fc.nat(), { maxLength: 5 }) }), async ({ bytes, cuts }) => {
        const tokenizer = format === 'fasta' ? amino : byte;
        const whole = await onlyThrows([DataError], () => corpusFromChunks([bytes], { format, tokenizer, source: 'fuzz' }));
        const parts = await onlyThrows([DataError], () => corpusFromChunks(chunked(bytes, cuts), { format, tokenizer, source: 'fuzz' }));
        assert.equal(whole === undefined, parts === undefined, 'same verdict for any chunking');
        if (whole && parts) {
          assert.deepEqual(parts.tokens, whole.tokens);
          assert.deepEqual(parts.docStarts, whole.docStarts);
          assert.ok(whole.tokens.length <= bytes.length + 2 * (whole.docStarts.length - 1), 'at most one token per byte (+ bos/eos per record)');
        }
      }, cases(300));
    });
  }
});

describe('fuzz: gzip', () => {
  const payload = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => new Uint8Array(gzipSync(b)));

  test('damaged gzip streams (DecompressionStream): a corpus or a DataError', async () => {
    await fuzz('gzip-stream', fc.record({ gz: mutated(payload), cuts: fc.array(fc.nat(), { maxLength: 3 }) }), async ({ gz, cuts }) => {
      await onlyThrows([DataError], () => corpusFromChunks(gunzipChunks(chunked(gz, cuts), 'fuzz.gz'), { format: 'text', tokenizer: byte, source: 'fuzz.gz' }));
    }, cases(150));
  });

  test('damaged .gz files (the Node stream reader): a corpus or a DataError', async () => {
    let i = 0;
    await fuzz('gzip-file', mutated(payload), async (gz) => {
      const file = join(tmp, `f${i++}.txt.gz`);
      await writeFile(file, gz);
      await onlyThrows([DataError], () => loadCorpusFile(file, { chunkSize: 64 }));
      await rm(file);
    }, cases(40));
  });
});

describe('fuzz: tokenizers', () => {
  test('byte: any bytes encode to themselves, and decode (whole or streamed in any chunks) then encode gives them back exactly when they are UTF-8', async () => {
    await fuzz('tokenizer-byte', fc.record({ bytes: fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => new TextEncoder().encode(s))), cuts: fc.array(fc.nat(), { maxLength: 4 }) }), ({ bytes, cuts }) => {
      const ids = byte.encodeBytes(bytes);
      assert.deepEqual(Array.from(ids), Array.from(bytes));
      const text = byte.decode(ids);
      const stream = byte.streamDecoder();
      const streamed = chunked(Uint8Array.from(ids), cuts).map((c) => stream.push(Array.from(c))).join('') + stream.end();
      assert.equal(streamed, text, 'streaming in any chunks = decoding whole');
      let valid = true;
      try {
        new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        valid = false;
      }
      if (valid) assert.deepEqual(Array.from(byte.encode(text)), Array.from(bytes), 'UTF-8 bytes round-trip exactly');
    }, cases(400));
  });

  test('byte: every well-formed string round-trips through encode and decode', async () => {
    await fuzz('tokenizer-byte-text', fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
      assert.equal(byte.decode(byte.encode(s)), s);
    }, cases(300));
  });

  test('amino: regular ids round-trip through decode and encode; text comes back upper-case, whitespace dropped, non-residues as X or unk', async () => {
    await fuzz('tokenizer-amino', fc.record({ ids: fc.array(fc.integer({ min: 0, max: amino.numRegular - 1 }), { maxLength: 40 }), text: fc.string({ maxLength: 30 }) }), ({ ids, text }) => {
      assert.deepEqual(Array.from(amino.encode(amino.decode(ids))), ids);
      const enc = amino.encode(text);
      for (const id of enc) assert.ok(id >= 0 && id < amino.vocabSize);
      const back = amino.decode(enc);
      assert.equal(back, amino.decode(amino.encode(back)), 'decode ∘ encode is idempotent');
    }, cases(300));
  });

  test('tokenizer JSON: any JSON gives a tokenizer or a TokenizerError', async () => {
    const good = [byte.toJSON(), amino.toJSON()];
    const near = fc.tuple(fc.constantFrom(...good), fc.constantFrom('type', 'version', 'vocabSize', 'special'), fc.jsonValue({ maxDepth: 2 }))
      .map(([g, k, v]) => ({ ...g, [k]: v }));
    await fuzz('tokenizer-json', fc.oneof(fc.jsonValue({ maxDepth: 3 }), near), async (j) => {
      await onlyThrows([TokenizerError], () => tokenizerFromJSON(j));
    }, cases(300));
  });
});
