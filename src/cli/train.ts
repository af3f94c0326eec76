// `performer train`: train a Performer LM (or masked-LM encoder) on a text or FASTA file, with
// periodic validation, crash-safe checkpoints, exact --resume and --init-from.

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointError, MANIFEST_FILE, readCheckpointManifest } from '../io/checkpoint-node.js';
import type { DataFormat, TokenCorpus } from '../data/corpus.js';
import { loadCorpusFile, resolveFileFormat } from '../data/read-node.js';
import { createTokenizer, tokenizerFromJSON, type Tokenizer } from '../data/tokenizer.js';
import { withRunLock } from '../io/run-lock-node.js';
import {
  describeModel, formatCount, inheritArchitecture, makeModelSpec, makeTrainHyper, TRAIN_DEFAULTS, type ModelKind, type ModelSpec, type TrainHyper,
} from '../train/config.js';
import { loadTrainedModel, parseTrainingState, type EvalRecord, type TrainedModel } from '../train/checkpoint-node.js';
import type { PositionKind } from '../nn/models.js';
import type { EvalResult } from '../train/evaluate.js';
import { defaultEvalInterval, runTraining, type LoopOptions } from '../train/loop.js';
import { Trainer } from '../train/trainer-node.js';
import { defineFlags, formatUsage, parseArgs, UsageError, type Flags } from './args.js';
import type { CliIo, Command } from './command.js';
import { describeEngine, engineFlags, startEngine } from './engine.js';
import { formatRate, ProgressBar } from './progress.js';

const D = TRAIN_DEFAULTS;

export const trainFlags = defineFlags({
  ...engineFlags('wasm'),
  data: { type: 'string', required: true, metavar: 'FILE', help: 'training data: text (UTF-8, byte tokenizer) or FASTA (amino-acid tokenizer), optionally .gz' },
  format: { type: 'enum', values: ['text', 'fasta'], help: 'data format (default: from the name: .fa/.fasta/.faa/.fas/.fna[.gz] → fasta, else text)' },
  out: { type: 'string', required: true, metavar: 'DIR', help: 'checkpoint directory (saved at every evaluation, crash-safe)' },
  model: { type: 'enum', values: ['lm', 'mlm'], default: D.kind, help: 'lm: causal PerformerLM; mlm: PerformerEncoder trained by masked-LM (15%)' },
  layers: { type: 'int', min: 1, default: D.layers, help: 'Transformer blocks' },
  dim: { type: 'int', min: 1, default: D.dim, help: 'model width (divisible by --heads)' },
  heads: { type: 'int', min: 1, default: D.heads, help: 'attention heads' },
  seq: { type: 'int', min: 1, default: D.seqLen, help: 'tokens per training window' },
  batch: { type: 'int', min: 1, default: D.batchSize, help: 'windows per step' },
  steps: { type: 'int', min: 1, default: D.steps, help: 'total optimiser steps (with --resume: the new total; default there: the run\'s own)' },
  lr: { type: 'number', positive: true, default: D.lr, help: 'peak learning rate (AdamW)' },
  attention: { type: 'enum', values: ['favor', 'exact'], default: D.attention, help: 'FAVOR+ linear attention, or exact softmax attention' },
  kernel: { type: 'enum', values: ['softmax', 'relu', 'softmax++'], default: D.featureMap, help: 'FAVOR+ feature map (softmax++: FAVOR++, A a per-head running average in causal models)' },
  features: { type: 'int', min: 1, default: D.features, help: 'FAVOR+ random features per head' },
  redraw: { type: 'int', min: 0, default: D.redraw, help: 'steps between FAVOR+ feature redraws (0 = never)' },
  'local-heads': { type: 'int', min: 0, default: 0, metavar: 'N', help: 'the last N heads of every layer run exact softmax attention within blocks of --local-window (performer-pytorch\'s local_attn_heads)' },
  'local-window': { type: 'int', min: 1, default: 256, metavar: 'W', help: 'block length of the local heads: a query sees its own block and the previous one' },
  seed: { type: 'int', min: 0, default: D.seed, help: 'seed of init, batches, masks, dropout and features' },
  resume: { type: 'boolean', help: 'continue the run in --out exactly where its checkpoint stopped' },
  'init-from': { type: 'string', metavar: 'DIR', help: 'start from the weights of the checkpoint in DIR (its model shape unless given; attention may differ)' },
  json: { type: 'boolean', help: 'print one JSON line per evaluation' },
  'token-shift': { type: 'boolean', help: 'every block\'s attention and FFN inputs take half their features from the previous position (as performer-pytorch\'s shift_tokens)' },
  positions: { type: 'enum', values: ['rotary', 'learned'], default: D.positions, help: 'rotary (RoPE; generation may run past --seq) or a learned table of --seq' },
  gelu: { type: 'enum', values: ['tanh', 'erf'], default: 'tanh', help: 'FFN activation: tanh approximation, or the exact erf GELU (performer-pytorch\'s; needed by export)' },
  dropout: { type: 'number', min: 0, max: 0.95, default: D.dropout, help: 'residual and embedding dropout' },
  warmup: { type: 'int', min: 0, default: D.warmup, help: 'linear LR warmup steps' },
  'schedule-steps': { type: 'int', min: 1, default: D.scheduleSteps, metavar: 'N', help: 'cosine horizon: LR decays to 0.1×lr at step N, then stays (independent of --steps)' },
  'weight-decay': { type: 'number', min: 0, max: 0.99, default: D.weightDecay, help: 'AdamW decoupled weight decay (weight matrices only)' },
  clip: { type: 'number', positive: true, default: D.clip, help: 'global gradient-norm clip' },
  'val-fraction': { type: 'number', positive: true, max: 0.5, default: D.valFraction, help: 'share held out for validation' },
  'eval-interval': { type: 'int', min: 1, metavar: 'N', help: 'steps between evaluations (default max(1, steps/10); the last step always)' },
  'eval-windows': { type: 'int', min: 0, default: 0, metavar: 'N', help: 'validate on the first N windows only (0 = the whole validation split)' },
  force: { type: 'boolean', help: 'break a run lock on --out held from another host (see "Run lock" below)' },
});

