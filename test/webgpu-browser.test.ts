// The WebGPU kernels in headless Chromium (navigator.gpu, SwiftShader where there is no GPU): a page
// bundled from the same sources runs FAVOR+ (every map, both modes, masks, Lq ≠ Lk) and exact
// attention against the reference backend, in the browser the other browser tests use
// (test/helpers/browser.ts). Skipped, naming why, without it; with CI=true its absence fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';

const skip = browserSkipReason() ?? false;

// Runs in the page: the same comparisons as test/webgpu.test.ts, on a few shapes.
const PAGE = `
import { createWebGpuBackend } from '../src/kernels/webgpu/index.js';
import { referenceBackend } from '../src/kernels/reference/index.js';
import { FEATURE_MAPS } from '../src/kernels/backend.js';
import { drawProjection } from '../src/favor/projection.js';
import { randn, randomMask } from './helpers/data.js';
import { relativeError } from './helpers/float64-reference.js';

window.__done = (async () => {
  try {
    const gpu = await createWebGpuBackend();
    const results = [];
    const B = 2, H = 2, d = 16, Dv = 8, m = 40;
    for (const [Lq, Lk] of [[40, 40], [21, 45]]) {
      const q = randn([B, H, Lq, d], 1, 0.8).data, k = randn([B, H, Lk, d], 2, 0.8).data, v = randn([B, H, Lk, Dv], 3).data;
      const w = drawProjection({ features: m, dim: d, seed: 4 }).data, mask = randomMask(B, Lk, 5).data;
      for (const map of [...FEATURE_MAPS, 'exact']) {
        for (const causal of Lq === Lk ? [false, true] : [false]) {
          for (const masked of [false, true]) {
            const shape = { B, H, Lq, Lk, d, Dv, causal };
            const want = new Float32Array(B * H * Lq * Dv);
            const keyMask = masked ? mask : undefined;
            if (map === 'exact') referenceBackend.exact({ ...shape, q, k, v, out: want, keyMask });
            else referenceBackend.favor({ ...shape, q, k, v, out: want, keyMask, projection: w, m, featureMap: map, chunk: 16 });
            const t = { q: gpu.upload(q), k: gpu.upload(k), v: gpu.upload(v), out: gpu.zeros(want.length), keyMask: keyMask && gpu.upload(keyMask) };
            if (map === 'exact') gpu.exactForward({ ...shape, ...t });
            else gpu.favorForward({ ...shape, ...t, projection: gpu.upload(w), m, featureMap: map, chunk: 16 });
            results.push({ name: map + ' Lq=' + Lq + ' Lk=' + Lk + (causal ? ' causal' : '') + (masked ? ' masked' : ''), map, err: relativeError(await gpu.read(t.out), want) });
          }
        }
      }
    }
    return { adapter: gpu.device.adapterInfo.vendor + '/' + gpu.device.adapterInfo.architecture, results };
  } catch (e) {
    return { error: String(e && e.message || e) };
  }
})();
`;

test('webgpu kernels in headless Chromium match the reference backend', { skip, timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'performer-webgpu-'));
  try {
    const bundle = await build({
      stdin: { contents: PAGE, resolveDir: fileURLToPath(new URL('.', import.meta.url)), loader: 'ts' },
      bundle: true, format: 'esm', platform: 'browser', write: false, external: ['webgpu', 'node:*'], logLevel: 'silent',
    });
    const page = join(dir, 'page.html');
    writeFileSync(page, `<html><body><script type="module">${bundle.outputFiles[0]!.text.replace(/<\/script/g, '<\\/script')}</script></body></html>`);
    const browser = await launchBrowser();
    let value: unknown;
    try {
      const tab = await browser.newPage();
      await tab.goto(`file://${page}`);
      value = await tab.evaluate(() => (window as unknown as { __done: Promise<unknown> }).__done);
    } finally {
      await browser.close();
    }
    const r = value as { error?: string; adapter?: string; results?: { name: string; map: string; err: number }[] };
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.results!.length, 5 * 4 + 5 * 2);
    for (const x of r.results!) assert.ok(x.err < (x.map === 'trig' ? 1e-3 : 1e-4), `${x.name} on ${r.adapter}: relative error ${x.err}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
