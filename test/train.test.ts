// The trainer library (src/train): exact resume, init-from across attention types, evaluation
// against a direct computation, the schedule, data checks and divergence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noGrad } from '../src/autograd/tape.js';
import type { TokenCorpus } from '../src/data/corpus.js';
import { corpusFromText } from '../src/data/read.js';
import { createTokenizer } from '../src/data/tokenizer.js';
import { PerformerEncoder, PerformerLM } from '../src/nn/models.js';
import {
  configFromSpec, evaluateLM, evaluateMLM, loadTrainedModel, specFromConfig, makeModelSpec, makeTrainHyper, MLM_EVAL_GROUPS, runTraining, scheduledLearningRate,
  Trainer, TrainingError, type ModelOptions, type TrainHyper,
} from '../src/train/index.js';

const TEXT = 'It was the best of times, it was the worst of times; it was the age of wisdom, it was the age of foolishness. '
  .repeat(12) + 'Ünïcödé — naïve café. ';
const byte = createTokenizer('byte');
const tiny: ModelOptions = { layers: 1, dim: 16, heads: 2, features: 8, redraw: 7, dropout: 0.1, positions: 'rotary' };
const tinyHyper: Partial<TrainHyper> = { seqLen: 16, batchSize: 2, lr: 3e-3, warmup: 5, scheduleSteps: 60, valFraction: 0.1 };

async function corpus(text = TEXT): Promise<TokenCorpus> {
  return corpusFromText(text, byte, '<test>');
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'performer-train-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function weightsOf(t: { model: PerformerLM | PerformerEncoder }): Map<string, Float32Array> {
  return new Map([...t.model.stateDict()].map(([k, v]) => [k, Float32Array.from(v.data)]));
}

test('schedule: linear warmup, cosine to 0.1·lr at scheduleSteps, flat after; independent of the run length', () => {
  const h = { lr: 1e-3, warmup: 10, scheduleSteps: 110, minLrRatio: 0.1 };
  assert.equal(scheduledLearningRate(0, h), 1e-4);
  assert.equal(scheduledLearningRate(9, h), 1e-3);
  assert.ok(Math.abs(scheduledLearningRate(60, h) - 0.55e-3) < 1e-12);
  assert.ok(Math.abs(scheduledLearningRate(110, h) - 1e-4) < 1e-15);
  assert.equal(scheduledLearningRate(5000, h), scheduledLearningRate(110, h));
});

for (const kind of ['lm', 'mlm'] as const) {
  test(`resume is exact (${kind}): 10 steps, save, resume to 20 = 20 steps straight (losses and weights bit-identical)`, async () => {
    await withDir(async (dir) => {
      const c = await corpus();
      const spec = makeModelSpec({ ...tiny, kind }, byte, 16);
      const straight = Trainer.create(spec, makeTrainHyper({ ...tinyHyper, steps: 20 }), c);
      await runTraining(straight, { evalInterval: 5, evalWindows: 2 });

      const first = Trainer.create(spec, makeTrainHyper({ ...tinyHyper, steps: 10 }), c);
      await runTraining(first, { outDir: dir, evalInterval: 5, evalWindows: 2 });
      const loaded = await loadTrainedModel(dir, { optimizer: true });
      const resumed = Trainer.resume(loaded, await corpus(), { steps: 20 });
      assert.equal(resumed.step, 10);
      await runTraining(resumed, { outDir: dir, evalInterval: 5, evalWindows: 2 });

      assert.deepEqual(resumed.losses, straight.losses);
      assert.deepEqual(weightsOf(resumed), weightsOf(straight));
      assert.deepEqual(resumed.evals.map((e) => [e.step, e.train_loss, e.val_loss]), straight.evals.map((e) => [e.step, e.train_loss, e.val_loss]));
      // feature redraws (every 7 steps) happened on both paths
      assert.deepEqual(resumed.model.exportRuntimeState(), straight.model.exportRuntimeState());
    });
  });
}

test('an aborted run saves at its current step and resumes exactly from there', async () => {
  await withDir(async (dir) => {
    const c = await corpus();
    const spec = makeModelSpec(tiny, byte, 16);
    const straight = Trainer.create(spec, makeTrainHyper({ ...tinyHyper, steps: 12 }), c);
    await runTraining(straight, { evalInterval: 100 });
    const ac = new AbortController();
    const a = Trainer.create(spec, makeTrainHyper({ ...tinyHyper, steps: 12 }), c);
    const r = await runTraining(a, { outDir: dir, evalInterval: 100, signal: ac.signal, onStep: (s) => { if (s.step === 6) ac.abort(); } });
    assert.equal(r.stopped, true);
    assert.equal(a.step, 7);
    const b = Trainer.resume(await loadTrainedModel(dir, { optimizer: true }), c);
    assert.equal(b.step, 7);
    assert.equal(b.hyper.steps, 12);
    await runTraining(b, { evalInterval: 100 });
    assert.deepEqual(b.losses, straight.losses);
    assert.deepEqual(weightsOf(b), weightsOf(straight));
  });
});

