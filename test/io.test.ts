// safetensors (format, conversions, every validation error), atomic writes, the SVG plot.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeFileAtomic, writeFilesAtomic } from '../src/io/atomic-node.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  parseSafetensorsHeader,
  SafetensorsError,
} from '../src/io/safetensors.js';
import { readSafetensorsFile, readSafetensorsHeaderFile, writeSafetensorsFile } from '../src/io/safetensors-node.js';
import { formatTick, renderPlot } from '../src/cli/svg-plot.js';
import { Tensor } from '../src/tensor/tensor.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-io-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Build a file by hand: header object (serialised as given) + raw data bytes. */
function rawFile(header: unknown, data: Uint8Array | number[] = [], opts: { headerText?: string; lengthOverride?: bigint } = {}): Uint8Array {
  const json = new TextEncoder().encode(opts.headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, opts.lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Assert decoding throws a one-line SafetensorsError whose message matches all patterns. */
function rejects(bytes: Uint8Array, patterns: RegExp[], opts: Parameters<typeof decodeSafetensors>[1] = {}): void {
  assert.throws(
    () => decodeSafetensors(bytes, { source: 'bad.safetensors', ...opts }),
    (e: unknown) => {
      assert.ok(e instanceof SafetensorsError, `expected SafetensorsError, got ${String(e)}`);
      assert.ok(!e.message.includes('\n'), `message is not one line: ${e.message}`);
      assert.match(e.message, /^bad\.safetensors: /);
      for (const p of patterns) assert.match(e.message, p);
      return true;
    },
  );
}

describe('safetensors: round trip and format', () => {
  test('encode → decode returns the same tensors, shapes, order and metadata', () => {
    const a = Tensor.from([2, 3], [1, -2, 3.5, 1e-30, -0, 6e30]);
    const s = Tensor.from([], [42]); // 0-rank scalar
    const e = new Tensor([0, 3]); // empty tensor
    const b = Tensor.from([4], [Math.PI, -Math.E, 0.1, 7]);
    const bytes = encodeSafetensors({ a, scalar: s, empty: e, b }, { format: 'pt', note: 'héllo ✓' });
    const header = parseSafetensorsHeader(bytes);
    assert.equal(header.dataOffset % 8, 0, 'data buffer starts 8-aligned');
    assert.deepEqual(header.tensors.map((t) => t.name), ['a', 'scalar', 'empty', 'b']);
    const dec = decodeSafetensors(bytes);
    assert.deepEqual([...dec.tensors.keys()], ['a', 'scalar', 'empty', 'b']);
    assert.deepEqual(dec.metadata, { format: 'pt', note: 'héllo ✓' });
    for (const [name, t] of Object.entries({ a, scalar: s, empty: e, b })) {
      const got = dec.tensors.get(name)!;
      assert.deepEqual(got.shape, t.shape, name);
      assert.deepEqual(Array.from(got.data), Array.from(t.data), name);
      assert.equal(dec.dtypes.get(name), 'F32');
    }
    assert.ok(Object.is(dec.tensors.get('a')!.data[4], -0));
  });

  test('reads a file laid out as the reference implementation writes it', () => {
    // {"__metadata__":{"format":"pt"},"a":...} padded with spaces to a multiple of 8.
    let text = JSON.stringify({ __metadata__: { format: 'pt' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1, 1], data_offsets: [8, 12] } });
    text += ' '.repeat((8 - (text.length % 8)) % 8);
    const bytes = rawFile(null, f32Bytes([1.5, -2, 3]), { headerText: text });
    const dec = decodeSafetensors(bytes);
    assert.deepEqual(Array.from(dec.tensors.get('a')!.data), [1.5, -2]);
    assert.deepEqual(Array.from(dec.tensors.get('b')!.data), [3]);
    assert.deepEqual(dec.tensors.get('b')!.shape, [1, 1]);
    assert.deepEqual(dec.metadata, { format: 'pt' });
  });

  test('tensors in the data buffer in a different order than in the header', () => {
    const bytes = rawFile(
      { x: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, y: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } },
      f32Bytes([10, 20]),
    );
    const dec = decodeSafetensors(bytes);
    assert.equal(dec.tensors.get('x')!.data[0], 20);
    assert.equal(dec.tensors.get('y')!.data[0], 10);
  });

  test('decodes from a Uint8Array view at a non-zero, unaligned offset', () => {
    const bytes = encodeSafetensors({ a: Tensor.from([3], [1, 2, 3]) });
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    const dec = decodeSafetensors(big.subarray(3));
    assert.deepEqual(Array.from(dec.tensors.get('a')!.data), [1, 2, 3]);
    // A Node Buffer (whose own slice() is a view into a shared pool) works as well.
    const buf = Buffer.concat([Buffer.alloc(5), Buffer.from(bytes)]).subarray(5);
    assert.deepEqual(Array.from(decodeSafetensors(buf).tensors.get('a')!.data), [1, 2, 3]);
  });

  test('encodes tensors that are views into a larger buffer', () => {
    const backing = new Float32Array([9, 9, 1, 2, 3, 9]);
    const t = new Tensor([3], backing.subarray(2, 5));
    const dec = decodeSafetensors(encodeSafetensors(new Map([['t', t]])));
    assert.deepEqual(Array.from(dec.tensors.get('t')!.data), [1, 2, 3]);
  });

  test('only: decodes just the named tensors', () => {
    const bytes = encodeSafetensors({ a: Tensor.from([1], [1]), b: Tensor.from([1], [NaN]) });
    const dec = decodeSafetensors(bytes, { only: ['a'], finite: true });
    assert.deepEqual([...dec.tensors.keys()], ['a']);
  });

  test('encode rejects a tensor named __metadata__ and non-string metadata', () => {
    assert.throws(() => encodeSafetensors({ __metadata__: Tensor.from([1], [1]) }), /__metadata__/);
    assert.throws(() => encodeSafetensors({}, { n: 3 as unknown as string }), /metadata "n" must be a string/);
  });
});

