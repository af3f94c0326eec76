// Generation speed against context length: ms per generated token at given positions, for a small
// PerformerLM with FAVOR+ attention (recurrent state: constant time and memory per token) and the
// same model with exact attention (KV cache: O(t) time and memory per token).
//
//   node --import tsx bench/generation-context.ts [--positions 128,1024,4096,16384] [--window 64]
//        [--dim 128] [--layers 2] [--heads 4] [--features 256] [--vocab 256]
//        [--only favor|exact] [--exact-max 16384] [--engine wasm|reference] [--json]
//
// Untrained weights (seed 1), rotary positions (no position table, so the context is unbounded),
// eval mode. One decoder per model is fed its own samples (temperature 1) from position 0 up to
// max(positions) + window/2; entry t of the timing is one decoder step at position t (all layers,
// the output head) plus sampling. Each figure is the median (and mean) over the `window` positions
// centred on the requested one. A 300-token warm-up on a separate decoder comes first (JIT).
// --exact-max bounds the exact run (its total cost is O(T²)); positions beyond it are skipped for
// exact. --engine wasm (default) installs the same kernels as `performer generate`.
import { describeEngine } from '../src/cli/engine.js';
import { useEngine } from '../src/kernels/registry.js';
import { createDecoder } from '../src/nn/generate.js';
import { PerformerLM } from '../src/nn/models.js';
import { sample } from '../src/nn/sampling.js';
import { Rng } from '../src/tensor/rng.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const positions = option('positions', '128,1024,4096,16384').split(',').map(Number);
const window = Number(option('window', '64'));
const dim = Number(option('dim', '128'));
const layers = Number(option('layers', '2'));
const heads = Number(option('heads', '4'));
const features = Number(option('features', '256'));
const vocabSize = Number(option('vocab', '256'));
const only = option('only', '');
const exactMax = Number(option('exact-max', '16384'));
const engineName = option('engine', 'wasm');
const json = process.argv.includes('--json');

const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;

const engine = await useEngine(engineName);
const half = window >> 1;
console.log(`node ${process.version}, ${describeEngine(engine)}; PerformerLM dim ${dim}, ` +
  `${layers} layers, ${heads} heads, vocab ${vocabSize}, rotary, untrained; window ${window} positions around each of ${positions.join(', ')}`);

interface Row { attention: string; position: number; median_ms: number; mean_ms: number; state_bytes: number; rss_mb: number }
const rows: Row[] = [];

for (const attention of ['favor', 'exact'] as const) {
  if (only && only !== attention) continue;
  const lm = new PerformerLM({
    vocabSize, dim, layers, heads, maxLen: 1, features, attention, positions: 'rotary', seed: 1,
  }).eval();
  const opts = { temperature: 1 };
  { // warm-up
    const dec = createDecoder(lm), rng = new Rng(9);
    let next = 0;
    for (let i = 0; i < 300; i++) next = sample(dec.feed(next), opts, rng);
  }
  const targets = positions.filter((p) => attention === 'favor' || p <= exactMax).sort((a, b) => a - b);
  const skipped = positions.filter((p) => !targets.includes(p));
  if (targets.length === 0) continue;
  const last = targets[targets.length - 1]! + half;
  const dec = createDecoder(lm), rng = new Rng(1);
  const ms = new Float64Array(last);
  const stateAt = new Map<number, number>(), rssAt = new Map<number, number>();
  let next = 0;
  const t0 = performance.now();
  for (let t = 0; t < last; t++) {
    const a = performance.now();
    const logits = dec.feed(next); // position t
    next = sample(logits, opts, rng);
    ms[t] = performance.now() - a;
    if (targets.includes(t)) { stateAt.set(t, dec.stateBytes); rssAt.set(t, process.memoryUsage().rss); }
  }
  const total = (performance.now() - t0) / 1000;
  const name = attention === 'favor' ? `FAVOR+ (softmax, m=${features}, recurrent state)` : 'exact (KV cache)';
  console.log(`${name}: ${last} positions in ${total.toFixed(1)} s`);
  for (const p of targets) {
    const w = Array.from(ms.subarray(p - half, p + half));
    const r: Row = {
      attention, position: p, median_ms: median(w), mean_ms: mean(w), state_bytes: stateAt.get(p)!, rss_mb: rssAt.get(p)! / 2 ** 20,
    };
    rows.push(r);
    console.log(`  pos ${String(p).padStart(5)} (${p - half}-${p + half - 1}): median ${r.median_ms.toFixed(3)} ms/token, mean ${r.mean_ms.toFixed(3)} ms/token, ` +
      `attention state ${(r.state_bytes / 1024).toFixed(0)} KiB, rss ${r.rss_mb.toFixed(0)} MiB`);
  }
  if (skipped.length) console.log(`  skipped (beyond --exact-max ${exactMax}): ${skipped.join(', ')}`);
  const lo = rows.find((r) => r.attention === attention && r.position === targets[0]), hi = rows.find((r) => r.attention === attention && r.position === targets[targets.length - 1]);
  if (lo && hi && lo !== hi) console.log(`  median at ${hi.position} / median at ${lo.position}: ${(hi.median_ms / lo.median_ms).toFixed(2)}×`);
}
if (json) for (const r of rows) console.log(JSON.stringify(r));
process.exit(0); // the wasm thread pool would keep the process alive