test('resume refuses different data', async () => {
  await withDir(async (dir) => {
    const t = Trainer.create(makeModelSpec(tiny, byte, 16), makeTrainHyper({ ...tinyHyper, steps: 2 }), await corpus());
    await runTraining(t, { outDir: dir });
    const loaded = await loadTrainedModel(dir, { optimizer: true });
    const other = await corpus(TEXT.replace('best', 'BEST'));
    assert.throws(() => Trainer.resume(loaded, other), /not the data the run .* was trained on/);
  });
});

test('init-from: exact-attention weights start a FAVOR+ run (fresh projections) and the other way round', async () => {
  await withDir(async (dir) => {
    const c = await corpus();
    const exactSpec = makeModelSpec({ ...tiny, attention: 'exact' }, byte, 16);
    const src = Trainer.create(exactSpec, makeTrainHyper({ ...tinyHyper, steps: 3 }), c);
    await runTraining(src, { outDir: join(dir, 'exact') });

    const favorSpec = makeModelSpec({ ...tiny, attention: 'favor', featureMap: 'relu', features: 12 }, byte, 16);
    const init = await loadTrainedModel(join(dir, 'exact'));
    const t = Trainer.create(favorSpec, makeTrainHyper({ ...tinyHyper, steps: 3 }), c, { initFrom: init });
    const fresh = Trainer.create(favorSpec, makeTrainHyper({ ...tinyHyper, steps: 3 }), c);
    for (const [name, v] of t.model.namedParameters()) assert.deepEqual(v.data, init.model.stateDict().get(name)!.data, name);
    for (const [name, v] of t.model.namedBuffers()) assert.deepEqual(v.data, fresh.model.stateDict().get(name)!.data, `${name} is the fresh draw`);
    assert.equal(t.step, 0);
    assert.equal(t.initFrom, join(dir, 'exact'));
    await runTraining(t, { outDir: join(dir, 'favor') });
    assert.ok(t.losses.every(Number.isFinite));
    // checkpoint.json keeps the feature map's stored spelling "kernel" (what earlier versions read)
    const stored = JSON.parse(await readFile(join(dir, 'favor', 'checkpoint.json'), 'utf8')) as { config: { model: Record<string, unknown> } };
    assert.equal(stored.config.model.kernel, 'relu');
    assert.equal('featureMap' in stored.config.model, false);
    assert.equal((await loadTrainedModel(join(dir, 'favor'))).spec.model.featureMap, 'relu');

    // FAVOR+ → exact: the projections are simply not used
    const back = Trainer.create(exactSpec, makeTrainHyper({ ...tinyHyper, steps: 1 }), c, { initFrom: await loadTrainedModel(join(dir, 'favor')) });
    assert.deepEqual(back.model.namedParameters().map(([, v]) => v.data), t.model.namedParameters().map(([, v]) => v.data));

    // another shape is refused, naming the weight
    const wide = makeModelSpec({ ...tiny, dim: 32 }, byte, 16);
    assert.throws(() => Trainer.create(wide, makeTrainHyper(tinyHyper), c, { initFrom: init }), (e: Error) => e instanceof TrainingError && /model shape must match/.test(e.message));
    const mlm = makeModelSpec({ ...tiny, kind: 'mlm' }, byte, 16);
    assert.throws(() => Trainer.create(mlm, makeTrainHyper(tinyHyper), c, { initFrom: init }), /holds a lm model, this run trains mlm/);
  });
});

test('checkpoint config: featureMap is stored as "kernel" and read from either spelling, once', () => {
  const spec = makeModelSpec({ ...tiny, featureMap: 'softmax-hyp' }, byte, 16);
  const config = configFromSpec(spec) as unknown as { model: Record<string, unknown> };
  assert.equal(config.model.kernel, 'softmax-hyp');
  assert.equal('featureMap' in config.model, false);
  assert.deepEqual(specFromConfig(config as never), spec);
  assert.deepEqual(specFromConfig({ ...config, model: { ...spec.model } } as never), spec);
  assert.throws(() => specFromConfig({ ...config, model: { ...config.model, featureMap: 'relu' } } as never), /names its feature map twice/);
  assert.throws(() => specFromConfig({ ...config, model: { ...config.model, kernel: 'gauss' } } as never), /model kernel must be one of softmax, softmax-hyp, trig, relu, got "gauss"/);
});