describe('safetensors: dtype conversion to float32', () => {
  function one(dtype: string, shape: number[], data: Uint8Array): Float32Array {
    const bytes = rawFile({ t: { dtype, shape, data_offsets: [0, data.length] } }, data);
    const dec = decodeSafetensors(bytes);
    assert.equal(dec.dtypes.get('t'), dtype);
    return dec.tensors.get('t')!.data;
  }
  test('F64', () => {
    assert.deepEqual(Array.from(one('F64', [3], new Uint8Array(new Float64Array([1.5, -0.25, 1e10]).buffer))), [1.5, -0.25, 1e10]);
  });
  test('F16 including subnormal, max and infinity', () => {
    const h = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0xfc00]);
    const got = Array.from(one('F16', [7], new Uint8Array(h.buffer)));
    assert.deepEqual(got.slice(0, 4), [1, -2, 65504, 2 ** -24]);
    assert.ok(Math.abs(got[4]! - 1 / 3) < 1e-3);
    assert.deepEqual(got.slice(5), [Infinity, -Infinity]);
    assert.ok(Number.isNaN(one('F16', [1], new Uint8Array(new Uint16Array([0x7e00]).buffer))[0]));
  });
  test('BF16', () => {
    const h = new Uint16Array([0x3f80, 0xc040, 0x4049]); // 1, -3, 3.140625
    assert.deepEqual(Array.from(one('BF16', [3], new Uint8Array(h.buffer))), [1, -3, 3.140625]);
  });
  test('integers and BOOL', () => {
    assert.deepEqual(Array.from(one('I32', [3], new Uint8Array(new Int32Array([-7, 0, 123456]).buffer))), [-7, 0, 123456]);
    assert.deepEqual(Array.from(one('I64', [2], new Uint8Array(new BigInt64Array([-5n, 1n << 40n]).buffer))), [-5, 2 ** 40]);
    assert.deepEqual(Array.from(one('U64', [1], new Uint8Array(new BigUint64Array([7n]).buffer))), [7]);
    assert.deepEqual(Array.from(one('U32', [1], new Uint8Array(new Uint32Array([4e9]).buffer))), [4e9]);
    assert.deepEqual(Array.from(one('I16', [2], new Uint8Array(new Int16Array([-300, 2]).buffer))), [-300, 2]);
    assert.deepEqual(Array.from(one('U16', [1], new Uint8Array(new Uint16Array([65535]).buffer))), [65535]);
    assert.deepEqual(Array.from(one('I8', [2], new Uint8Array(new Int8Array([-128, 5]).buffer))), [-128, 5]);
    assert.deepEqual(Array.from(one('U8', [2], new Uint8Array([255, 0]))), [255, 0]);
    assert.deepEqual(Array.from(one('BOOL', [3], new Uint8Array([1, 0, 1]))), [1, 0, 1]);
  });
  test('F8 dtypes have a known size but are not readable: clear error', () => {
    rejects(rawFile({ t: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, [0, 0]), [/tensor "t"/, /dtype F8_E4M3 is not supported/, /readable: F32/]);
  });
});

