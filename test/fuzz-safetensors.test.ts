// Fuzzing the safetensors reader (src/io/safetensors.ts): random bytes, generated headers that lie
// (shapes of 10^12 elements, offsets past the buffer, wrong types), and mutations of valid files.
// Property: decodeSafetensors returns or throws SafetensorsError, nothing else; no case is slow;
// the tensors it returns hold at most one value per input byte (U8/BOOL is the smallest dtype),
// so a lying header can never make it allocate more than the input justifies.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeSafetensors, DTYPE_BYTES, encodeSafetensors, parseSafetensorsHeader, SafetensorsError } from '../src/io/safetensors.js';
import { Tensor } from '../src/tensor/tensor.js';
import { cases, fuzz, mutated, onlyThrows } from './fuzz-harness.js';

/** The property every input must satisfy. */
async function decodesOrRefuses(bytes: Uint8Array): Promise<void> {
  const out = await onlyThrows([SafetensorsError], () => decodeSafetensors(bytes, { source: 'fuzz', finite: true }));
  if (!out) return;
  let values = 0;
  for (const t of out.tensors.values()) values += t.size;
  assert.ok(values <= bytes.length, `${values} values from ${bytes.length} bytes`);
}

/** A safetensors file from a header object and a data buffer of `dataBytes` bytes. */
function file(header: unknown, dataBytes: number, lengthField?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

const HUGE = [1e6, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e12, 1e300];
const dimension = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom(...HUGE) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 1.5, NaN, '3', null, true, [], {}) },
);
const offset = fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(...HUGE, -8, 0.5, '0', null));
const entry = fc.record({
  dtype: fc.oneof(fc.constantFrom(...Object.keys(DTYPE_BYTES)), fc.constantFrom('f32', 'F128', '', 7, null)),
  shape: fc.oneof({ weight: 9, arbitrary: fc.array(dimension, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constantFrom('x', null, 4) }),
  data_offsets: fc.oneof({ weight: 9, arbitrary: fc.tuple(offset, offset) }, { weight: 1, arbitrary: fc.constantFrom([0], [0, 0, 0], null, 'x') }),
}, { requiredKeys: [] });
const header = fc.dictionary(fc.oneof(fc.constantFrom('a', 'b', 'q', '__metadata__', ''), fc.string({ maxLength: 4 })), fc.oneof({ weight: 8, arbitrary: entry }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }), { maxKeys: 4 });
const generatedFile = fc.tuple(header, fc.integer({ min: 0, max: 256 })).map(([h, n]) => file(h, n));

/** Valid files of a few small tensors, for mutation. */
const validFile = fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 })), { minLength: 1, maxLength: 3 })
  .map((specs) => {
    const tensors = new Map<string, Tensor>();
    for (const [name, shape] of specs) {
      if (name === '__metadata__' || tensors.has(name)) continue;
      const t = new Tensor(shape);
      for (let i = 0; i < t.size; i++) t.data[i] = Math.sin(i + name.length);
      tensors.set(name, t);
    }
    if (tensors.size === 0) tensors.set('x', new Tensor([1]));
    return encodeSafetensors(tensors, { producer: 'fuzz' });
  });

describe('fuzz: safetensors reader', () => {
  test('lying headers are refused before any allocation (10^12 elements, 2^53 offsets, length field of 2^64 - 1)', () => {
    const lies: [unknown, number, bigint?][] = [
      [{ t: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 4e12] } }, 16],
      [{ t: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 16] } }, 16],
      [{ t: { dtype: 'F64', shape: [2 ** 53, 2], data_offsets: [0, 16] } }, 16],
      [{ t: { dtype: 'U8', shape: [], data_offsets: [0, 2 ** 53 - 1] } }, 1],
      [{ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 16, 2n ** 64n - 1n],
      [{ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 16, 2n ** 40n],
    ];
    for (const [h, n, len] of lies) {
      const bytes = file(h, n, len);
      assert.throws(() => parseSafetensorsHeader(bytes, { source: 'lie' }), SafetensorsError, JSON.stringify(h));
      assert.throws(() => decodeSafetensors(bytes, { source: 'lie' }), SafetensorsError);
    }
    // A file that claims to be 10^12 bytes long (only its prefix is read) is refused from the header.
    assert.throws(() => parseSafetensorsHeader(file({ t: { dtype: 'F32', shape: [1e6, 1e6], data_offsets: [0, 4e12] } }, 0), { fileSize: 1e12 }), /data_offsets|bytes|past|beyond/);
  });

  test('random bytes', async () => {
    await fuzz('safetensors-bytes', fc.uint8Array({ maxLength: 300 }), decodesOrRefuses, cases(300));
  });

  test('generated headers: wrong types, huge shapes and offsets, bad dtypes', async () => {
    await fuzz('safetensors-header', generatedFile, decodesOrRefuses, cases(600));
  });

  test('mutations of valid files', async () => {
    await fuzz('safetensors-mutated', mutated(validFile), decodesOrRefuses, cases(600));
  });
});
