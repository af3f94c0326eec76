// Training throughput and peak memory of ONE case (run it in its own process, e.g. through
// bench/train-throughput.sh, so that the peak RSS is that case's):
//   node --import tsx bench/train-throughput.ts --data FILE --attention favor|exact --seq L
//        [--layers 2] [--dim 128] [--heads 4] [--features 256] [--batch 1] [--warmup-steps 1] [--steps 3]
// Trains PerformerLM (causal, rotary, dropout 0) with the `performer train` Trainer and the CLI's
// compute engine (wasm matmul, attention forwards and backwards): --warmup-steps untimed steps,
// then --steps timed steps. Prints one JSON line: tokens/s at the median timed step (the machine is
// shared, so the median, not the mean), ms per step (each), peak RSS (process.resourceUsage().maxRSS).
import { describeEngine } from '../src/cli/engine.js';
import { useEngine } from '../src/kernels/registry.js';
import { loadCorpusFile } from '../src/data/read-node.js';
import { createTokenizer } from '../src/data/tokenizer.js';
import { makeModelSpec, makeTrainHyper } from '../src/train/config.js';
import { Trainer } from '../src/train/trainer-node.js';

function option(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]!;
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}
const data = option('data'), attention = option('attention') as 'favor' | 'exact', seq = Number(option('seq'));
const layers = Number(option('layers', '2')), dim = Number(option('dim', '128')), heads = Number(option('heads', '4'));
const features = Number(option('features', '256')), batch = Number(option('batch', '1'));
const warm = Number(option('warmup-steps', '1')), steps = Number(option('steps', '3'));

const engine = await useEngine(option('engine', 'wasm'), option('threads', '') ? { threads: Number(option('threads')) } : {});
const tok = createTokenizer('byte');
const corpus = await loadCorpusFile(data, { format: 'text', tokenizer: tok });
const spec = makeModelSpec({ layers, dim, heads, attention, features, redraw: 0, positions: 'rotary', dropout: 0, seed: 0 }, tok, seq);
const hyper = makeTrainHyper({ seqLen: seq, batchSize: batch, steps: warm + steps, warmup: 0, scheduleSteps: 1000, lr: 1e-3 });
const trainer = Trainer.create(spec, hyper, corpus);
const rssBefore = process.resourceUsage().maxRSS / 1024;
const stepMs: number[] = [];
let loss = NaN;
for (let s = 0; s < warm + steps; s++) {
  const t0 = performance.now();
  loss = (await trainer.trainStep()).loss;
  const ms = performance.now() - t0;
  if (s >= warm) stepMs.push(ms);
  process.stderr.write(`${attention} L=${seq}: step ${s + 1}/${warm + steps} ${(ms / 1000).toFixed(2)} s${s < warm ? ' (warm-up)' : ''}\n`);
}
const sorted = [...stepMs].sort((a, b) => a - b);
const mid = sorted.length >> 1;
const medianMs = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
console.log(JSON.stringify({
  attention, seq, batch, layers, dim, heads, features: attention === 'favor' ? features : null,
  params: trainer.model.parameterCount(), engine: describeEngine(engine),
  warmup_steps: warm, timed_steps: steps, step_ms: stepMs.map((x) => Math.round(x)),
  median_step_ms: Math.round(medianMs), tokens_per_s: Math.round((batch * seq) / (medianMs / 1000)),
  peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024), rss_after_load_mib: Math.round(rssBefore), last_loss: Number(loss.toFixed(4)),
}));
process.exit(0);