describe('safetensors: malformed files', () => {
  const okEntry = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const okData = f32Bytes([1, 2]);

  test('file too short', () => {
    rejects(new Uint8Array(0), [/file too short \(0 bytes\)/]);
    rejects(new Uint8Array(7), [/file too short \(7 bytes\)/]);
  });
  test('header length beyond the end of the file', () => {
    rejects(rawFile({ t: okEntry }, okData, { lengthOverride: 1000n }), [/header length 1000 goes beyond the end of the file/]);
    rejects(rawFile({}, [], { lengthOverride: 0xffffffffffffffffn }), [/header length 18446744073709551615 goes beyond/]);
  });
  test('header length above the 100 MB limit', () => {
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, 200_000_000n, true);
    assert.throws(() => parseSafetensorsHeader(prefix, { source: 'big', fileSize: 300_000_000 }), /^SafetensorsError: big: header length 200000000 exceeds the 100000000-byte limit$/m);
  });
  test('header too small, not UTF-8, not JSON, not an object', () => {
    rejects(rawFile(null, [], { headerText: '{' }), [/too small for a JSON object/]);
    const bad = rawFile(null, [], { headerText: '{"a":1}' });
    bad[10] = 0xff;
    rejects(bad, [/header is not valid UTF-8/]);
    rejects(rawFile(null, [], { headerText: '{"t": {"dtype": "F32",,}}' }), [/header is not valid JSON/]);
    rejects(rawFile(null, [], { headerText: '[1, 2, 3]' }), [/header is not a JSON object/]);
    rejects(rawFile(null, [], { headerText: '"hello"' }), [/header is not a JSON object/]);
  });
  test('duplicate tensor name', () => {
    const text = `{"t":${JSON.stringify(okEntry)},"t":${JSON.stringify(okEntry)}}`;
    rejects(rawFile(null, okData, { headerText: text }), [/header has the name "t" twice/]);
    // The same key in different entries (nested) is fine.
    const fine = `{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`;
    assert.equal(decodeSafetensors(rawFile(null, okData, { headerText: fine })).tensors.size, 2);
  });
  test('bad __metadata__', () => {
    rejects(rawFile({ __metadata__: [1], t: okEntry }, okData), [/__metadata__ is not an object of strings/]);
    rejects(rawFile({ __metadata__: { n: 3 }, t: okEntry }, okData), [/__metadata__ entry "n" is not a string/]);
  });
  test('bad entries name the tensor', () => {
    rejects(rawFile({ w: 5 }), [/tensor "w": header entry is not an object/]);
    rejects(rawFile({ w: { shape: [2], data_offsets: [0, 8] } }, okData), [/tensor "w": missing or non-string "dtype"/]);
    rejects(rawFile({ w: { ...okEntry, dtype: 'F33' } }, okData), [/tensor "w": unknown dtype "F33"/]);
    rejects(rawFile({ w: { ...okEntry, shape: [-2] } }, okData), [/tensor "w": "shape" must be an array of non-negative integers, got \[-2\]/]);
    rejects(rawFile({ w: { ...okEntry, shape: [1.5] } }, okData), [/tensor "w": "shape"/]);
    rejects(rawFile({ w: { ...okEntry, shape: 2 } }, okData), [/tensor "w": "shape"/]);
    rejects(rawFile({ w: { dtype: 'F32', shape: [2] } }, okData), [/tensor "w": "data_offsets" must be \[begin, end\]/]);
    rejects(rawFile({ w: { ...okEntry, data_offsets: [0] } }, okData), [/tensor "w": "data_offsets"/]);
    rejects(rawFile({ w: { ...okEntry, data_offsets: [0, -8] } }, okData), [/tensor "w": "data_offsets"/]);
    rejects(rawFile({ w: { ...okEntry, data_offsets: [8, 0] } }, okData), [/tensor "w": data_offsets \[8, 0\] has begin after end/]);
  });
  test('offsets not matching shape × dtype size', () => {
    rejects(rawFile({ w: { ...okEntry, shape: [3] } }, okData), [/tensor "w": data_offsets \[0, 8\] span 8 bytes, but shape \[3\] of F32 needs 12/]);
    rejects(rawFile({ w: { ...okEntry, dtype: 'F64' } }, okData), [/tensor "w": .*shape \[2\] of F64 needs 16/]);
  });
  test('offsets out of range (and a truncated file)', () => {
    rejects(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, okData), [/tensor "w": data_offsets \[0, 16\] go beyond the data buffer \(8 bytes\)/]);
    const full = encodeSafetensors({ a: Tensor.from([4], [1, 2, 3, 4]) });
    rejects(full.subarray(0, full.length - 1), [/tensor "a": data_offsets \[0, 16\] go beyond the data buffer \(15 bytes\)/]);
    rejects(full.subarray(0, 12), [/header length \d+ goes beyond the end of the file \(12 bytes\)/]);
  });
  test('overlapping tensors', () => {
    const bytes = rawFile(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } },
      f32Bytes([1, 2, 3]),
    );
    rejects(bytes, [/tensor "b": data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/]);
    const same = rawFile(
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } },
      okData,
    );
    rejects(same, [/overlap tensor/]);
  });
  test('gap between tensors and unused trailing bytes', () => {
    rejects(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, okData), [/tensor "a": .*leave a gap: bytes 0\.\.4/]);
    rejects(rawFile({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, okData), [/data buffer has 8 bytes but the tensors cover only 4/]);
  });
  test('non-finite values are rejected when asked, naming tensor and index', () => {
    const bytes = encodeSafetensors({ a: Tensor.from([2, 2], [0, 1, 2, 3]), b: Tensor.from([2, 3], [0, 0, 0, 0, NaN, 0]) });
    assert.equal(decodeSafetensors(bytes).tensors.size, 2, 'accepted by default');
    rejects(bytes, [/tensor "b": non-finite value NaN at \[1, 1\]/], { finite: true });
    rejects(bytes, [/tensor "b"/], { finite: ['b'] });
    assert.equal(decodeSafetensors(bytes, { finite: ['a'] }).tensors.size, 2);
    const inf = encodeSafetensors({ c: Tensor.from([3], [1, -Infinity, 2]) });
    rejects(inf, [/tensor "c": non-finite value -Infinity at \[1\]/], { finite: true });
    const f64 = rawFile({ d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(new Float64Array([1e300]).buffer));
    rejects(f64, [/tensor "d": non-finite value Infinity at \[0\] \(after conversion from F64 to float32\)/], { finite: true });
  });
});