type TrainFlags = Flags<typeof trainFlags>;
type FlagName = keyof typeof trainFlags & string;

const description = `
Trains on FILE and saves checkpoints in DIR. Validation: a held-out split of FILE that is never
trained on: for a text file (one document) the last --val-fraction of its tokens; for FASTA the
records whose id hashes below --val-fraction (seed 0, so the same records whatever the file order
or --seed). Training windows are drawn at random from the rest (step-pure: window s depends only on
--seed and s).

Optimisation: AdamW (β1 0.9, β2 0.95, ε 1e-8, decoupled weight decay on weight matrices), global
gradient clipping, LR: linear warmup for --warmup steps, then cosine from --lr down to 0.1×lr at step
--schedule-steps, flat after. The schedule does not depend on --steps, so "--steps 40" followed by
"--resume --steps 80" gives exactly the losses of "--steps 80". Set --schedule-steps to the planned
total for a full cosine.

At every evaluation (every --eval-interval steps and at the last step) it prints the mean training
loss since the previous one and the validation loss (nats/token), bits/token, next-token accuracy
(masked-token accuracy for mlm) and training tokens/s, and saves the checkpoint: weights, AdamW
state, RNG and feature-draw state, step, loss history, model config, tokenizer and these settings.
With --json each evaluation is one line
  {"step","train_loss","val_loss","val_bits_per_token","val_accuracy","tokens_per_s"}.
On a terminal a progress line (step, loss, tokens/s, ETA) is redrawn on stderr. Ctrl-C stops after
the current step and saves a checkpoint there.

--resume continues the run in DIR bit-exactly, up to --steps in total; the other settings come from
the checkpoint (giving one that differs is an error), and FILE must hold the same data. --init-from
starts a new run from another checkpoint's weights: its model kind, layers, dim, heads, positions and
token shift are the defaults (they must fit its weights), its tokenizer must fit FILE; the attention may differ (e.g. FAVOR+ from an exact-attention checkpoint: projections are drawn
fresh when the checkpoint has none of the right shape).

Run lock: the run holds DIR/performer.lock (pid, host, start time) from start to end, so a second
run writing DIR stops at once with exit code 75, naming the holder. A lock left by a run that is
gone (kill -9) is broken with a warning; one held from another host only with --force.`;

export function trainUsage(): string {
  return formatUsage('performer train --data FILE --out DIR [options]', description, trainFlags);
}

