// The WebGPU kernels in headless Chromium (navigator.gpu, SwiftShader where there is no GPU): a page
// bundled from the same sources runs FAVOR+ (every map, both modes, masks, Lq ≠ Lk) and exact
// attention against the reference backend; the test reads its errors over the DevTools protocol
// (--remote-debugging-pipe: NUL-separated JSON on file descriptors 3 and 4). Skipped, naming why,
// without chromium-headless-shell; with CI=true its absence fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENABLE = 'apt-get install -y chromium-headless-shell libvulkan1';
const BROWSER = 'chromium-headless-shell';

function browserPath(): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${BROWSER}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const browser = browserPath();
const skip = browser ? false : `${BROWSER} is not installed; enable with: ${ENABLE}`;
if (!browser && process.env.CI === 'true') test(`${BROWSER} exists (CI=true)`, () => assert.fail(`${skip}`));

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
    const r = await inChromium(page) as { error?: string; adapter?: string; results?: { name: string; map: string; err: number }[] };
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.results!.length, 5 * 4 + 5 * 2);
    for (const x of r.results!) assert.ok(x.err < (x.map === 'trig' ? 1e-3 : 1e-4), `${x.name} on ${r.adapter}: relative error ${x.err}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Opens `page` in headless Chromium and returns the value its window.__done promise settles to. */
async function inChromium(page: string): Promise<unknown> {
  const child = spawn(browser!, [
    '--no-sandbox', '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=swiftshader', '--use-webgpu-adapter=swiftshader',
    '--remote-debugging-pipe', 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'], detached: true }); // its own process group, killed whole below
  const toBrowser = child.stdio[3] as Writable, fromBrowser = child.stdio[4] as Readable;
  type Reply = { id?: number; result?: Record<string, unknown>; error?: { message: string } };
  const waiting = new Map<number, (m: Reply) => void>();
  let buffered = '', next = 0;
  fromBrowser.setEncoding('utf8');
  fromBrowser.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end; (end = buffered.indexOf('\0')) >= 0; buffered = buffered.slice(end + 1)) {
      const m = JSON.parse(buffered.slice(0, end)) as Reply;
      if (m.id !== undefined) waiting.get(m.id)?.(m);
    }
  });
  const send = (method: string, params: object, sessionId?: string) => new Promise<Record<string, unknown>>((resolve, reject) => {
    const id = ++next;
    waiting.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result ?? {})));
    toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
  });
  try {
    const { targetId } = await send('Target.createTarget', { url: `file://${page}` });
    const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
    const wait = 'new Promise((resolve) => { const poll = () => (window.__done ? resolve(window.__done) : setTimeout(poll, 50)); poll(); })';
    for (let tries = 0; ; tries++) {
      try {
        const { result, exceptionDetails } = await send('Runtime.evaluate', { expression: wait, awaitPromise: true, returnByValue: true }, sessionId) as
          { result: { value: unknown }; exceptionDetails?: { text: string } };
        if (exceptionDetails) throw new Error(`page: ${exceptionDetails.text}`);
        return result.value;
      } catch (e) {
        // The first evaluations can land in about:blank while the page replaces it.
        if (tries > 50 || !/context was destroyed|Cannot find context/.test((e as Error).message)) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    process.kill(-child.pid!, 'SIGKILL');
    fromBrowser.destroy();
    toBrowser.destroy();
  }
}