describe('safetensors: files', () => {
  test('write → read, and header-only read', async () => {
    const path = join(dir, 'rt.safetensors');
    await writeSafetensorsFile(path, { w: Tensor.from([2, 2], [1, 2, 3, 4]) }, { step: '7' });
    const dec = await readSafetensorsFile(path);
    assert.deepEqual(Array.from(dec.tensors.get('w')!.data), [1, 2, 3, 4]);
    assert.deepEqual(dec.metadata, { step: '7' });
    const h = await readSafetensorsHeaderFile(path);
    assert.deepEqual(h.tensors, [{ name: 'w', dtype: 'F32', shape: [2, 2], begin: 0, end: 16 }]);
    assert.deepEqual(h.metadata, { step: '7' });
  });
  test('errors name the file', async () => {
    const missing = join(dir, 'nope.safetensors');
    await assert.rejects(readSafetensorsFile(missing), (e: Error) => e.message === `${missing}: cannot read (no such file)`);
    await assert.rejects(readSafetensorsFile(dir), /cannot read \(is a directory\)/);
    const trunc = join(dir, 'trunc.safetensors');
    const full = encodeSafetensors({ a: Tensor.from([4], [1, 2, 3, 4]) });
    await writeFile(trunc, full.subarray(0, full.length - 4));
    await assert.rejects(readSafetensorsFile(trunc), (e: Error) => e.message.startsWith(`${trunc}: tensor "a": data_offsets`));
    await assert.rejects(readSafetensorsHeaderFile(trunc), /tensor "a": data_offsets \[0, 16\] go beyond/);
    const short = join(dir, 'short.safetensors');
    await writeFile(short, new Uint8Array(3));
    await assert.rejects(readSafetensorsHeaderFile(short), /short\.safetensors: file too short \(3 bytes\)/);
    const huge = join(dir, 'huge.safetensors');
    await writeFile(huge, rawFile({}, [], { lengthOverride: 1n << 40n }));
    await assert.rejects(readSafetensorsHeaderFile(huge), /goes beyond the end of the file/);
  });
});

