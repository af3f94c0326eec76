// The smallest page that uses the package: imported by name, bundled by esbuild for the browser
// (the package's `browser` condition), FAVOR+ attention on the wasm engine.
import { drawProjection, favorAttention, Rng, Tensor, useEngine, type WasmEngine } from 'performer';

const [L, d, m] = [256, 32, 64];
// Threads need a cross-origin isolated page (COOP/COEP headers); otherwise one thread.
const engine = (await useEngine('wasm', globalThis.crossOriginIsolated ? {} : { threads: 1 })) as WasmEngine;
const rng = new Rng(1);
const [q, k, v] = [0, 1, 2].map(() => {
  const t = new Tensor([1, 1, L, d]);
  rng.fillNormal(t.data, 0, 0.5);
  return t;
});
const out = favorAttention(q!, k!, v!, { projection: drawProjection({ features: m, dim: d, seed: 2 }), causal: true });
let sum = 0;
for (const x of out.data) sum += x;
const result = { kernels: engine.backend.name, threads: engine.threads, shape: out.shape, sum };
document.getElementById('out')!.textContent = JSON.stringify(result);
Object.assign(globalThis, { exampleResult: result });
