// Fuzzing the PyTorch reader (src/io/zip.ts, src/io/pickle.ts, src/io/torch-pt.ts): random bytes,
// damaged .pt archives, and archives whose data.pkl or tensor storages are mutated with their
// CRC-32 recomputed (so the mutation reaches the unpickler and the tensor gather instead of
// stopping at the checksum). Property: readTorchStateDict returns, or throws ZipError, PickleError
// or TorchFileError, nothing else; no case is slow; no tensor holds more values than the file has bytes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PickleError } from '../src/io/pickle.js';
import { readTorchStateDict, TorchFileError } from '../src/io/torch-pt.js';
import { readZip, ZipError } from '../src/io/zip.js';
import { cases, fuzz, mutated, onlyThrows } from './fuzz-harness.js';
import { storedZip } from './zip-writer.js';

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'performer-pytorch');
const PT_FILES = ['bidirectional/model.pt', 'reader/dtypes.pt', 'reader/module.pt'].map((f) => new Uint8Array(readFileSync(join(FIXTURES, f))));

async function readsOrRefuses(bytes: Uint8Array): Promise<void> {
  const out = await onlyThrows([ZipError, PickleError, TorchFileError], () => readTorchStateDict(bytes, 'fuzz.pt'));
  if (!out) return;
  let values = 0;
  for (const t of out.values()) values += t.data.length;
  assert.ok(values <= bytes.length, `${values} values from ${bytes.length} bytes`);
}

/** One of the fixture archives with the entry whose name matches `which` replaced by a mutation of it. */
function withMutatedEntry(which: RegExp): fc.Arbitrary<Uint8Array> {
  return fc.integer({ min: 0, max: PT_FILES.length - 1 }).chain((i) => {
    const entries = readZip(PT_FILES[i]!);
    const names = [...entries.keys()].filter((n) => which.test(n));
    return fc.constantFrom(...names).chain((name) => mutated(fc.constant(entries.get(name)!)).map((m) => storedZip(new Map([...entries].map(([k, v]) => [k, k === name ? m : v])))));
  });
}

describe('fuzz: PyTorch .pt reader', () => {
  test('the zip writer of this test makes archives the reader accepts (the fuzz starts from valid files)', () => {
    for (const pt of PT_FILES.slice(0, 2)) { // module.pt is a whole pickled module, which the reader refuses by design
      const again = readTorchStateDict(storedZip(readZip(pt)), 'rezipped.pt');
      assert.deepEqual([...again.keys()], [...readTorchStateDict(pt).keys()]);
    }
  });

  test('a tensor view of 10^10 elements over a 384-element storage (stride 0) is refused before allocating', () => {
    const entries = readZip(PT_FILES[0]!);
    const pkl = entries.get('model/data.pkl')!;
    // token_emb.weight: offset 0, size (24, 16), stride (16, 1) → size (100000, 100000), stride (0, 0).
    const from = [75, 0, 75, 24, 75, 16, 134, 113, 9, 75, 16, 75, 1, 134];
    const at = pkl.findIndex((_, i) => from.every((b, j) => pkl[i + j] === b));
    assert.ok(at > 0);
    const big = [74, 0xa0, 0x86, 0x01, 0x00]; // BININT 100000
    const lie = Uint8Array.from([...pkl.subarray(0, at), 75, 0, ...big, ...big, 134, 113, 9, 75, 0, 75, 0, 134, ...pkl.subarray(at + from.length)]);
    const bytes = storedZip(new Map([...entries].map(([k, v]) => [k, k === 'model/data.pkl' ? lie : v])));
    assert.throws(() => readTorchStateDict(bytes, 'lie.pt'), (e: unknown) => {
      assert.ok(e instanceof TorchFileError, String(e));
      assert.match(e.message, /token_emb\.weight.*10000000000 elements.*384-element storage/);
      return true;
    });
  });

  test('random bytes', async () => {
    await fuzz('torch-bytes', fc.uint8Array({ maxLength: 300 }), readsOrRefuses, cases(200));
  });

  test('damaged archives (mostly caught by offsets and CRC-32)', async () => {
    await fuzz('torch-archive', fc.integer({ min: 0, max: PT_FILES.length - 1 }).chain((i) => mutated(fc.constant(PT_FILES[i]!))), readsOrRefuses, cases(150));
  });

  test('data.pkl mutated, CRC-32 recomputed: the weights-only unpickler', async () => {
    await fuzz('torch-pickle', withMutatedEntry(/data\.pkl$/), readsOrRefuses, cases(400));
  });

  test('tensor storages mutated (lengths, contents), CRC-32 recomputed', async () => {
    await fuzz('torch-storage', withMutatedEntry(/\/data\/\d+$/), readsOrRefuses, cases(150));
  });
});