test('evaluateLM = a direct computation: every token after the first predicted once', async () => {
  const text = 'abracadabra, said the performer: linear attention! '.repeat(3);
  const c = await corpus(text);
  const lm = new PerformerLM({ vocabSize: 261, dim: 16, layers: 2, heads: 2, maxLen: 256, features: 8, seed: 4, positions: 'rotary' }).eval();
  const ids = Array.from(c.tokens);
  const n = ids.length;
  // one window covering everything: loss = mean CE of ids[1..] given the prefix
  const r = evaluateLM(lm, c, { seqLen: n - 1, batchSize: 1 });
  const logits = noGrad(() => lm.forward(ids.slice(0, n - 1), 1, n - 1)).data;
  let nll = 0, correct = 0;
  for (let i = 0; i < n - 1; i++) {
    const row = Array.from(logits.subarray(i * 261, (i + 1) * 261));
    const mx = Math.max(...row);
    const lse = mx + Math.log(row.reduce((s, z) => s + Math.exp(z - mx), 0));
    nll += lse - row[ids[i + 1]!]!;
    if (row.indexOf(mx) === ids[i + 1]) correct++;
  }
  assert.equal(r.tokens, n - 1);
  assert.ok(Math.abs(r.loss - nll / (n - 1)) < 1e-9, `${r.loss} vs ${nll / (n - 1)}`);
  assert.equal(r.accuracy, correct / (n - 1));
  assert.equal(r.bitsPerToken, r.loss / Math.LN2);
  assert.equal(r.characters, n - 1); // ASCII: one byte per character
  // windows of 10, batches of 3: still every token once, context restarting at each window
  const w = evaluateLM(lm, c, { seqLen: 10, batchSize: 3 });
  assert.equal(w.tokens, n - 1);
  let nll2 = 0;
  for (let s = 0; s < n - 1; s += 10) {
    const len = Math.min(10, n - 1 - s);
    nll2 += noGrad(() => lm.loss(ids.slice(s, s + len), ids.slice(s + 1, s + 1 + len), 1, len)).item() * len;
  }
  assert.ok(Math.abs(w.loss - nll2 / (n - 1)) < 1e-6, `${w.loss} vs ${nll2 / (n - 1)}`);
  // bits per character counts UTF-8 characters, not bytes
  const u = await corpus('naïve café — ünïcödé '.repeat(4));
  const ru = evaluateLM(lm, u, { seqLen: 32, batchSize: 2 });
  const chars = [...'naïve café — ünïcödé '.repeat(4)].length - 1;
  assert.equal(ru.characters, chars);
  assert.ok(Math.abs(ru.bitsPerCharacter! - (ru.loss * ru.tokens) / Math.LN2 / chars) < 1e-12);
});

test('evaluateMLM: 7 passes predict every maskable token exactly once; = a direct computation', async () => {
  const text = 'the quick brown fox jumps over the lazy dog. ';
  const c = await corpus(text);
  const enc = new PerformerEncoder({ vocabSize: 261, dim: 16, layers: 1, heads: 2, maxLen: 64, features: 8, seed: 2, positions: 'rotary' }).eval();
  const T = 20, n = c.tokens.length;
  const r = evaluateMLM(enc, c, { seqLen: T, batchSize: 2 });
  assert.equal(r.tokens, n);
  let nll = 0, correct = 0;
  for (let s = 0; s < n; s += T) {
    const len = Math.min(T, n - s);
    const win = Array.from(c.tokens.subarray(s, s + len));
    for (let g = 0; g < MLM_EVAL_GROUPS; g++) {
      const x = win.map((id, i) => (i % MLM_EVAL_GROUPS === g ? byte.mask : id));
      if (!win.some((_, i) => i % MLM_EVAL_GROUPS === g)) continue;
      const logits = noGrad(() => enc.mlmLogits(enc.hidden(x, 1, len))).data;
      for (let i = g; i < len; i += MLM_EVAL_GROUPS) {
        const row = Array.from(logits.subarray(i * 261, (i + 1) * 261));
        const mx = Math.max(...row);
        nll += mx + Math.log(row.reduce((a, z) => a + Math.exp(z - mx), 0)) - row[win[i]!]!;
        if (row.indexOf(mx) === win[i]) correct++;
      }
    }
  }
  // the padded last window (keyMask) gives what an unpadded one does
  assert.ok(Math.abs(r.loss - nll / n) < 1e-5, `${r.loss} vs ${nll / n}`);
  assert.equal(r.accuracy, correct / n);
});

test('a non-finite loss stops training with a TrainingError, leaving the step count alone', async () => {
  const t = Trainer.create(makeModelSpec(tiny, byte, 16), makeTrainHyper({ ...tinyHyper, steps: 5 }), await corpus());
  await t.trainStep();
  t.model.namedParameters()[0]![1].data.fill(NaN);
  await assert.rejects(() => t.trainStep(), (e: Error) => e instanceof TrainingError && /diverged at step 2/.test(e.message));
  assert.equal(t.step, 1);
});

test('config validation: one clear message per bad value', () => {
  assert.throws(() => makeModelSpec({ dim: 30, heads: 4 }, byte), /not divisible by 4 heads/);
  assert.throws(() => makeModelSpec({ dim: 12, heads: 4, positions: 'rotary' }, byte), /even head dim/);
  assert.throws(() => makeTrainHyper({ warmup: 300, scheduleSteps: 200 }), /warmup \(300\) must not exceed/);
  assert.throws(() => makeTrainHyper({ lr: 0 }), /lr must be a positive number/);
  assert.throws(() => makeTrainHyper({ valFraction: 0 }), /valFraction must be in \(0, 1\)/);
});
