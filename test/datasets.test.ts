// Data sets: streaming text/FASTA/gzip readers and their errors, train/validation splits, seeded
// batches (pure in the step), evaluation windows (each token predicted once), MLM masking, and the
// embedded default corpus.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { LmBatcher } from '../src/data/batches.js';
import { DataError, numDocuments, type TokenCorpus } from '../src/data/corpus.js';
import { countEvalWindows, evalBatches } from '../src/data/eval-windows.js';
import { gunzipChunks } from '../src/data/gzip.js';
import { IGNORE_INDEX } from '../src/data/ignore-index.js';
import { maskTokens } from '../src/data/masking.js';
import { corpusFromChunks, corpusFromText, formatFromName } from '../src/data/read.js';
import { splitCorpus } from '../src/data/split.js';
import { loadCorpusFile, readFileChunks } from '../src/data/read-node.js';
import { DEFAULT_CORPUS_RANGE, listSotuAddresses, loadCorpusText, loadDefaultCorpus, normaliseAddress } from '../src/data/sotu-node.js';
import { AminoTokenizer, ByteTokenizer } from '../src/data/tokenizer.js';
import { deriveSeed, murmur3, Rng, seededHash } from '../src/tensor/rng.js';

const byte = new ByteTokenizer();
const amino = new AminoTokenizer();
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-data-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, data: string | Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, data);
  return p;
}

