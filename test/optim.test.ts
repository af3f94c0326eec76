import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backward, Var } from '../src/autograd/index.js';
import { Module, PerformerLM, type PerformerConfig } from '../src/nn/index.js';
import { AdamW, clipGradNorm, learningRate } from '../src/optim/index.js';

class Two extends Module {
  readonly w: Var; readonly b: Var;
  constructor() {
    super('float64');
    this.w = this.param('w', [2], 'weight', { kind: 'ones' });
    this.b = this.param('b', [1], 'bias', { kind: 'ones' });
  }
}

test('AdamW: one step by hand, decoupled decay on weights only', () => {
  const m = new Two();
  m.w.data.set([1, 2]); m.b.data.set([3]);
  m.w.grad = Float64Array.from([0.5, -1]); m.b.grad = Float64Array.from([2]);
  const opt = new AdamW(m, { lr: 0.1, weightDecay: 0.5, eps: 1e-8 });
  opt.step();
  // t=1: m̂ = g, v̂ = g², update = g/(|g| + eps) ≈ sign(g)
  const upd = (g: number): number => g / (Math.abs(g) + 1e-8);
  assert.ok(Math.abs(m.w.data[0]! - (1 - 0.1 * upd(0.5) - 0.1 * 0.5 * 1)) < 1e-12);
  assert.ok(Math.abs(m.w.data[1]! - (2 - 0.1 * upd(-1) - 0.1 * 0.5 * 2)) < 1e-12);
  assert.ok(Math.abs(m.b.data[0]! - (3 - 0.1 * upd(2))) < 1e-12); // no decay on the bias
  assert.equal(opt.stepCount, 1);
  // second step with the same gradients, by the formulas
  opt.step(0.05);
  const g = 0.5, m2 = 0.9 * 0.1 * g + 0.1 * g, v2 = 0.999 * 0.001 * g * g + 0.001 * g * g;
  const w1 = 1 - 0.1 * upd(0.5) - 0.05;
  const expect = w1 - 0.05 * ((m2 / (1 - 0.81)) / (Math.sqrt(v2 / (1 - 0.999 ** 2)) + 1e-8)) - 0.05 * 0.5 * w1;
  assert.ok(Math.abs(m.w.data[0]! - expect) < 1e-12);
});

test('clipGradNorm scales to the bound and reports the norm before clipping', () => {
  const m = new Two();
  m.w.grad = Float64Array.from([3, 0]); m.b.grad = Float64Array.from([4]);
  assert.equal(clipGradNorm(m.parameters(), 10), 5);
  assert.deepEqual(Array.from(m.w.grad), [3, 0]);
  assert.equal(clipGradNorm(m.parameters(), 1), 5);
  assert.ok(Math.abs(m.w.grad[0]! - 0.6) < 1e-15 && Math.abs(m.b.grad[0]! - 0.8) < 1e-15);
});

test('learning-rate schedule: linear warmup then cosine or constant', () => {
  const o = { lr: 1, warmup: 4, total: 14, minLr: 0.1 };
  assert.equal(learningRate(0, o), 0.25);
  assert.equal(learningRate(3, o), 1);
  assert.equal(learningRate(4, o), 1);
  assert.ok(Math.abs(learningRate(9, o) - 0.55) < 1e-12);
  assert.ok(Math.abs(learningRate(14, o) - 0.1) < 1e-12);
  assert.ok(Math.abs(learningRate(100, o) - 0.1) < 1e-12);
  assert.equal(learningRate(50, { lr: 0.3, warmup: 2, decay: 'constant' }), 0.3);
  assert.throws(() => learningRate(5, { lr: 1 }), /total/);
});

const cfg: PerformerConfig = { vocabSize: 32, dim: 16, layers: 2, heads: 2, maxLen: 16, features: 8, dropout: 0.1, redrawInterval: 2, seed: 3 };
const text = Int32Array.from('abcabcabd abcabcabd abcabcabd ab', (c) => c.charCodeAt(0) % 32);

function runSteps(lm: PerformerLM, opt: AdamW, from: number, to: number): number[] {
  const losses: number[] = [];
  const B = 2, L = 12;
  for (let step = from; step < to; step++) {
    const x = new Int32Array(B * L), y = new Int32Array(B * L);
    for (let b = 0; b < B; b++) for (let i = 0; i < L; i++) {
      const o = (step * 3 + b * 7 + i) % (text.length - 1);
      x[b * L + i] = text[o]!; y[b * L + i] = text[o + 1]!;
    }
    lm.maybeRedraw(step);
    opt.zeroGrad();
    const loss = lm.loss(x, y, B, L);
    backward(loss);
    clipGradNorm(lm.parameters(), 1);
    opt.step(learningRate(step, { lr: 3e-3, warmup: 2, total: 10 }));
    losses.push(loss.item());
  }
  return losses;
}

test('same seed → bit-identical loss curve (dropout, feature redraws, AdamW, clipping)', () => {
  const a = new PerformerLM(cfg), b = new PerformerLM(cfg);
  const la = runSteps(a, new AdamW(a), 0, 5), lb = runSteps(b, new AdamW(b), 0, 5);
  assert.deepEqual(la, lb);
  assert.ok(la.every(Number.isFinite));
});

test('optimiser + model + RNG state export/import resumes the run exactly', () => {
  const a = new PerformerLM(cfg);
  const oa = new AdamW(a);
  const full = runSteps(a, oa, 0, 6);
  const b = new PerformerLM(cfg);
  const ob = new AdamW(b);
  runSteps(b, ob, 0, 3);
  // checkpoint after 3 steps → fresh objects (same config; the loaded state must matter)
  const c = new PerformerLM(cfg);
  for (const p of c.parameters()) p.data.fill(0.5);
  c.loadStateDict(b.stateDict());
  c.importRuntimeState(JSON.parse(JSON.stringify(b.exportRuntimeState())));
  const oc = new AdamW(c);
  oc.importState(ob.exportState());
  assert.equal(oc.stepCount, 3);
  assert.deepEqual(runSteps(c, oc, 3, 6), full.slice(3));
  const st = ob.exportState();
  st.tensors.delete('tok.weight.m');
  assert.throws(() => new AdamW(c).importState(st), /tok.weight.m/);
});