/** Settings a resumed run must keep, with the stored value each flag is compared against. */
function storedValues(spec: ModelSpec, h: TrainHyper, format: DataFormat): Partial<Record<FlagName, string | number | boolean>> {
  const m = spec.model;
  const favor = (m.attention ?? 'favor') === 'favor';
  return {
    model: spec.kind, layers: m.layers, dim: m.dim, heads: m.heads, positions: m.positions ?? 'learned', 'token-shift': Array.isArray(m.tokenShift) || (m.tokenShift ?? false), gelu: m.gelu ?? 'tanh', format,
    attention: m.attention ?? 'favor', ...(favor ? { kernel: m.featureMap ?? 'softmax', features: m.features ?? 0, redraw: m.redrawInterval ?? 0 } : {}),
    'local-heads': Array.isArray(m.localHeads) ? JSON.stringify(m.localHeads) : m.localHeads ?? 0, 'local-window': m.localWindow ?? 256,
    dropout: m.dropout ?? 0, seq: h.seqLen, batch: h.batchSize, lr: h.lr, warmup: h.warmup, 'schedule-steps': h.scheduleSteps,
    'weight-decay': h.weightDecay, clip: h.clip, seed: h.seed, 'val-fraction': h.valFraction,
  };
}

const SHAPE_FLAGS: readonly FlagName[] = ['model', 'layers', 'dim', 'heads', 'positions', 'token-shift', 'local-heads', 'local-window'];

/** The model shape of a new run: the flags, except that with --init-from the shape flags left out
 *  default to the checkpoint's (a shape that differs from it is then refused by the Trainer). */
function modelShape(f: TrainFlags, given: Set<FlagName>, from: ModelSpec | undefined): {
  kind: ModelKind; layers: number; dim: number; heads: number; positions: PositionKind; tokenShift: boolean | number[];
  localHeads: number | number[]; localWindow: number;
} {
  const m = from?.model;
  const pick = <T>(flag: FlagName, value: T, stored: T | undefined): T => (m && !given.has(flag) && stored !== undefined ? stored : value);
  return {
    kind: pick('model', f.model as ModelKind, from?.kind),
    layers: pick('layers', f.layers, m?.layers),
    dim: pick('dim', f.dim, m?.dim),
    heads: pick('heads', f.heads, m?.heads),
    positions: pick('positions', f.positions as PositionKind, m?.positions ?? 'learned'),
    tokenShift: pick<boolean | number[]>('token-shift', f['token-shift'], m?.tokenShift ?? false),
    localHeads: pick<number | number[]>('local-heads', f['local-heads'], m?.localHeads ?? 0),
    localWindow: pick('local-window', f['local-window'], m?.localWindow),
  };
}

async function checkOutDir(dir: string): Promise<void> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    return; // created at the first save
  }
  if (!st.isDirectory()) throw new UsageError(`--out ${dir}: exists and is not a directory`);
  try {
    await stat(join(dir, MANIFEST_FILE));
  } catch {
    return;
  }
  let step = '?';
  try {
    step = String((await readCheckpointManifest(dir)).step);
  } catch {
    // a damaged checkpoint is still one not to overwrite by accident
  }
  throw new UsageError(`--out ${dir} already holds a checkpoint (step ${step}); pass --resume to continue it, or choose another --out`);
}

async function loadData(path: string, format: DataFormat | undefined, tokenizer?: Tokenizer): Promise<TokenCorpus> {
  const fmt = resolveFileFormat(path, { format: format ?? 'auto' }).format;
  return loadCorpusFile(path, { format: fmt, tokenizer: tokenizer ?? createTokenizer(fmt === 'fasta' ? 'amino' : 'byte') });
}

/** Human one-liner of an evaluation. */
export function formatEvalLine(r: EvalRecord, total: number, kind: ModelKind, bitsPerChar?: number): string {
  const digits = String(total).length;
  const acc = kind === 'lm' ? 'next-token acc' : 'masked acc';
  const bpc = bitsPerChar !== undefined ? `, ${bitsPerChar.toFixed(3)} bits/char` : '';
  return `step ${String(r.step).padStart(digits)}/${total}  train ${r.train_loss.toFixed(4)}  val ${r.val_loss.toFixed(4)} nats/token ` +
    `(${r.val_bits_per_token.toFixed(3)} bits/token${bpc}, ${acc} ${(100 * r.val_accuracy).toFixed(1)}%)  ${formatRate(r.tokens_per_s)} tok/s`;
}

export interface ReporterOptions {
  json: boolean;
  kind: ModelKind;
  /** Also print bits per character after the validation loss (byte tokenizer). */
  bitsPerChar?: boolean;
}