/** Assert that the promise rejects with a one-line DataError matching all patterns. */
async function rejectsData(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof DataError, `expected DataError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

function docs(c: TokenCorpus): number[][] {
  const out: number[][] = [];
  for (let d = 0; d < numDocuments(c); d++) out.push([...c.tokens.subarray(c.docStarts[d]!, c.docStarts[d + 1]!)]);
  return out;
}

const FASTA = [
  ';an old-style comment',
  '',
  '>sp|P1|ONE first protein',
  'MKV',
  'LLa',
  '>sp|P2|TWO',
  '',
  '>sp|P3|THREE third\r',
  'GGbz*\r',
  'WY\r',
  '; comment inside',
  'C',
].join('\n');

describe('readers', () => {
  test('formatFromName', () => {
    assert.deepEqual(formatFromName('a/b.txt'), { format: 'text', gzip: false });
    assert.deepEqual(formatFromName('x.TXT.GZ'), { format: 'text', gzip: true });
    assert.deepEqual(formatFromName('u.fasta'), { format: 'fasta', gzip: false });
    assert.deepEqual(formatFromName('u.fa.gz'), { format: 'fasta', gzip: true });
    assert.deepEqual(formatFromName('u.faa'), { format: 'fasta', gzip: false });
    assert.deepEqual(formatFromName('noext'), { format: 'text', gzip: false });
  });

  test('text file: one document of all the bytes; gzip by name or by magic gives the same', async () => {
    const text = 'Hello, wörld!\nLine two — with UTF-8.\n'.repeat(50);
    const plain = await loadCorpusFile(await file('a.txt', text));
    const bytes = new TextEncoder().encode(text);
    assert.equal(plain.format, 'text');
    assert.equal(plain.tokenizer.name, 'byte');
    assert.deepEqual([...plain.tokens], [...bytes]);
    assert.deepEqual([...plain.docStarts], [0, bytes.length]);
    assert.equal(plain.stats.bytes, bytes.length);
    const gz = await loadCorpusFile(await file('a.txt.gz', gzipSync(text)));
    assert.deepEqual([...gz.tokens], [...bytes]);
    const magic = await loadCorpusFile(await file('a-compressed.txt', gzipSync(text)));
    assert.deepEqual([...magic.tokens], [...bytes]);
    const small = await loadCorpusFile(join(dir, 'a.txt.gz'), { chunkSize: 7 });
    assert.deepEqual([...small.tokens], [...bytes]);
    assert.ok(plain.tokens instanceof Uint16Array);
  });

  test('readFileChunks streams (many chunks for a small chunk size)', async () => {
    const p = await file('chunks.txt', 'x'.repeat(1000));
    let n = 0, total = 0;
    for await (const c of readFileChunks(p, { chunkSize: 64 })) {
      n++;
      total += c.length;
    }
    assert.equal(total, 1000);
    assert.ok(n >= 15, `${n} chunks`);
  });

  test('FASTA: records are bos + residues + eos; lines joined, CRLF, comments, lower case, empty record skipped', async () => {
    const c = await loadCorpusFile(await file('p.fasta', FASTA));
    assert.equal(c.format, 'fasta');
    assert.equal(c.tokenizer.name, 'amino');
    const t = amino;
    assert.deepEqual(docs(c), [
      [t.bos, ...t.encode('MKVLLA'), t.eos],
      [t.bos, ...t.encode('GGBZ*WYC'), t.eos],
    ]);
    assert.deepEqual(c.docNames, ['sp|P1|ONE', 'sp|P3|THREE']);
    assert.deepEqual(c.stats, { bytes: new TextEncoder().encode(FASTA).length, records: 3, skippedEmpty: 1 });
    assert.equal(t.decode(c.tokens), 'MKVLLAGGXXWYC');
  });

  test('FASTA: any chunking (1..9 bytes) and gzip give the same corpus', async () => {
    const want = await corpusFromText(FASTA, amino, 'x', 'fasta');
    const bytes = new TextEncoder().encode(FASTA);
    for (let size = 1; size <= 9; size++) {
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      const c = await corpusFromChunks(chunks, { format: 'fasta', tokenizer: amino, source: 'x' });
      assert.deepEqual([...c.tokens], [...want.tokens], `chunk size ${size}`);
      assert.deepEqual([...c.docStarts], [...want.docStarts]);
      assert.deepEqual(c.docNames, want.docNames);
    }
    const gz = await loadCorpusFile(await file('p.fa.gz', gzipSync(FASTA)), { chunkSize: 5 });
    assert.deepEqual([...gz.tokens], [...want.tokens]);
  });

  test('FASTA read with the byte tokenizer keeps residues as bytes, without line breaks', async () => {
    const c = await corpusFromText('>a\nMK\r\nV\n>b\nQQ\n', byte, 'x', 'fasta');
    assert.deepEqual(docs(c).map((d) => byte.decode(d)), ['MKV', 'QQ']);
  });

  test('explicit format overrides the name', async () => {
    const p = await file('proteins.dat', '>x\nMKV\n');
    const c = await loadCorpusFile(p, { format: 'fasta' });
    assert.equal(numDocuments(c), 1);
    await rejectsData(loadCorpusFile(p, { format: 'csv' as 'text' }), /unknown format "csv"/);
  });

  test('errors name the file: missing, directory, empty, empty after gunzip, bad gzip, truncated gzip', async () => {
    await rejectsData(loadCorpusFile(join(dir, 'nope.txt')), /nope\.txt: cannot read \(no such file\)/);
    const sub = join(dir, 'subdir');
    await mkdir(sub);
    await rejectsData(loadCorpusFile(sub), /subdir: cannot read \(is a directory\)/);
    await rejectsData(loadCorpusFile(await file('empty.txt', '')), /empty\.txt: file is empty$/);
    await rejectsData(loadCorpusFile(await file('empty.fasta', '')), /empty\.fasta: file is empty/);
    await rejectsData(loadCorpusFile(await file('empty.txt.gz', gzipSync(''))), /empty\.txt\.gz: file is empty \(after gzip decompression\)/);
    await rejectsData(loadCorpusFile(await file('bad.txt.gz', 'this is not gzip data')), /bad\.txt\.gz: not valid gzip data/);
    const full = gzipSync('some text that compresses '.repeat(200));
    await rejectsData(loadCorpusFile(await file('trunc.txt.gz', full.subarray(0, full.length >> 1))), /trunc\.txt\.gz: gzip data is truncated/);
    await rejectsData(loadCorpusFile(await file('trunc2.fa.gz', full.subarray(0, 12))), /trunc2\.fa\.gz: gzip data is truncated/);
  });

  test('FASTA errors: no records, only empty records, data before the first header', async () => {
    await rejectsData(loadCorpusFile(await file('none.fasta', '; only a comment\n\n\n')), /none\.fasta: no FASTA records/);
    await rejectsData(loadCorpusFile(await file('hollow.fasta', '>a\n>b\n\n')), /hollow\.fasta: all 2 FASTA record\(s\) have an empty sequence/);
    await rejectsData(loadCorpusFile(await file('plain.fasta', '\nMKV\n>a\nMK\n')), /plain\.fasta: line 2: sequence data before the first '>' header line/);
    await rejectsData(loadCorpusFile(await file('ws.txt', ' \n\t'), { tokenizer: amino }), /ws\.txt: no tokens/);
  });

  test('gunzipChunks (DecompressionStream) decompresses and reports truncation', async () => {
    const text = 'abc '.repeat(5000);
    const gz = gzipSync(text);
    const parts = [gz.subarray(0, 10), gz.subarray(10, 100), gz.subarray(100)];
    const c = await corpusFromChunks(gunzipChunks(parts, 'mem.gz'), { format: 'text', tokenizer: byte, source: 'mem.gz' });
    assert.equal(byte.decode(c.tokens), text);
    await rejectsData(corpusFromChunks(gunzipChunks([gz.subarray(0, gz.length - 20)], 'cut.gz'), { format: 'text', tokenizer: byte, source: 'cut.gz' }), /cut\.gz: bad or truncated gzip/);
  });
});

describe('hashing and seeds', () => {
  test('murmur3 matches reference vectors', () => {
    const e = new TextEncoder();
    assert.equal(murmur3(e.encode(''), 0), 0);
    assert.equal(murmur3(e.encode(''), 1), 0x514e28b7);
    assert.equal(murmur3(e.encode('hello'), 0), 0x248bfa47);
    assert.equal(murmur3(e.encode('The quick brown fox jumps over the lazy dog'), 0x9747b28c), 0x2fa826cd);
  });

  test('deriveSeed: deterministic, distinct per tag and seed, valid Rng seeds', () => {
    const a = deriveSeed(42, 'lm-batches');
    assert.equal(a, deriveSeed(42, 'lm-batches'));
    assert.notEqual(a, deriveSeed(42, 'mlm-masks'));
    assert.notEqual(a, deriveSeed(43, 'lm-batches'));
    assert.notEqual(deriveSeed(2 ** 40, 'x'), deriveSeed(0, 'x'));
    for (const s of [0, 1, 2 ** 53 - 1]) assert.ok(Number.isSafeInteger(deriveSeed(s, 't')) && deriveSeed(s, 't') >= 0);
    assert.notEqual(seededHash(0, 'a'), seededHash(0, 'b'));
    assert.throws(() => deriveSeed(-1, 'x'), /seed must be a non-negative integer, got -1/); // a tensor-level function now (src/tensor/rng.ts): a plain Error
  });
});

/** A FASTA corpus of n records named P0..P(n-1), record i has 3 + (i % 7) residues. */
async function proteins(n: number): Promise<TokenCorpus> {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`>P${i} protein ${i}`, AMINO.repeat(3).slice(i % 5, i % 5 + 3 + (i % 7)));
  return corpusFromText(lines.join('\n'), amino, 'gen.fasta', 'fasta');
}
const AMINO = 'ACDEFGHIKLMNPQRSTVWY';

describe('train / validation split', () => {
  test('text: the last fraction of the bytes is validation; disjoint, complete, deterministic', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const c = await corpusFromText(text, byte);
    const { train, validation, info } = splitCorpus(c, { fraction: 0.1 });
    assert.equal(info.mode, 'tail');
    assert.equal(validation.tokens.length, 100);
    assert.equal(train.tokens.length, 900);
    assert.equal(byte.decode(train.tokens) + byte.decode(validation.tokens), text);
    assert.deepEqual([...train.docStarts], [0, 900]);
    assert.deepEqual([...validation.docStarts], [0, 100]);
    assert.deepEqual(info, { mode: 'tail', fraction: 0.1, seed: 0, trainTokens: 900, validationTokens: 100, trainDocuments: 1, validationDocuments: 1 });
    const none = splitCorpus(c, { fraction: 0 });
    assert.equal(none.validation.tokens.length, 0);
    assert.equal(numDocuments(none.validation), 0);
    assert.equal(none.train.tokens.length, 1000);
  });

  test('FASTA: whole records by seeded hash of their id; order-independent; near the fraction', async () => {
    const c = await proteins(2000);
    const s1 = splitCorpus(c, { fraction: 0.1, seed: 7 });
    assert.equal(s1.info.mode, 'documents');
    const trainIds = new Set(s1.train.docNames), valIds = new Set(s1.validation.docNames);
    assert.equal(trainIds.size + valIds.size, 2000);
    for (const id of valIds) assert.ok(!trainIds.has(id), `${id} on both sides`);
    assert.ok(valIds.size > 150 && valIds.size < 250, `${valIds.size} held out of 2000`);
    // Tokens of each record are carried over intact.
    const byName = new Map(c.docNames!.map((n, d) => [n, docs(c)[d]!]));
    docs(s1.validation).forEach((d, i) => assert.deepEqual(d, byName.get(s1.validation.docNames![i]!)));
    assert.equal(s1.train.tokens.length + s1.validation.tokens.length, c.tokens.length);
    // Same seed → same split; another seed → another split; record order does not matter.
    assert.deepEqual(splitCorpus(c, { fraction: 0.1, seed: 7 }).validation.docNames, s1.validation.docNames);
    assert.notDeepEqual(splitCorpus(c, { fraction: 0.1, seed: 8 }).validation.docNames, s1.validation.docNames);
    const reversed = await corpusFromText(
      Array.from({ length: 2000 }, (_, k) => 1999 - k).map((i) => `>P${i}\n${AMINO.repeat(3).slice(i % 5, i % 5 + 3 + (i % 7))}`).join('\n'),
      amino, 'rev.fasta', 'fasta',
    );
    assert.deepEqual(new Set(splitCorpus(reversed, { fraction: 0.1, seed: 7 }).validation.docNames), valIds);
  });

  test('tiny corpora keep one document on each side; bad options are rejected', async () => {
    const two = await proteins(2);
    const s = splitCorpus(two, { fraction: 0.01 });
    assert.equal(numDocuments(s.train), 1);
    assert.equal(numDocuments(s.validation), 1);
    const one = await proteins(1);
    assert.throws(() => splitCorpus(one, { fraction: 0.1, mode: 'documents' }), /at least 2 documents, found 1/);
    assert.equal(splitCorpus(one, { fraction: 0.5 }).info.mode, 'tail');
    const c = await corpusFromText('abc', byte);
    assert.throws(() => splitCorpus(c, { fraction: 1 }), /fraction must be in \[0, 1\)/);
    assert.throws(() => splitCorpus(c, { fraction: -0.1 }), DataError);
    assert.throws(() => splitCorpus(c, { fraction: 0.5 }), /3 tokens are too few/);
  });
});

describe('batches', () => {
  let corpus: TokenCorpus;
  before(async () => {
    corpus = await corpusFromText(Array.from({ length: 5000 }, (_, i) => String.fromCharCode(32 + (i % 95))).join(''), byte);
  });

  test('windows of seqLen + 1: inputs and next-token targets from the corpus', () => {
    const b = new LmBatcher(corpus, { batchSize: 4, seqLen: 16, seed: 1 }).batch(0);
    assert.equal(b.inputs.length, 4 * 16);
    assert.equal(b.targets.length, 4 * 16);
    assert.equal(b.windows.length, 4 * 17);
    assert.equal(b.numTargets, 64);
    for (let r = 0; r < 4; r++) {
      const s = b.starts[r]!;
      assert.ok(s >= 0 && s + 17 <= corpus.tokens.length);
      assert.deepEqual([...b.windows.subarray(r * 17, r * 17 + 17)], [...corpus.tokens.subarray(s, s + 17)]);
      assert.deepEqual([...b.inputs.subarray(r * 16, r * 16 + 16)], [...corpus.tokens.subarray(s, s + 16)]);
      assert.deepEqual([...b.targets.subarray(r * 16, r * 16 + 16)], [...corpus.tokens.subarray(s + 1, s + 17)]);
    }
  });

  test('a batch is a pure function of (seed, step): a resumed run sees the same batches', () => {
    const opts = { batchSize: 8, seqLen: 32, seed: 123 };
    const straight = new LmBatcher(corpus, opts);
    const seen = Array.from({ length: 20 }, (_, s) => [...straight.batch(s).starts]);
    const resumed = new LmBatcher(corpus, opts); // fresh object, as after loading a checkpoint at step 12
    for (let s = 12; s < 20; s++) assert.deepEqual([...resumed.batch(s).starts], seen[s]);
    assert.deepEqual([...resumed.batch(3).inputs], [...straight.batch(3).inputs], 'order of calls does not matter');
    assert.notDeepEqual(seen[0], seen[1]);
    assert.notDeepEqual([...new LmBatcher(corpus, { ...opts, seed: 124 }).batch(0).starts], seen[0]);
  });

  test('starts cover the whole valid range', () => {
    const T = 100, n = corpus.tokens.length;
    const bt = new LmBatcher(corpus, { batchSize: 64, seqLen: T, seed: 5 });
    let min = Infinity, max = -Infinity;
    for (let s = 0; s < 50; s++) for (const x of bt.batch(s).starts) { min = Math.min(min, x); max = Math.max(max, x); }
    assert.ok(min >= 0 && min < 20, `min ${min}`);
    assert.ok(max <= n - T - 1 && max > n - T - 1 - 20, `max ${max}`);
  });

  test('document mode: crops of one record, padded with pad and ignored targets', async () => {
    const c = await proteins(30);
    const T = 8;
    const bt = new LmBatcher(c, { batchSize: 16, seqLen: T, seed: 3, mode: 'document' });
    for (let step = 0; step < 10; step++) {
      const b = bt.batch(step);
      let targets = 0;
      for (let r = 0; r < 16; r++) {
        const s = b.starts[r]!;
        const d = c.docStarts.findIndex((x, i) => i < c.docStarts.length - 1 && x <= s && s < c.docStarts[i + 1]!);
        const end = c.docStarts[d + 1]!;
        const len = Math.min(T + 1, end - s);
        const row = [...b.windows.subarray(r * (T + 1), (r + 1) * (T + 1))];
        assert.deepEqual(row.slice(0, len), [...c.tokens.subarray(s, s + len)]);
        assert.ok(row.slice(len).every((x) => x === amino.pad));
        const tg = [...b.targets.subarray(r * T, (r + 1) * T)];
        assert.ok(tg.slice(len - 1).every((x) => x === IGNORE_INDEX));
        assert.ok(tg.slice(0, len - 1).every((x) => x >= 0));
        targets += len - 1;
      }
      assert.equal(b.numTargets, targets);
    }
  });

  test('errors: corpus shorter than a window, bad sizes, bad step', async () => {
    const small = await corpusFromText('abcdef', byte, 'small.txt');
    assert.throws(() => new LmBatcher(small, { batchSize: 1, seqLen: 6, seed: 0 }), /small\.txt: 6 tokens, fewer than one window of seqLen \+ 1 = 7/);
    assert.doesNotThrow(() => new LmBatcher(small, { batchSize: 1, seqLen: 5, seed: 0 }));
    assert.throws(() => new LmBatcher(corpus, { batchSize: 0, seqLen: 5, seed: 0 }), /batch size must be a positive integer/);
    assert.throws(() => new LmBatcher(corpus, { batchSize: 1, seqLen: 2.5, seed: 0 }), /sequence length/);
    const bt = new LmBatcher(corpus, { batchSize: 1, seqLen: 5, seed: 0 });
    assert.throws(() => bt.batch(-1), /step must be an integer/);
    assert.throws(() => bt.batch(2 ** 32), /step must be an integer/);
  });
});

describe('evaluation windows', () => {
  for (const n of [2, 17, 64, 65, 66, 1000]) {
    test(`packed: every token but the first is a target exactly once (n = ${n})`, async () => {
      const tokens = Array.from({ length: n }, (_, i) => i % 200);
      const c = await corpusFromChunks([Uint8Array.from(tokens)], { format: 'text', tokenizer: byte, source: 'x' });
      const T = 16, B = 3;
      const seen: number[] = [];
      let windows = 0, totalTargets = 0;
      for (const b of evalBatches(c, { seqLen: T, batchSize: B })) {
        assert.ok(b.batchSize >= 1 && b.batchSize <= B);
        assert.equal(b.inputs.length, b.batchSize * T);
        for (let r = 0; r < b.batchSize; r++) {
          windows++;
          for (let j = 0; j < T; j++) {
            const t = b.targets[r * T + j]!;
            if (t === IGNORE_INDEX) {
              assert.equal(b.inputs[r * T + j], byte.pad);
              continue;
            }
            // The input at j is the token before the target.
            seen.push(t);
            if (j > 0) assert.equal(b.inputs[r * T + j], b.targets[r * T + j - 1]);
          }
        }
        totalTargets += b.numTargets;
      }
      assert.deepEqual(seen, tokens.slice(1));
      assert.equal(totalTargets, n - 1);
      assert.equal(windows, countEvalWindows(c, T));
      assert.equal(windows, Math.ceil((n - 1) / T));
    });
  }

  test('document mode: windows stay inside records; every token but each bos predicted once', async () => {
    const c = await proteins(12);
    const seen: number[] = [];
    for (const b of evalBatches(c, { seqLen: 4, batchSize: 5, mode: 'document' })) {
      for (const t of b.targets) if (t !== IGNORE_INDEX) seen.push(t);
    }
    const want = docs(c).flatMap((d) => d.slice(1));
    assert.deepEqual(seen, want);
    assert.equal(countEvalWindows(c, 4, 'document'), docs(c).reduce((a, d) => a + Math.ceil((d.length - 1) / 4), 0));
  });

  test('maxWindows stops early', async () => {
    const c = await corpusFromText('x'.repeat(1000), byte);
    const batches = [...evalBatches(c, { seqLen: 10, batchSize: 4, maxWindows: 6 })];
    assert.deepEqual(batches.map((b) => b.batchSize), [4, 2]);
    assert.equal(batches.reduce((a, b) => a + b.numTargets, 0), 60);
  });
});

describe('MLM masking', () => {
  test('≈15% chosen; of those ≈80% mask, 10% random, 10% kept; specials never chosen', () => {
    const t = amino;
    const n = 200_000;
    const ids = new Int32Array(n);
    const rng0 = new Rng(9);
    for (let i = 0; i < n; i++) ids[i] = i % 50 === 0 ? t.bos : i % 50 === 49 ? t.eos : Math.floor(rng0.uniform() * 21);
    const { inputs, targets, numTargets } = maskTokens(ids, t, new Rng(1));
    let chosen = 0, masked = 0, random = 0, kept = 0, maskable = 0;
    for (let i = 0; i < n; i++) {
      const special = ids[i] === t.bos || ids[i] === t.eos;
      if (!special) maskable++;
      if (targets[i] === IGNORE_INDEX) {
        assert.equal(inputs[i], ids[i], 'unchosen tokens are unchanged');
        continue;
      }
      assert.ok(!special, 'bos/eos are never chosen');
      assert.equal(targets[i], ids[i], 'target is the original token');
      chosen++;
      if (inputs[i] === t.mask) masked++;
      else if (inputs[i] === ids[i]) kept++;
      else {
        random++;
        assert.ok(inputs[i]! >= 0 && inputs[i]! < t.numRegular, 'random replacements are regular tokens');
      }
    }
    assert.equal(numTargets, chosen);
    const p = chosen / maskable;
    assert.ok(Math.abs(p - 0.15) < 0.005, `chosen rate ${p}`);
    assert.ok(Math.abs(masked / chosen - 0.8) < 0.01, `mask share ${masked / chosen}`);
    // A random draw equals the original 1/21 of the time, which then counts as kept.
    const rnd = random / chosen, kpt = kept / chosen;
    assert.ok(Math.abs(rnd - 0.1 * 20 / 21) < 0.01, `random share ${rnd}`);
    assert.ok(Math.abs(kpt - (0.1 + 0.1 / 21)) < 0.01, `kept share ${kpt}`);
  });

  test('deterministic given the rng; pad and mask are never chosen; unk may be', () => {
    const t = byte;
    const ids = Int32Array.from({ length: 5000 }, (_, i) => [t.pad, t.mask, t.unk, 65][i % 4]!);
    const a = maskTokens(ids, t, new Rng(4, 2));
    const b = maskTokens(ids, t, new Rng(4, 2));
    assert.deepEqual([...a.inputs], [...b.inputs]);
    assert.deepEqual([...a.targets], [...b.targets]);
    for (let i = 0; i < ids.length; i++) if (ids[i] === t.pad || ids[i] === t.mask) assert.equal(a.targets[i], IGNORE_INDEX);
    assert.ok([...a.targets].some((x) => x === t.unk));
    assert.throws(() => maskTokens(ids, t, new Rng(0), { prob: 1.5 }), /masking probability/);
    assert.throws(() => maskTokens(ids, t, new Rng(0), { maskShare: 0.95, randomShare: 0.1 }), /at most 1/);
  });

  test('maskedBatch: [batch, seqLen] windows, deterministic per step', async () => {
    const c = await proteins(40);
    const bt = new LmBatcher(c, { batchSize: 4, seqLen: 12, seed: 2, mode: 'document' });
    const a = bt.maskedBatch(5), b = new LmBatcher(c, { batchSize: 4, seqLen: 12, seed: 2, mode: 'document' }).maskedBatch(5);
    assert.equal(a.inputs.length, 48);
    assert.deepEqual([...a.inputs], [...b.inputs]);
    assert.deepEqual([...a.targets], [...b.targets]);
    assert.notDeepEqual([...bt.maskedBatch(6).inputs], [...a.inputs]);
  });
});

describe('default corpus (State of the Union addresses, public domain)', () => {
  test('the package ships the texts; the default range is 1934–2021, about 3 MB', async () => {
    const all = await listSotuAddresses();
    assert.equal(all.length, 233);
    assert.equal(all[0]!.year, 1790);
    assert.equal(all.at(-1)!.year, 2021);
    const c = await loadCorpusText();
    assert.equal(c.name, `sotu-${DEFAULT_CORPUS_RANGE.from}-${DEFAULT_CORPUS_RANGE.to}`);
    assert.ok(c.bytes.length > 2_500_000 && c.bytes.length < 4_000_000, `${c.bytes.length} bytes`);
    assert.equal(c.addresses.length, 90);
    assert.match(c.text.slice(0, 40), /^Mr\. President, Mr\. Speaker/);
    assert.ok(c.text.endsWith('\n\n'));
    assert.ok(!/[\u0000-\u0008\u000b-\u001f]/.test(c.text), 'no control characters');
    assert.match(c.sha256, /^[0-9a-f]{64}$/);
    const again = await loadCorpusText();
    assert.equal(again.sha256, c.sha256);
  });

  test('year ranges; tokenized default corpus; a tail split holds out the latest addresses', async () => {
    const w = await loadCorpusText({ from: 1790, to: 1790 });
    assert.equal(w.addresses.length, 1);
    assert.match(w.text, /^Fellow-Citizens of the Senate/);
    await assert.rejects(loadCorpusText({ from: 1700, to: 1780 }), /no address from 1700 to 1780/);
    await assert.rejects(loadCorpusText({ from: 2000, to: 1990 }), /from ≤ to/);
    const d = await loadDefaultCorpus();
    assert.equal(d.tokenizer.name, 'byte');
    assert.equal(numDocuments(d), 1);
    const { validation } = splitCorpus(d, { fraction: 0.05 });
    assert.match(byte.decode(validation.tokens), /Applause/);
    assert.equal(normaliseAddress('\r\n a\u0002b\r\nc \n'), 'ab\nc');
  });
});