async function listDir(d: string): Promise<string[]> {
  return (await readdir(d)).sort();
}

describe('atomic writes', () => {
  test('creates and replaces a file; no temporary file is left', async () => {
    const d = await mkdtemp(join(dir, 'atomic-'));
    const p = join(d, 'out.bin');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await readFile(p))], [1, 2, 3]);
    await writeFileAtomic(p, 'text ✓');
    assert.equal(await readFile(p, 'utf8'), 'text ✓');
    assert.deepEqual(await listDir(d), ['out.bin']);
  });

  test('a failed write leaves the old file untouched and removes the temporary file', async () => {
    const d = await mkdtemp(join(dir, 'atomic-'));
    const p = join(d, 'out.bin');
    await writeFile(p, 'old');
    // Invalid data makes the write fail after the temporary file was created.
    await assert.rejects(writeFileAtomic(p, 42 as unknown as string));
    assert.equal(await readFile(p, 'utf8'), 'old');
    assert.deepEqual(await listDir(d), ['out.bin']);
  });

  test('a failed rename (target is a non-empty directory) removes the temporary file', async () => {
    const d = await mkdtemp(join(dir, 'atomic-'));
    const target = join(d, 'target');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'x');
    await assert.rejects(writeFileAtomic(target, 'data'));
    assert.deepEqual(await listDir(d), ['target']);
    assert.deepEqual(await listDir(target), ['keep']);
  });

  test('a missing directory fails without creating anything', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'no', 'such', 'dir', 'f'), 'x'), (e: Error) => {
      assert.equal((e as NodeJS.ErrnoException).code, 'ENOENT');
      assert.match(e.message, /no\/such\/dir\/f: cannot write: the folder \S*no\/such\/dir does not exist$/);
      return true;
    });
    assert.ok(!existsSync(join(dir, 'no')));
  });

  test('several files: all written, or (on failure) none replaced and no temporaries left', async () => {
    const d = await mkdtemp(join(dir, 'atomic-'));
    const a = join(d, 'a.bin');
    const b = join(d, 'b.bin');
    await writeFilesAtomic([[a, 'A1'], [b, 'B1']]);
    assert.equal(await readFile(a, 'utf8'), 'A1');
    assert.equal(await readFile(b, 'utf8'), 'B1');
    await assert.rejects(writeFilesAtomic([[a, 'A2'], [b, 7 as unknown as string]]));
    assert.equal(await readFile(a, 'utf8'), 'A1');
    assert.equal(await readFile(b, 'utf8'), 'B1');
    assert.deepEqual(await listDir(d), ['a.bin', 'b.bin']);
  });
});