/** Progress bar + evaluation lines for runTraining, as `performer train` prints them. */
export function trainReporter(io: CliIo, trainer: Trainer, opts: ReporterOptions): Pick<LoopOptions, 'onStep' | 'onEvalStart' | 'onEval'> & { bar: ProgressBar } {
  const total = trainer.hyper.steps;
  const bar = new ProgressBar(io.stderr, { total, start: trainer.step });
  let ema = NaN, n = 0;
  const t0 = performance.now();
  let tokens = 0;
  return {
    bar,
    onStep: (r) => {
      n++;
      ema = n === 1 ? r.loss : 0.95 * ema + 0.05 * r.loss;
      tokens += r.tokens;
      bar.update(r.step + 1, { loss: ema, tokensPerSec: tokens / ((performance.now() - t0) / 1000) });
    },
    onEvalStart: (step) => bar.update(step, { note: 'evaluating…' }, true),
    onEval: (record: EvalRecord, result: EvalResult) => {
      bar.clear();
      if (opts.json) io.stdout.write(`${JSON.stringify(record)}\n`);
      else io.stdout.write(`${formatEvalLine(record, total, opts.kind, opts.bitsPerChar ? result.bitsPerCharacter : undefined)}\n`);
    },
  };
}

/** Stops on Ctrl-C (SIGINT) after the current step; `dispose` removes the handler. */
function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.once('SIGINT', onSigint);
  return { signal: ac.signal, dispose: () => process.removeListener('SIGINT', onSigint) };
}

function compareOnResume(f: TrainFlags, given: Set<FlagName>, stored: Partial<Record<FlagName, string | number | boolean>>, dir: string): void {
  for (const name of Object.keys(stored) as FlagName[]) {
    if (!given.has(name)) continue;
    const want = stored[name];
    const have = f[name] as string | number | boolean | undefined;
    if (have === want) continue;
    const what = SHAPE_FLAGS.includes(name) ? 'the model shape of a resumed run is fixed' : 'a resumed run keeps its settings';
    throw new UsageError(
      `--${name} ${have} does not match the run in ${dir} (${name} ${want}): ${what} (leave --${name} out, or start a new run from its weights with --init-from ${dir})`,
    );
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, trainFlags);
  if (parsed.help) {
    io.stdout.write(trainUsage());
    return 0;
  }
  const f = parsed.flags, given = parsed.given;
  if (f.resume && f['init-from'] !== undefined) throw new UsageError('--resume and --init-from cannot be combined (--resume continues the run in --out)');
  const warn = (m: string): unknown => io.stderr.write(`${m}\n`);
  return withRunLock(f.out, { command: 'performer train', force: f.force, warn }, () => train(f, given, io));
}

