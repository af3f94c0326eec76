// `performer showcase` (what `npm start` runs): train a small FAVOR+ language model on the State of
// the Union corpus for a few minutes, evaluate it, generate a sample with constant-memory decoding,
// and leave a checkpoint that the other commands can continue from.

import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic-node.js';
import { loadCorpusText } from '../data/sotu-node.js';
import { corpusFromChunks } from '../data/read.js';
import { createTokenizer } from '../data/tokenizer.js';
import { withRunLock } from '../io/run-lock-node.js';
import { createDecoder, generate, timingSummary } from '../nn/generate.js';
import { PerformerLM } from '../nn/models.js';
import { describeModel, formatCount, makeModelSpec, makeTrainHyper } from '../train/config.js';
import { runTraining } from '../train/loop.js';
import { Trainer } from '../train/trainer-node.js';
import { defineFlags, formatUsage, parseArgs, type Flags } from './args.js';
import type { CliIo, Command } from './command.js';
import { describeEngine, engineFlags, startEngine } from './engine.js';
import { formatDuration } from './progress.js';
import { trainReporter } from './train.js';

/** The showcase model and run (small enough for a few minutes of training on two cores). */
export const SHOWCASE = {
  model: {
    kind: 'lm', layers: 2, dim: 64, heads: 2, attention: 'favor', featureMap: 'softmax', features: 32, redraw: 0,
    positions: 'rotary', tokenShift: true, dropout: 0, tiedEmbeddings: false,
  },
  seqLen: 128,
  batchSize: 8,
  lr: 1e-2,
  warmup: 30,
  weightDecay: 0.01,
  /** The last 1% of the corpus (31k bytes, the second half of the 2021 address) is validation. */
  valFraction: 0.01,
  seed: 0,
  /** Steps timed before the run length is fixed from the time budget (all inside the warmup; the first few are JIT warm-up and not counted). */
  calibrationSteps: 30,
  calibrationSkip: 10,
  minSteps: 40,
  maxSteps: 20000,
  evaluations: 5,
  /** Validation windows at the intermediate evaluations (the final one covers the whole split). */
  evalWindows: 8,
  prompt: 'The state of our Union is',
} as const;

/**
 * Steps of a run that fits `budget` seconds: the calibration steps already run (`spent` seconds)
 * plus as many more as the time left allows at `perStep` seconds each, within [minSteps, maxSteps].
 */
export function fitSteps(budget: number, spent: number, perStep: number): number {
  const S = SHOWCASE;
  return Math.max(S.minSteps, Math.min(S.maxSteps, S.calibrationSteps + Math.floor((budget - spent) / perStep)));
}

const flags = defineFlags({
  ...engineFlags('wasm'),
  out: { type: 'string', default: 'runs/showcase', metavar: 'DIR', help: 'where the checkpoint and the corpus file go (replaced)' },
  budget: { type: 'number', positive: true, default: 210, metavar: 'SECONDS', help: 'training time; the number of steps is fitted to it after timing the first steps' },
  steps: { type: 'int', min: 1, metavar: 'N', help: 'train exactly N steps instead of fitting them to --budget' },
  tokens: { type: 'int', min: 1, default: 100, help: 'length of the generated sample (the prompt plus the sample fit the training length of 128)' },
  seed: { type: 'int', min: 0, default: 0, help: 'sampling seed of the sample' },
  force: { type: 'boolean', help: 'break a run lock on --out held from another host (as in performer train)' },
});

const description = `
The demo of \`npm start\`: trains a small Performer language model (FAVOR+ softmax attention,
${SHOWCASE.model.layers} layers × ${SHOWCASE.model.dim}, token shift, byte-level) on the State of the Union addresses 1934–2021
(public domain, shipped with the package) for about --budget seconds, with a progress bar; evaluates
it on the held-out last 1% of the corpus (loss and bits per character); generates a sample with the
constant-memory recurrent FAVOR+ decoder; and prints the checkpoint location and the commands that
continue from it. The corpus is written to DIR as a text file so that \`performer train --resume\`
and \`performer eval\` can use it.`;

export function showcaseUsage(): string {
  return formatUsage('performer showcase [options]', description, flags);
}