/** Minimal well-formedness check: every tag closes in order; attribute values quoted; no NaN. */
function assertWellFormedSvg(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg.trimEnd(), /<\/svg>$/);
  assert.ok(!/NaN|undefined|Infinity/.test(svg), 'no NaN/undefined/Infinity in the SVG');
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const between = svg.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `stray markup near: ${between.slice(0, 60)}`);
    assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;)/.test(between), `unescaped & in text: ${between.slice(0, 60)}`);
    last = m.index + m[0].length;
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `closing </${name}>`);
    else stack.push(name!);
  }
  assert.equal(svg.slice(last).trim(), '');
  assert.deepEqual(stack, [], 'all tags closed');
}

describe('svg plot', () => {
  test('log-log plot: lines, markers, ticks, labels, legend, escaping', () => {
    const svg = renderPlot({
      title: 'MSE <vs> m & more',
      xLabel: 'features',
      yLabel: 'MSE',
      series: [
        { name: 'softmax (orthogonal)', points: [[16, 1e-3], [32, 5e-4], [64, 2e-4]] },
        { name: 'a<b & "c"', points: [[16, 2e-3], [32, 0], [64, 1e-4]], dash: true },
      ],
      xTicks: [16, 32, 64],
    });
    assertWellFormedSvg(svg);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2);
    assert.equal((svg.match(/<circle /g) ?? []).length, 5, 'the zero point is left out on a log axis');
    assert.ok(svg.includes('MSE &lt;vs&gt; m &amp; more'));
    assert.ok(svg.includes('a&lt;b &amp; &quot;c&quot;'));
    assert.ok(svg.includes('stroke-dasharray="6 4"'));
    for (const t of ['16', '32', '64']) assert.ok(svg.includes(`>${t}</text>`), `x tick ${t}`);
    assert.ok(svg.includes('>0.001</text>') || svg.includes('>10⁻³</text>'));
  });

  test('linear axes (time vs L) and degenerate inputs', () => {
    assertWellFormedSvg(renderPlot({ xScale: 'linear', yScale: 'linear', series: [{ name: 't', points: [[1024, 0.5], [4096, 2], [16384, 8]] }] }));
    assertWellFormedSvg(renderPlot({ series: [] }));
    assertWellFormedSvg(renderPlot({ series: [{ name: 'one point', points: [[5, 5]] }] }));
    const empty = renderPlot({ series: [{ name: 'bad', points: [[-1, NaN], [0, 1]] }] });
    assertWellFormedSvg(empty);
    assert.ok(empty.includes('no data'));
  });

  test('tick labels', () => {
    assert.equal(formatTick(0.001), '0.001');
    assert.equal(formatTick(256), '256');
    assert.equal(formatTick(1e-5), '10⁻⁵');
    assert.equal(formatTick(2e-6), '2·10⁻⁶');
    assert.equal(formatTick(1e6), '10⁶');
  });
});