async function train(f: TrainFlags, given: Set<FlagName>, io: CliIo): Promise<number> {
  const outDir = f.out, initFromDir = f['init-from'];
  const engine = await startEngine(f);

  let trainer: Trainer;
  let resumedFrom: number | undefined;
  if (f.resume) {
    let source: TrainedModel;
    try {
      source = await loadTrainedModel(outDir, { optimizer: true });
    } catch (e) {
      if (e instanceof CheckpointError && /no such (checkpoint directory|file)/.test(e.message)) {
        throw new UsageError(`--resume: there is no checkpoint in ${outDir} to resume (${e.message})`);
      }
      throw e;
    }
    const st = parseTrainingState(outDir, source.checkpoint);
    compareOnResume(f, given, storedValues(source.spec, st.training, st.data.format), outDir);
    const steps = given.has('steps') ? f.steps : st.training.steps;
    if (steps < st.step) throw new UsageError(`--steps ${steps} is below the step the run in ${outDir} has reached (${st.step})`);
    const corpus = await loadData(f.data, st.data.format, tokenizerFromJSON(source.spec.tokenizer));
    trainer = Trainer.resume(source, corpus, { steps });
    resumedFrom = st.step;
  } else {
    await checkOutDir(outDir);
    if (f.warmup > f['schedule-steps']) throw new UsageError(`--warmup ${f.warmup} exceeds --schedule-steps ${f['schedule-steps']}`);
    // Before reading the data: a bad --init-from is reported without waiting for a large file.
    const init = initFromDir !== undefined ? await loadTrainedModel(initFromDir) : undefined;
    const shape = modelShape(f, given, init?.spec);
    if (shape.dim % shape.heads !== 0) throw new UsageError(`--dim ${shape.dim} is not divisible by --heads ${shape.heads}`);
    if (shape.positions === 'rotary' && (shape.dim / shape.heads) % 2 !== 0) {
      throw new UsageError(`rotary positions need an even head dim (--dim / --heads = ${shape.dim / shape.heads}); change --dim or --heads, or use --positions learned`);
    }
    if (typeof shape.localHeads === 'number' && shape.localHeads > shape.heads) throw new UsageError(`--local-heads ${shape.localHeads} exceeds --heads ${shape.heads}`);
    const corpus = await loadData(f.data, f.format);
    const made = makeModelSpec({
      ...shape, attention: f.attention, featureMap: f.kernel, features: f.features, redraw: f.redraw, dropout: f.dropout, seed: f.seed, gelu: f.gelu,
    }, corpus.tokenizer, f.seq);
    const spec = init ? inheritArchitecture(made, init.spec) : made;
    if (init?.spec.model.numerics === 'performer-pytorch') io.stderr.write(`${initFromDir} uses performer-pytorch numerics; training uses favor numerics (the other has no backward)\n`);
    const hyper = makeTrainHyper({
      seqLen: f.seq, batchSize: f.batch, steps: f.steps, lr: f.lr, warmup: f.warmup, scheduleSteps: f['schedule-steps'],
      weightDecay: f['weight-decay'], clip: f.clip, seed: f.seed, valFraction: f['val-fraction'],
    });
    trainer = Trainer.create(spec, hyper, corpus, init ? { initFrom: init } : {});
  }

  const h = trainer.hyper, spec = trainer.spec, total = h.steps;
  const log = (s: string): unknown => io.stderr.write(`${s}\n`);
  const sp = trainer.split;
  log(`data: ${f.data}: ${formatCount(trainer.data.tokens)} tokens (${trainer.data.format}, ${spec.tokenizer.type} tokenizer); ` +
    `validation: ${sp.mode === 'tail' ? `the last ${100 * sp.fraction}% of the tokens` : `${sp.validationDocuments} of ${sp.trainDocuments + sp.validationDocuments} records`} (${formatCount(sp.validationTokens)} tokens)`);
  log(`model: ${describeModel(spec, trainer.model.parameterCount())}${trainer.initFrom ? `, weights from ${trainer.initFrom}` : ''}`);
  log(`training: ${total} steps × ${h.batchSize} × ${h.seqLen} tokens, AdamW lr ${h.lr} (warmup ${h.warmup}, cosine to ${h.minLrRatio}×lr at step ${h.scheduleSteps}), ` +
    `weight decay ${h.weightDecay}, clip ${h.clip}, dropout ${spec.model.dropout ?? 0}, seed ${h.seed}; ${describeEngine(engine)}`);
  if (h.warmup >= total) log(`note: --warmup ${h.warmup} is not below --steps ${total}: the whole run stays in the LR warmup`);
  if (total > h.scheduleSteps) log(`note: the LR reaches its floor (${h.minLrRatio}×lr) at step ${h.scheduleSteps} (--schedule-steps) and stays there for the rest of the ${total} steps`);
  if (resumedFrom !== undefined) {
    if (resumedFrom >= total) {
      log(`${outDir}: the run is already at step ${resumedFrom} of ${total}; nothing to do (raise --steps to train further)`);
      return 0;
    }
    log(`resuming ${outDir} at step ${resumedFrom} of ${total}`);
  }

  const reporter = trainReporter(io, trainer, { json: f.json, kind: spec.kind });
  const interrupt = interruptSignal();
  let result;
  try {
    result = await runTraining(trainer, {
      outDir, evalInterval: f['eval-interval'] ?? defaultEvalInterval(total), evalWindows: f['eval-windows'], signal: interrupt.signal, ...reporter,
    });
  } finally {
    interrupt.dispose();
    reporter.bar.clear();
  }
  const again = `performer train --resume --data ${f.data} --out ${outDir}`;
  if (result.stopped) {
    log(`interrupted at step ${trainer.step} of ${total}; the checkpoint is saved in ${outDir} (continue with: ${again})`);
    return 130;
  }
  log(`checkpoint: ${outDir} (step ${trainer.step})`);
  if (!f.json && spec.kind === 'lm') log(`next: performer generate --checkpoint ${outDir} --prompt "..."   |   performer eval --checkpoint ${outDir} --data FILE`);
  return 0;
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train a Performer LM or masked-LM encoder on a text or FASTA file',
  usage: trainUsage,
  run,
};
