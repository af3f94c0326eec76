// Backward compatibility (Performer paper, Fig. 5): the validation loss of an exact-attention
// checkpoint, and of the same weights run with FAVOR+ attention BEFORE any training step, on the
// validation split of the run (same split, same windows, same evaluation as `performer train`).
//
//   node --import tsx bench/switch-eval.ts --from DIR --data FILE [--kernel softmax|relu]
//        [--features 256] [--seed 0] [--eval-windows 0]
//
// The FAVOR+ model is built exactly as `performer train --init-from DIR --attention favor` builds
// it (Trainer.create with initFrom: the checkpoint's weights, fresh projections of seed --seed), so
// its first evaluation line is the "step 0" of that fine-tune.
import { describeEngine } from '../src/cli/engine.js';
import { useEngine } from '../src/kernels/registry.js';
import { loadCorpusFile, resolveFileFormat } from '../src/data/read-node.js';
import { loadTrainedModel, parseTrainingState } from '../src/train/checkpoint-node.js';
import { evaluateModel } from '../src/train/evaluate.js';
import { Trainer } from '../src/train/trainer-node.js';
import type { FeatureMap } from '../src/kernels/backend.js';

function option(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1]!;
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}
const from = option('from'), dataPath = option('data');
const kernel = option('kernel', 'softmax') as FeatureMap;
const features = Number(option('features', '256'));
const seed = Number(option('seed', '0'));
const evalWindows = Number(option('eval-windows', '0'));

const engine = await useEngine(option('engine', 'wasm'), option('threads', '') ? { threads: Number(option('threads')) } : {});
const src = await loadTrainedModel(from);
const st = parseTrainingState(from, src.checkpoint);
const fmt = resolveFileFormat(dataPath, { format: st.data.format }).format;
const corpus = await loadCorpusFile(dataPath, { format: fmt, tokenizer: src.tokenizer });
const hyper = { ...st.training, seed };
const favorSpec = {
  ...src.spec,
  model: { ...src.spec.model, attention: 'favor' as const, featureMap: kernel, features, projection: 'orthogonal' as const, redrawInterval: src.spec.model.redrawInterval ?? 1000, seed },
};
const exactTrainer = Trainer.create(src.spec, hyper, corpus, { initFrom: src });
const favorTrainer = Trainer.create(favorSpec, hyper, corpus, { initFrom: src });
const opts = { seqLen: hyper.seqLen, batchSize: hyper.batchSize, ...(evalWindows ? { maxWindows: evalWindows } : {}) };
console.log(`${describeEngine(engine)}; checkpoint ${from} (step ${src.checkpoint.step}, attention ${src.spec.model.attention ?? 'favor'}); ` +
  `validation split of ${dataPath}: ${favorTrainer.validation.tokens.length} tokens, seq ${hyper.seqLen}${evalWindows ? `, first ${evalWindows} windows` : ''}`);
for (const [name, t] of [['exact (checkpoint as trained)', exactTrainer], [`FAVOR+ ${kernel} m=${features}, same weights, no step taken`, favorTrainer]] as const) {
  t.model.eval();
  const r = evaluateModel(t.model, t.validation, opts);
  console.log(`${name}: val loss ${r.loss.toFixed(4)} nats/token, ppl ${Math.exp(r.loss).toFixed(3)}, ` +
    `${r.bitsPerToken.toFixed(4)} bits/token, next-token acc ${(100 * r.accuracy).toFixed(2)}% over ${r.tokens} tokens`);
}
process.exit(0);
