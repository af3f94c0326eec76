// `performer attention --engine reference`: the output is the reference engine's (bit for bit), not
// the WebAssembly one's, and it matches a float64 computation.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { main, type CliIo } from '../src/cli/main.js';
import { exactAttention, favorAttention } from '../src/favor/attention.js';
import { drawProjection } from '../src/favor/projection.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { referenceEngine } from '../src/kernels/reference/engine.js';
import { createEngine } from '../src/kernels/registry.js';
import { Tensor } from '../src/tensor/tensor.js';
import { randn } from './helpers/data.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-cli-engine-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function attention(args: string[], inputs: Record<string, Tensor>): Promise<Float32Array> {
  const inp = join(dir, 'in.safetensors'), out = join(dir, 'out.safetensors');
  await writeFile(inp, encodeSafetensors(inputs));
  let stderr = '';
  const io: CliIo = { stdout: { write: () => undefined }, stderr: { write: (s: string) => { stderr += s; }, isTTY: false } };
  const code = await main(['attention', '--in', inp, '--out', out, ...args], io);
  assert.equal(code, 0, stderr);
  return decodeSafetensors(new Uint8Array(await readFile(out))).tensors.get('out')!.data;
}

/** Causal exact attention in float64, straight from the definition. */
function exact64(q: Tensor, k: Tensor, v: Tensor): Float64Array {
  const [B, H, L, d] = q.shape as [number, number, number, number];
  const out = new Float64Array(B * H * L * d);
  for (let bh = 0; bh < B * H; bh++) for (let i = 0; i < L; i++) {
    const s = Array.from({ length: i + 1 }, (_, j) => {
      let dot = 0;
      for (let c = 0; c < d; c++) dot += q.data[(bh * L + i) * d + c]! * k.data[(bh * L + j) * d + c]!;
      return dot / Math.sqrt(d);
    });
    const mx = Math.max(...s), w = s.map((x) => Math.exp(x - mx)), z = w.reduce((a, b) => a + b, 0);
    for (let c = 0; c < d; c++) out[(bh * L + i) * d + c] = w.reduce((a, wj, j) => a + wj * v.data[(bh * L + j) * d + c]!, 0) / z;
  }
  return out;
}

function differs(a: Float32Array, b: Float32Array): boolean {
  return a.some((x, i) => x !== b[i]);
}

test('--engine reference: the reference engine computes (bit for bit), not the wasm one', async () => {
  const q = randn([1, 2, 70, 8], 1, 0.6), k = randn([1, 2, 70, 8], 2, 0.6), v = randn([1, 2, 70, 8], 3);
  const projection = drawProjection({ features: 16, dim: 8, seed: 5 });
  const wasm = await createEngine('wasm', { threads: 1 });
  try {
    // FAVOR+ softmax, causal (more than one 64-position chunk)
    const favor = await attention(['--engine', 'reference', '--causal', '--features', '16'], { q, k, v, projection });
    const opts = { projection, causal: true };
    assert.deepEqual(favor, favorAttention(q, k, v, { ...opts, engine: referenceEngine }).data);
    assert.ok(differs(favor, favorAttention(q, k, v, { ...opts, engine: wasm }).data), 'the wasm engine would have given other bits');
    // exact, causal: also within float32 rounding of a float64 computation
    const exact = await attention(['--engine', 'reference', '--causal', '--kernel', 'exact'], { q, k, v });
    assert.deepEqual(exact, exactAttention(q, k, v, { causal: true, engine: referenceEngine }).data);
    assert.ok(differs(exact, exactAttention(q, k, v, { causal: true, engine: wasm }).data), 'the wasm engine would have given other bits');
    const want = exact64(q, k, v);
    exact.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) <= 1e-6 * (Math.abs(want[i]!) + 1), `entry ${i}: ${x} vs ${want[i]}`));
  } finally {
    wasm.dispose();
  }
});
