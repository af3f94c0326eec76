// Generation speed of PerformerLM with incremental decoding: ms per generated token around
// position ~100 and ~2000, FAVOR+ (recurrent state, constant per token) vs exact (KV cache, O(t)).
//   node --import tsx bench/generation.ts [--tokens 2100] [--dim 128] [--layers 2] [--heads 4] [--features 64] [--vocab 256] [--only favor|exact]
// Untrained models (random init, rotary positions), temperature-1 sampling, one run per model after a
// short warm-up; each figure is the median (and mean) ms/token over a window of 50 positions.
import { PerformerLM } from '../src/nn/models.js';
import { generate, timingSummary } from '../src/nn/generate.js';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const tokens = Number(option('tokens', '2100'));
const dim = Number(option('dim', '128'));
const layers = Number(option('layers', '2'));
const heads = Number(option('heads', '4'));
const features = Number(option('features', '64'));
const vocabSize = Number(option('vocab', '256'));
const only = option('only', '');

const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]!; };
const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;

console.log(`node ${process.version}, dim ${dim}, ${layers} layers, ${heads} heads, vocab ${vocabSize}, ${tokens} generated tokens, prompt 1 token`);
for (const attention of ['favor', 'exact'] as const) {
  if (only && only !== attention) continue;
  const lm = new PerformerLM({
    vocabSize, dim, layers, heads, maxLen: tokens + 1, features, attention, positions: 'rotary', seed: 1,
  }).eval();
  generate(lm, [0], { tokens: 200, seed: 9 }); // warm-up (JIT)
  const t0 = performance.now();
  const r = generate(lm, [0], { tokens, seed: 1 });
  const total = performance.now() - t0;
  // msPerToken[i] is the decoder step at position i (prompt of 1 token) plus sampling
  const window = (at: number): string => {
    const w = r.msPerToken.slice(at - 25, at + 25);
    return `pos ${at - 25}-${at + 24}: median ${median(w).toFixed(3)} ms, mean ${mean(w).toFixed(3)} ms`;
  };
  const s = timingSummary(r.msPerToken);
  const name = attention === 'favor' ? `FAVOR+ (softmax, m=${features})` : 'exact (KV cache)';
  console.log(`${name}:`);
  console.log(`  ${window(100)}`);
  console.log(`  ${window(2000)}`);
  console.log(`  first 10%: ${s.first.toFixed(3)} ms/token, last 10%: ${s.last.toFixed(3)} ms/token, overall ${(total / tokens).toFixed(3)} ms/token (${(total / 1000).toFixed(2)} s)`);
}
