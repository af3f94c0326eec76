// The .pt reader: zip archive, weights-only unpickler, tensors from storages. A pickle that would
// call os.system is refused unrun; a whole pickled module is refused with advice; truncated and
// lying files give one-line errors naming what is wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readZip } from '../src/io/zip.js';
import { storedZip as zip } from './zip-writer.js';
import { unpickleWeightsOnly } from '../src/io/pickle.js';
import { readTorchStateDict } from '../src/io/torch-pt.js';

const READER = 'test/fixtures/performer-pytorch/reader/';

const ascii = (s: string): number[] => Array.from(new TextEncoder().encode(s));
const unicode = (s: string): number[] => [0x58, ...new Uint8Array(Uint32Array.of(s.length).buffer), ...ascii(s)];

/** {name: _rebuild_tensor_v2(storage('0', FloatStorage, numel), offset, size, stride)} as protocol-2 opcodes. */
function statePickle(numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const ints = (xs: number[]): number[] => [0x28, ...xs.flatMap((x) => [0x4b, x]), 0x74];
  return Uint8Array.from([
    0x80, 2, 0x7d, 0x28, ...unicode('w'),
    0x63, ...ascii('torch._utils\n_rebuild_tensor_v2\n'),
    0x28, 0x28, ...unicode('storage'), 0x63, ...ascii('torch\nFloatStorage\n'), ...unicode('0'), ...unicode('cpu'), 0x4b, numel, 0x74, 0x51,
    0x4b, offset, ...ints(size), ...ints(stride), 0x89, 0x63, ...ascii('collections\nOrderedDict\n'), 0x29, 0x52, 0x74, 0x52,
    0x75, 0x2e,
  ]);
}

const f32 = (xs: number[]): Uint8Array => new Uint8Array(Float32Array.from(xs).buffer);

test('every dtype, 0-d int64, and strided views (transpose, slice) read as torch stores them', () => {
  const sd = readTorchStateDict(readFileSync(`${READER}dtypes.pt`));
  const base = Array.from({ length: 24 }, (_, i) => i / 8 - 1);
  for (const [k, dtype] of [['f32', 'F32'], ['f64', 'F64'], ['f16', 'F16'], ['bf16', 'BF16']] as const) {
    assert.equal(sd.get(k)!.dtype, dtype);
    assert.deepEqual(sd.get(k)!.shape, [4, 6]);
    assert.deepEqual(Array.from(sd.get(k)!.data), base, k);
  }
  assert.deepEqual([sd.get('i64_scalar')!.shape, Array.from(sd.get('i64_scalar')!.data)], [[], [7]]);
  assert.deepEqual(Array.from(sd.get('i32')!.data), [-2, -1, 0, 1, 2]);
  assert.deepEqual(Array.from(sd.get('u8')!.data), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(sd.get('bool')!.data), [1, 0, 1]);
  const tr = sd.get('transposed')!;
  assert.deepEqual(tr.shape, [6, 4]);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 4; j++) assert.equal(tr.data[i * 4 + j], base[j * 6 + i]);
  assert.deepEqual(Array.from(sd.get('slice')!.data), [8, 9, 10, 14, 15, 16].map((i) => base[i]));
  assert.deepEqual([...sd.keys()], ['f32', 'f64', 'f16', 'bf16', 'i64_scalar', 'i32', 'u8', 'bool', 'transposed', 'slice']);
});

test('a pickle that would call os.system is refused, naming the global, and nothing runs', () => {
  assert.throws(() => readTorchStateDict(readFileSync(`${READER}evil.pt`), 'evil.pt'), /evil\.pt: data\.pkl: refused global posix\.system: .*nothing was run/);
  const marker = join(mkdtempSync(join(tmpdir(), 'perf-pickle-')), 'ran');
  for (const mod of ['posix', 'os', 'builtins', 'subprocess']) {
    const fn = mod === 'builtins' ? 'eval' : mod === 'subprocess' ? 'call' : 'system';
    const evil = Uint8Array.from([0x80, 2, 0x63, ...ascii(`${mod}\n${fn}\n`), ...unicode(`touch ${marker}`), 0x85, 0x52, 0x2e]);
    assert.throws(() => unpickleWeightsOnly(evil, 'x'), new RegExp(`refused global ${mod}\\.${fn}`));
    assert.throws(() => readTorchStateDict(zip([['archive/data.pkl', evil]])), new RegExp(`refused global ${mod}\\.${fn}`));
  }
  assert.equal(existsSync(marker), false);
});

test('torch.save(model) is refused with a message to save state_dict()', () => {
  assert.throws(() => readTorchStateDict(readFileSync(`${READER}module.pt`)), /refused global performer_pytorch\.performer_pytorch\.PerformerLM.*save model\.state_dict\(\) instead/);
});

test('a crafted state dict reads; truncated or lying archives and pickles give clear errors', () => {
  const good = zip([['archive/data.pkl', statePickle(6, 1, [2, 2], [2, 1])], ['archive/data/0', f32([0, 1, 2, 3, 4, 5])]]);
  assert.deepEqual(Array.from(readTorchStateDict(good).get('w')!.data), [1, 2, 3, 4]);
  // Truncated anywhere: a one-line error, never garbage or a RangeError.
  for (let n = 0; n < good.length; n += 7) {
    assert.throws(() => readTorchStateDict(good.subarray(0, n), 'cut.pt'), (e: Error) => /^cut\.pt: /.test(e.message) && !e.message.includes('\n'), `cut at ${n}`);
  }
  // A damaged byte fails the CRC.
  const bad = good.slice();
  bad[100] ^= 0xff;
  assert.throws(() => readTorchStateDict(bad, 'bad.pt'), /CRC-32|bad signature|beyond|no zip/);
  // Lying pickles: a view past the end of its storage; a storage shorter than it claims; a missing storage.
  assert.throws(() => readTorchStateDict(zip([['archive/data.pkl', statePickle(6, 3, [2, 2], [2, 1])], ['archive/data/0', f32([0, 1, 2, 3, 4, 5])]]), 'v.pt'), /tensor "w" reaches element 6 of a 6-element storage/);
  assert.throws(() => readTorchStateDict(zip([['archive/data.pkl', statePickle(8, 0, [2, 2], [2, 1])], ['archive/data/0', f32([0, 1, 2, 3, 4, 5])]]), 's.pt'), /storage data\/0 has 24 bytes, the pickle says 8 × 4/);
  assert.throws(() => readTorchStateDict(zip([['archive/data.pkl', statePickle(6, 0, [2, 2], [2, 1])]]), 'm.pt'), /storage data\/0 is missing/);
  // A truncated pickle inside a sound archive.
  const pkl = statePickle(6, 0, [2, 2], [2, 1]);
  assert.throws(() => readTorchStateDict(zip([['archive/data.pkl', pkl.subarray(0, 40)], ['archive/data/0', f32([0, 1, 2, 3, 4, 5])]]), 't.pt'), /truncated/);
  assert.throws(() => readTorchStateDict(zip([['a.txt', f32([1])]]), 'n.pt'), /expected one <archive>\/data\.pkl/);
  assert.throws(() => readTorchStateDict(Uint8Array.from([0x80, 2, 0x7d, 0x2e]), 'old.pt'), /legacy/);
  assert.throws(() => readZip(new Uint8Array(10), 'z'), /too short/);
});
