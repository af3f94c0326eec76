// Tiny models must be able to fit tiny data: the whole stack (ops, modules, AdamW) working together.
import { test } from 'node:test';
import { IGNORE_INDEX } from '../src/data/ignore-index.js';
import assert from 'node:assert/strict';
import { backward } from '../src/autograd/index.js';
import { PerformerEncoder, PerformerLM, type PerformerConfig } from '../src/nn/index.js';
import { AdamW, clipGradNorm, learningRate } from '../src/optim/index.js';
import { Rng } from '../src/tensor/rng.js';

const bytes = Int32Array.from(new TextEncoder().encode('the performer attends in linear time. '.repeat(8)));
const LM_LR = 1e-2;
const base: PerformerConfig = { vocabSize: 256, dim: 32, layers: 2, heads: 4, maxLen: 32, features: 16, seed: 1 };

function trainLM(cfg: PerformerConfig, steps: number): { first: number; last: number; tokPerSec: number } {
  const lm = new PerformerLM(cfg);
  const opt = new AdamW(lm, { weightDecay: 0 });
  const B = 4, L = 32;
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < steps; step++) {
    const x = new Int32Array(B * L), y = new Int32Array(B * L);
    for (let b = 0; b < B; b++) {
      const o = (step * 13 + b * 29) % (bytes.length - L - 1);
      for (let i = 0; i < L; i++) { x[b * L + i] = bytes[o + i]!; y[b * L + i] = bytes[o + i + 1]!; }
    }
    lm.maybeRedraw(step);
    opt.zeroGrad();
    const loss = lm.loss(x, y, B, L);
    backward(loss);
    clipGradNorm(lm.parameters(), 1);
    opt.step(learningRate(step, { lr: LM_LR, warmup: 5, total: steps }));
    losses.push(loss.item());
  }
  const secs = (performance.now() - t0) / 1000;
  const avg = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
  return { first: avg(losses.slice(0, 3)), last: avg(losses.slice(-3)), tokPerSec: (steps * B * L) / secs };
}

for (const [name, cfg] of [
  ['FAVOR+ (softmax, learned positions, redraw every 10 steps)', { ...base, redrawInterval: 10 }],
  ['FAVOR+ (relu, rotary)', { ...base, featureMap: 'relu', positions: 'rotary' }],
  ['exact attention', { ...base, attention: 'exact' }],
] as [string, PerformerConfig][]) {
  test(`tiny PerformerLM overfits a repeated byte sequence: ${name}`, () => {
    const r = trainLM(cfg, 60);
    console.log(`# ${name}: loss ${r.first.toFixed(3)} → ${r.last.toFixed(3)}, ${r.tokPerSec.toFixed(0)} tokens/s (train step)`);
    assert.ok(r.first > 4.5, `initial loss ${r.first}`);
    assert.ok(r.last < 1.5 && r.last < 0.3 * r.first, `final loss ${r.last}`);
  });
}

test('tiny PerformerEncoder learns masked-LM (recover a token from its unmasked copies)', () => {
  const V = 12, MASK = 11, B = 8, L = 16;
  const enc = new PerformerEncoder({ vocabSize: V, dim: 32, layers: 2, heads: 4, maxLen: L, features: 16, seed: 2 });
  const opt = new AdamW(enc, { weightDecay: 0 });
  const rng = new Rng(5);
  const losses: number[] = [];
  const steps = 60;
  for (let step = 0; step < steps; step++) {
    const x = new Int32Array(B * L), t = new Int32Array(B * L).fill(IGNORE_INDEX);
    for (let b = 0; b < B; b++) {
      const a = rng.uint32() % 10;
      for (let i = 0; i < L; i++) {
        const tok = i % 4 === 3 ? 10 : a; // 'a a a SEP' repeated: a masked token follows from the others
        x[b * L + i] = tok;
        if (rng.uniform() < 0.2) { x[b * L + i] = MASK; t[b * L + i] = tok; }
      }
    }
    opt.zeroGrad();
    const loss = enc.mlmLoss(x, t, B, L);
    backward(loss);
    clipGradNorm(enc.parameters(), 1);
    opt.step(learningRate(step, { lr: 2e-2, warmup: 5, total: steps }));
    losses.push(loss.item());
  }
  const first = (losses[0]! + losses[1]! + losses[2]!) / 3, last = (losses.at(-1)! + losses.at(-2)! + losses.at(-3)!) / 3;
  console.log(`# encoder MLM: loss ${first.toFixed(3)} → ${last.toFixed(3)}`);
  assert.ok(first > 2, `initial ${first}`);
  assert.ok(last < 0.5 * first, `final ${last}`);
});
