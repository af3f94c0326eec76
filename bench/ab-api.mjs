// Times the public Tensor API (favorAttention, L = argv[3], B = 1, H = 8, d = 64, m = 256, median of 9 calls)
// through dist/ of the checkout given as argv[2]; works on the 0.1.0 API (useBackend) and the engine API (useEngine).
const dir = process.argv[2];
const lib = await import(`${dir}/dist/index.js`);
if (lib.useEngine) await lib.useEngine('wasm'); else lib.useBackend(await lib.createWasmBackend());
const [B, H, L, d] = [1, 8, Number(process.argv[3] ?? 4096), 64];
const rng = new lib.Rng(0);
const mk = () => { const t = new lib.Tensor([B, H, L, d]); rng.fillNormal(t.data); return t; };
const q = mk(), k = mk(), v = mk();
const W = lib.drawProjection({ features: 256, dim: d, kind: 'orthogonal', scaling: 'chi', seed: 1 });
const out = {};
for (const causal of [false, true]) {
  lib.favorAttention(q, k, v, { projection: W, causal });
  const ts = [];
  for (let i = 0; i < 9; i++) { const t0 = performance.now(); lib.favorAttention(q, k, v, { projection: W, causal }); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b); out[causal ? 'causal_ms' : 'bidir_ms'] = ts[4];
}
console.log(JSON.stringify({ api: true, L, ...out }));
process.exit(0);