function quote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`;
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(showcaseUsage());
    return 0;
  }
  const f = parsed.flags;
  const warn = (m: string): unknown => io.stderr.write(`${m}\n`);
  return withRunLock(f.out, { command: 'performer showcase', force: f.force, warn }, () => showcase(f, io));
}

async function showcase(f: Flags<typeof flags>, io: CliIo): Promise<number> {
  const t0 = performance.now();
  const out = (s = ''): unknown => io.stdout.write(`${s}\n`);
  const elapsed = (): string => formatDuration((performance.now() - t0) / 1000);
  const engine = await startEngine(f);
  const S = SHOWCASE;

  const text = await loadCorpusText();
  const dataFile = join(f.out, `${text.name}.txt`);
  const validationFile = join(f.out, 'validation.txt');
  const tokenizer = createTokenizer('byte');
  const corpus = await corpusFromChunks([text.bytes], { format: 'text', tokenizer, source: dataFile });
  const spec = makeModelSpec({ ...S.model, seed: S.seed }, tokenizer, S.seqLen);
  const planned = f.steps ?? S.maxSteps;
  const hyper = makeTrainHyper({
    seqLen: S.seqLen, batchSize: S.batchSize, steps: planned, scheduleSteps: planned, lr: S.lr, warmup: Math.min(S.warmup, planned),
    weightDecay: S.weightDecay, valFraction: S.valFraction, seed: S.seed,
  });
  const trainer = Trainer.create(spec, hyper, corpus);

  out('Performer showcase: a FAVOR+ language model trained from scratch on State of the Union addresses');
  out(`data:   ${text.addresses.length} addresses ${text.name.replace('sotu-', '').replace('-', '–')}, ${formatCount(corpus.tokens.length)} bytes (one token per byte); ` +
    `validation = the last ${100 * S.valFraction}% (${formatCount(trainer.validation.tokens.length)} bytes), never trained on`);
  out(`model:  ${describeModel(spec, trainer.model.parameterCount())}`);
  out(`engine: ${describeEngine(engine)}`);

  await writeFileAtomic(dataFile, text.bytes);
  await writeFileAtomic(validationFile, Uint8Array.from(trainer.validation.tokens)); // byte ids = the bytes

  // Fit the run to the time budget: time a few steps (inside the warmup, where the LR does not depend
  // on the run length), then fix the number of steps and the cosine horizon.
  let steps = planned;
  const trainStart = performance.now();
  if (f.steps === undefined) {
    let timed = 0;
    for (let i = 0; i < S.calibrationSteps; i++) {
      if (i === S.calibrationSkip) timed = performance.now();
      await trainer.trainStep();
    }
    const perStep = (performance.now() - timed) / (S.calibrationSteps - S.calibrationSkip) / 1000;
    const spent = (performance.now() - trainStart) / 1000;
    steps = fitSteps(f.budget, spent, perStep);
    trainer.hyper.steps = steps;
    trainer.hyper.scheduleSteps = steps;
  }
  const h = trainer.hyper;
  out(`run:    ${steps} steps × ${h.batchSize} × ${h.seqLen} tokens (${formatCount(steps * h.batchSize * h.seqLen)} tokens), ` +
    `AdamW lr ${h.lr}, warmup ${h.warmup}, cosine to step ${h.scheduleSteps}${f.steps === undefined ? `, sized for a ${f.budget} s budget` : ''}`);
  out();

  const reporter = trainReporter(io, trainer, { json: false, kind: 'lm', bitsPerChar: true });
  try {
    await runTraining(trainer, { outDir: f.out, evalInterval: Math.max(1, Math.ceil(steps / S.evaluations)), evalWindows: S.evalWindows, ...reporter });
  } finally {
    reporter.bar.clear();
  }
  const trainedIn = formatDuration((performance.now() - trainStart) / 1000);

  const v = trainer.evaluate();
  out();
  out(`validation (all ${formatCount(v.tokens)} held-out bytes): loss ${v.loss.toFixed(4)} nats/byte, ` +
    `${(v.bitsPerCharacter ?? v.bitsPerToken).toFixed(3)} bits/character, next-byte accuracy ${(100 * v.accuracy).toFixed(1)}%  ` +
    `(uniform guessing: 8 bits; trained in ${trainedIn})`);

  const model = trainer.model as PerformerLM;
  model.eval();
  const prompt = S.prompt;
  out();
  out(`sample (temperature 0.8, top-k 40, top-p 0.95, seed ${f.seed}):`);
  out();
  io.stdout.write(prompt);
  const stream = tokenizer.streamDecoder();
  const promptIds = tokenizer.encode(prompt);
  generate(model, promptIds, { tokens: 64, temperature: 0 }); // JIT warm-up, so that the timings below are the steady state
  const g = generate(model, promptIds, {
    tokens: f.tokens, temperature: 0.8, topK: 40, topP: 0.95, seed: f.seed,
    onToken: (id) => {
      const piece = stream.push(id);
      if (piece) io.stdout.write(piece);
    },
  });
  io.stdout.write(`${stream.end()}\n`);
  if (promptIds.length + f.tokens - 1 > S.seqLen) out(`(past position ${S.seqLen}, the training length, a model this small loses the thread)`);
  const t = timingSummary(g.msPerToken);
  const state = createDecoder(model).stateBytes;
  out();
  out(`decoding: ${g.ids.length} tokens, ${t.first.toFixed(2)} ms/token over the first ${t.count} and ${t.last.toFixed(2)} ms/token over the last ${t.count}; ` +
    `the FAVOR+ recurrent state is ${(state / 1024).toFixed(1)} KiB whatever the length (no KV cache)`);
  out();
  out(`checkpoint: ${f.out}/ (step ${trainer.step}; corpus ${dataFile}, validation ${validationFile})`);
  out('continue with:');
  out(`  performer generate --checkpoint ${f.out} --prompt ${quote('My fellow Americans,')} --tokens 300`);
  out(`  performer eval --checkpoint ${f.out} --data ${validationFile}`);
  out(`  performer train --resume --data ${dataFile} --out ${f.out} --steps ${2 * steps}`);
  out(`(npx performer … in this directory; total time ${elapsed()})`);
  return 0;
}

export const showcaseCommand: Command = {
  name: 'showcase',
  summary: 'npm start: train a small FAVOR+ LM on State of the Union texts, evaluate, generate',
  usage: showcaseUsage,
  run,
};
