// The wasm32 4 GiB ceiling (src/kernels/wasm/bound.ts): checked from the shapes before anything is
// allocated, with the largest length that fits and the heads per call that fit.
import assert from 'node:assert/strict';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main, type CliIo } from '../src/cli/main.js';
import { attentionCallBytes, checkAttentionFits, checkHeapFits, RESERVE_BYTES, WASM32_MAX_BYTES, WasmMemoryError, type AttentionCallDims } from '../src/kernels/wasm/bound.js';
import { WasmHeap } from '../src/kernels/wasm/heap.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-bound-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The number after `label` in the message, e.g. "is 524,288" → 524288. */
function numberAfter(message: string, label: RegExp): number {
  const m = label.exec(message);
  assert.ok(m, `${label} in ${message}`);
  return Number(m[1]!.replace(/,/g, ''));
}

describe('wasm32 memory bound', () => {
  const issue: AttentionCallDims = { B: 1, H: 8, Lq: 4_194_304, Lk: 4_194_304, d: 64, Dv: 64, m: 256, mask: false, backward: false };

  test('the issue\'s call (L = 4,194,304, 8 heads of 64): refused with the largest L and the heads per call that fit, both tight', () => {
    const available = WASM32_MAX_BYTES - RESERVE_BYTES;
    assert.throws(() => checkAttentionFits('wasm favor', issue), (e: unknown) => {
      assert.ok(e instanceof WasmMemoryError);
      assert.match(e.message, /^wasm favor: B=1, H=8, L=4194304, d=64, Dv=64, m=256 needs 32\.0 GiB of WebAssembly memory, but its memory holds at most 4\.0 GiB; /);
      assert.match(e.message, /or use the WebGPU engine \(planned\)$/);
      const L = numberAfter(e.message, /the largest L that fits these shapes is ([\d,]+)/);
      assert.ok(attentionCallBytes({ ...issue, Lq: L, Lk: L }) <= available, `L = ${L} fits`);
      assert.ok(attentionCallBytes({ ...issue, Lq: L + 1, Lk: L + 1 }) > available, `L = ${L + 1} does not`);
      // One head of this length alone needs 4 GiB: fewer heads per call cannot help, and the message says so.
      assert.match(e.message, /\(fewer heads per call do not help at this length: one head needs 4\.0 GiB\)/);
      return true;
    });
    // The L = 262,144 run of the issue (2.1 GB there) fits.
    checkAttentionFits('wasm favor', { ...issue, Lq: 262_144, Lk: 262_144 });
  });

  test('cross-attention, a mask and the backward (twice the arrays) are counted', () => {
    const cross = { ...issue, Lq: 1024, Lk: 8_000_000, mask: true };
    assert.throws(() => checkAttentionFits('wasm exact', cross), /the largest Lk that fits these shapes is [\d,]+/);
    const fwd = { ...issue, Lq: 400_000, Lk: 400_000 };
    checkAttentionFits('f', fwd);
    assert.throws(() => checkAttentionFits('f', { ...fwd, backward: true }), (e: Error) => {
      assert.match(e.message, /needs 6\.1 GiB of WebAssembly memory \(backward\)/);
      assert.equal(numberAfter(e.message, /at most (\d+) of the B·H = 8 heads per call/), 5);
      return true;
    });
  });

  test('against a real heap: what is in use counts, the reported L allocates, L + 1 is refused', () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 256, shared: true }); // a 16 MiB heap
    const heap = new WasmHeap(memory, 0, true, 256 * 65536);
    const held = heap.alloc(1 << 20); // 4 MiB in use
    const dims: AttentionCallDims = { B: 1, H: 2, Lq: 100_000, Lk: 100_000, d: 8, Dv: 8, m: 16, mask: false, backward: false };
    let L = 0;
    assert.throws(() => checkHeapFits(heap, 'wasm favor', dims, []), (e: Error) => {
      assert.match(e.message, /holds at most 16 MiB \(4 MiB of it already in use\)/);
      L = numberAfter(e.message, /largest L that fits these shapes is ([\d,]+)/);
      return true;
    });
    const fits = { ...dims, Lq: L, Lk: L };
    checkHeapFits(heap, 'wasm favor', fits, []);
    assert.throws(() => checkHeapFits(heap, 'wasm favor', { ...fits, Lq: L + 1, Lk: L + 1 }, []), WasmMemoryError);
    // The arrays the bound counts really fit: q, k, v, out and W twice.
    const arrays = [L * 16, L * 16, L * 16, L * 16, 16 * 8, 16 * 8].map((n) => heap.alloc(n));
    // Arrays already in the heap are not counted twice.
    checkHeapFits(heap, 'wasm favor', fits, arrays);
    for (const a of [...arrays, held]) heap.free(a);
  });
});

describe('performer attention and the bound', () => {
  test('a file whose shapes need more than 4 GiB is refused from its header, before reading or allocating', async () => {
    // q, k, v [1, 8, 4194304, 64] F32: 8 GiB each, a sparse file (nothing is written but the header).
    const L = 4_194_304, each = 8 * L * 64 * 4;
    const header: Record<string, unknown> = {};
    ['q', 'k', 'v'].forEach((name, i) => (header[name] = { dtype: 'F32', shape: [1, 8, L, 64], data_offsets: [i * each, (i + 1) * each] }));
    let json = JSON.stringify(header);
    json += ' '.repeat((8 - (json.length % 8)) % 8);
    const file = join(dir, 'huge.safetensors');
    const handle = await open(file, 'w');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    await handle.write(Buffer.concat([len, Buffer.from(json)]), 0, 8 + json.length, 0);
    await handle.truncate(8 + json.length + 3 * each);
    await handle.close();
    let stderr = '';
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => { stderr += s; } } };
    const code = await main(['attention', '--in', file, '--out', join(dir, 'o.safetensors')], io);
    assert.equal(code, 2);
    assert.match(stderr, /^performer attention: error: .*huge\.safetensors: the wasm engine: B=1, H=8, L=4194304, d=64, Dv=64, m=256 needs 32\.0 GiB of WebAssembly memory, but its memory holds at most 4\.0 GiB; the largest L that fits these shapes is \d{3},\d{3} \(fewer heads per call do not help at this length: one head needs 4\.0 GiB\), or use the WebGPU engine \(planned\)$/m);
    assert.equal(stderr.trimEnd().split('\n').length, 1);
  });
});
