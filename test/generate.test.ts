// Incremental decoding (FAVOR+ recurrent state / exact KV cache), sampling and generate().
// Core check: feeding tokens one at a time gives the full causal forward's logits at every position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad, tapeLength } from '../src/autograd/index.js';
import { PerformerLM, type PerformerConfig } from '../src/nn/index.js';
import { createDecoder, generate, timingSummary, type Decoder } from '../src/nn/generate.js';
import { argmax, sample, samplingDistribution, validateSampling, type SamplingOptions } from '../src/nn/sampling.js';
import { Rng } from '../src/tensor/rng.js';

const base: PerformerConfig = { vocabSize: 13, dim: 16, layers: 2, heads: 2, maxLen: 40, features: 12, chunk: 4, seed: 3 };

function ids(n: number, V: number, seed: number): number[] {
  const r = new Rng(seed, 77);
  return Array.from({ length: n }, () => r.uint32() % V);
}

/**
 * An eval-mode model whose attention is far from uniform: the default init (std 0.02) makes q·k ≈ 0,
 * which would hide errors in positions or in the attention state, so q and k weights are scaled up.
 */
function model(cfg: PerformerConfig, qkScale = 15): PerformerLM {
  const lm = new PerformerLM(cfg).eval();
  for (const b of lm.blocks) {
    for (const w of [b.attn.wq.weight, b.attn.wk.weight]) for (let i = 0; i < w.size; i++) w.data[i] = w.data[i]! * qkScale;
  }
  return lm;
}

/** Full causal forward: logits [L, V]. */
function fullLogits(lm: PerformerLM, x: number[]): Float32Array {
  return noGrad(() => lm.forward(x, 1, x.length).data) as Float32Array;
}

/** max |a − b| / max |b| over one row. */
function rowError(a: ArrayLike<number>, b: ArrayLike<number>, off = 0): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[off + i]!));
    den = Math.max(den, Math.abs(b[off + i]!));
  }
  return num / den;
}

const configs: [string, PerformerConfig][] = [
  ['favor softmax, learned', { ...base }],
  ['favor softmax, rotary', { ...base, positions: 'rotary' }],
  ['favor relu, learned', { ...base, featureMap: 'relu' }],
  ['favor relu, rotary', { ...base, featureMap: 'relu', positions: 'rotary' }],
  ['favor softmax-hyp, learned', { ...base, featureMap: 'softmax-hyp' }],
  ['favor softmax-hyp, rotary, untied head, 3 layers', { ...base, featureMap: 'softmax-hyp', positions: 'rotary', tiedEmbeddings: false, layers: 3 }],
  ['favor softmax, no positions, chunk 64', { ...base, positions: 'none', chunk: 64 }],
  ['exact, learned', { ...base, attention: 'exact' }],
  ['exact, rotary', { ...base, attention: 'exact', positions: 'rotary' }],
  ['favor softmax, rotary, token shift', { ...base, positions: 'rotary', tokenShift: true }],
  ['exact, learned, token shift, odd dim', { ...base, attention: 'exact', tokenShift: true, dim: 18, heads: 3 }],
];

test('feeding one token at a time equals the full causal forward at every position', () => {
  const L = 23; // several chunks of 4, and a partial last one
  for (const [name, cfg] of configs) {
    const lm = model(cfg);
    const x = ids(L, cfg.vocabSize, 11);
    const full = fullLogits(lm, x);
    const V = cfg.vocabSize;
    const dec = createDecoder(lm);
    let worst = 0;
    for (let i = 0; i < L; i++) {
      const logits = dec.feed(x[i]!);
      assert.ok(logits instanceof Float32Array && logits.length === V);
      assert.equal(dec.length, i + 1);
      const e = rowError(logits, full, i * V);
      worst = Math.max(worst, e);
      assert.ok(e <= 1e-4, `${name}: position ${i} relative error ${e}`);
    }
    // the logits really depend on the context (not a trivially position-free model)
    assert.ok(rowError(full.subarray(0, V), full, (L - 1) * V) > 1e-2, `${name}: logits barely change along the sequence`);
    // a prompt fed at once, then one more token, gives the same logits
    const dec2 = createDecoder(lm);
    const a = dec2.feedMany(x.slice(0, L - 1));
    assert.ok(rowError(a, full, (L - 2) * V) <= 1e-4, `${name}: feedMany`);
    assert.ok(rowError(dec2.feed(x[L - 1]!), full, (L - 1) * V) <= 1e-4, `${name}: feed after feedMany`);
    assert.equal(dec2.length, L);
  }
});

test('float64 models decode too (float32 logits; the FAVOR+ state uses a float32 copy of W)', () => {
  for (const attention of ['favor', 'exact'] as const) {
    const lm = model({ ...base, attention, positions: 'rotary', dtype: 'float64' });
    const x = ids(9, 13, 12);
    const full = noGrad(() => lm.forward(x, 1, x.length).data);
    const dec = createDecoder(lm);
    x.forEach((t, i) => {
      const l = dec.feed(t);
      assert.ok(l instanceof Float32Array);
      assert.ok(rowError(l, full, i * 13) <= 1e-4, `${attention}: position ${i}`);
    });
  }
});

test('decoding records nothing on the autograd tape, even with gradients enabled', () => {
  const lm = model(base);
  const before = tapeLength();
  const dec = createDecoder(lm);
  for (const t of ids(5, 13, 1)) dec.feed(t);
  assert.equal(tapeLength(), before);
});

test('learned positions: a clear error past maxLen (state unchanged); rotary and none have no limit', () => {
  const lm = model({ ...base, maxLen: 8 });
  const dec = createDecoder(lm);
  dec.feedMany([1, 2, 3, 4, 5, 6, 7, 8]);
  assert.throws(() => dec.feed(1), /position 8 is beyond the learned position table \(maxLen 8\)/);
  assert.equal(dec.length, 8);
  assert.throws(() => createDecoder(lm).feedMany(ids(9, 13, 2)), /maxLen 8/);
  assert.throws(() => generate(lm, [1, 2, 3], { tokens: 7 }), /needs 9 positions.*maxLen = 8/);
  assert.equal(generate(lm, [1, 2, 3], { tokens: 6 }).ids.length, 6);
  for (const positions of ['rotary', 'none'] as const) {
    const d = createDecoder(model({ ...base, maxLen: 8, positions }));
    for (const t of ids(20, 13, 3)) d.feed(t);
    assert.equal(d.length, 20);
  }
  assert.throws(() => dec.feed(13), /token id 13 is out of range \[0, 13\)/);
  assert.throws(() => createDecoder(lm).feed(-1), /out of range/);
  assert.throws(() => createDecoder(lm).feedMany([]), /at least one token/);
});

test('constant memory: FAVOR+ state bytes do not grow with the context; the exact KV cache does', () => {
  const cfg: PerformerConfig = { ...base, positions: 'rotary', maxLen: 8 };
  const seq = ids(200, 13, 4);
  const bytesAt = (dec: Decoder): number[] => {
    const out: number[] = [];
    for (let i = 0; i < seq.length; i++) {
      dec.feed(seq[i]!);
      if (i + 1 === 10 || i + 1 === 200) out.push(dec.stateBytes);
    }
    return out;
  };
  const [f10, f200] = bytesAt(createDecoder(model(cfg)));
  assert.equal(f10, f200);
  // 2 layers × 2 heads × (S [m, dh] + z [m] + M) in float64
  assert.equal(f10, 2 * 2 * (12 * 8 + 12 + 1) * 8);
  const [e10, e200] = bytesAt(createDecoder(model({ ...cfg, attention: 'exact' })));
  assert.ok(e200! > e10!, `exact: ${e10} → ${e200}`);
  assert.ok(e200! >= 200 * 2 * 2 * 16 * 4); // K and V, 2 layers, 200 positions × 16 floats
});

test('reset forgets the context; a redrawn projection is refused until reset', () => {
  for (const attention of ['favor', 'exact'] as const) {
    const lm = model({ ...base, attention });
    const x = ids(6, 13, 5);
    const dec = createDecoder(lm);
    const first = x.map((t) => dec.feed(t));
    dec.reset();
    assert.equal(dec.length, 0);
    x.forEach((t, i) => assert.deepEqual(dec.feed(t), first[i]));
  }
  const lm = model(base);
  const dec = createDecoder(lm);
  dec.feed(1);
  lm.blocks[1]!.attn.redraw(1);
  assert.throws(() => dec.feed(2), /projection was redrawn.*reset\(\)/);
  assert.equal(dec.length, 1);
  dec.reset();
  const x = ids(7, 13, 6);
  const full = fullLogits(lm, x);
  x.forEach((t, i) => assert.ok(rowError(dec.feed(t), full, i * 13) <= 1e-4));
});

// ---------------------------------------------------------------------------------------------
// sampling

/** Independent reference of the sampling distribution: softmax(z/T), top-k, then top-p. */
function reference(z: number[], T: number, k: number, p: number): number[] {
  const mx = Math.max(...z);
  const w = z.map((v) => Math.exp((v - mx) / T));
  const order = z.map((_, i) => i).sort((a, b) => w[b]! - w[a]! || a - b).slice(0, k);
  const topMass = order.reduce((s, i) => s + w[i]!, 0);
  const keep: number[] = [];
  let cum = 0;
  for (const i of order) {
    keep.push(i);
    cum += w[i]! / topMass;
    if (cum >= p) break;
  }
  const mass = keep.reduce((s, i) => s + w[i]!, 0);
  return z.map((_, i) => (keep.includes(i) ? w[i]! / mass : 0));
}

test('sampling options are validated with clear errors', () => {
  const z = [0, 1, 2];
  const rng = new Rng(1);
  for (const t of [-0.5, NaN, Infinity]) assert.throws(() => sample(z, { temperature: t }, rng), /temperature must be a finite number >= 0/);
  for (const k of [0, -1, 1.5, NaN]) assert.throws(() => sample(z, { topK: k }, rng), /topK must be an integer >= 1/);
  for (const p of [0, -0.1, 1.01, NaN]) assert.throws(() => sample(z, { topP: p }, rng), /topP must be in \(0, 1\]/);
  assert.throws(() => validateSampling({ temperature: 0, topK: 0 }), /topK/);
  assert.throws(() => sample([], {}, rng), /empty/);
  assert.throws(() => sample([0, NaN], {}, rng), /logit 1 is NaN/);
  assert.throws(() => sample([-Infinity, -Infinity], {}, rng), /every logit is -Infinity/);
  assert.throws(() => generate(model(base), [1], { tokens: 2, temperature: -1 }), /temperature/);
  assert.throws(() => generate(model(base), [1], { tokens: 1.5 }), /tokens must be an integer >= 0/);
  assert.throws(() => generate(model(base), [], { tokens: 1 }), /at least one token/);
  assert.throws(() => generate(model(base), [99], { tokens: 1 }), /out of range/);
  assert.doesNotThrow(() => validateSampling({ temperature: 0, topK: 1, topP: 1 }));
});

test('temperature 0 is greedy argmax (lowest id on ties); -Infinity logits are never drawn', () => {
  const rng = new Rng(2);
  const state = JSON.stringify(rng.state);
  for (let s = 0; s < 50; s++) {
    const r = new Rng(s, 1);
    const z = Array.from({ length: 17 }, () => r.normal());
    let best = 0;
    for (let i = 1; i < z.length; i++) if (z[i]! > z[best]!) best = i;
    assert.equal(sample(z, { temperature: 0, topK: 3, topP: 0.5 }, rng), best);
    assert.equal(argmax(z), best);
  }
  assert.equal(JSON.stringify(rng.state), state); // greedy draws nothing
  assert.equal(argmax([1, 3, 3, 2]), 1);
  const z = [0, -Infinity, 0.5, -Infinity];
  for (let i = 0; i < 500; i++) assert.ok([0, 2].includes(sample(z, { temperature: 2 }, rng)));
});

test('top-k never samples outside the k largest; top-p never outside the nucleus', () => {
  const rng = new Rng(3);
  const r = new Rng(30);
  for (let trial = 0; trial < 10; trial++) {
    const z = Array.from({ length: 20 }, () => 2 * r.normal());
    const sorted = z.map((_, i) => i).sort((a, b) => z[b]! - z[a]! || a - b);
    const k = 1 + (trial % 6);
    const topK = new Set(sorted.slice(0, k));
    for (let i = 0; i < 400; i++) assert.ok(topK.has(sample(z, { topK: k, temperature: 1.5 }, rng)));
    const p = [0.3, 0.5, 0.8, 0.95, 1][trial % 5]!;
    const probs = reference(z, 1, 20, 1);
    const nucleus = new Set<number>();
    let cum = 0;
    for (const i of sorted) { nucleus.add(i); cum += probs[i]!; if (cum >= p) break; }
    for (let i = 0; i < 400; i++) assert.ok(nucleus.has(sample(z, { topP: p }, rng)), `p=${p}`);
    // top-k = 1 is greedy
    assert.equal(sample(z, { topK: 1 }, rng), sorted[0]);
  }
});

test('sampling frequencies match the renormalised distribution (chi-square)', () => {
  const z = [1.2, -0.3, 0.8, 2.0, 0.1, -1.5, 0.9];
  const cases: [SamplingOptions, number, number, number][] = [
    [{}, 1, 7, 1],
    [{ temperature: 0.7 }, 0.7, 7, 1],
    [{ temperature: 1.3, topK: 4 }, 1.3, 4, 1],
    [{ topP: 0.8 }, 1, 7, 0.8],
    [{ temperature: 2, topK: 5, topP: 0.7 }, 2, 5, 0.7],
  ];
  for (const [opts, T, k, p] of cases) {
    const ref = reference(z, T, k, p);
    const dist = samplingDistribution(z, opts);
    ref.forEach((q, i) => assert.ok(Math.abs(dist[i]! - q) < 1e-12, `${JSON.stringify(opts)}: p[${i}] ${dist[i]} vs ${q}`));
    const N = 20000;
    const counts = new Array<number>(z.length).fill(0);
    const rng = new Rng(42);
    for (let i = 0; i < N; i++) counts[sample(z, opts, rng)]!++;
    let chi2 = 0, df = -1;
    ref.forEach((q, i) => {
      if (q === 0) { assert.equal(counts[i], 0); return; }
      chi2 += (counts[i]! - N * q) ** 2 / (N * q);
      df++;
    });
    // 99.9% quantiles of χ² for df = 1..6
    const crit = [10.83, 13.82, 16.27, 18.47, 20.52, 22.46][df - 1] ?? 30;
    assert.ok(chi2 < crit, `${JSON.stringify(opts)}: χ² = ${chi2.toFixed(2)} with ${df} df`);
  }
});

// ---------------------------------------------------------------------------------------------
// generate

test('generate: the same seed gives the same tokens; greedy follows the full forward argmax', () => {
  const lm = model({ ...base, positions: 'rotary' });
  const prompt = [3, 1, 4];
  const opts = { tokens: 25, temperature: 1, topK: 8, topP: 0.95 };
  const a = generate(lm, prompt, { ...opts, seed: 7 });
  const b = generate(lm, prompt, { ...opts, seed: 7 });
  const c = generate(lm, prompt, { ...opts, seed: 8 });
  assert.deepEqual(a.ids, b.ids);
  assert.notDeepEqual(a.ids, c.ids);
  assert.equal(a.ids.length, 25);
  assert.ok(a.ids.every((t) => Number.isInteger(t) && t >= 0 && t < 13));
  // greedy generation = repeatedly taking the argmax of the full forward's last logits
  const g = generate(lm, prompt, { tokens: 12, temperature: 0 });
  const seq = [...prompt];
  for (let i = 0; i < 12; i++) {
    const full = fullLogits(lm, seq);
    seq.push(argmax(full.subarray((seq.length - 1) * 13)));
  }
  assert.deepEqual(g.ids, seq.slice(prompt.length));
});

test('generate: per-token timings, onToken and early stop, timing summary', () => {
  const lm = model(base);
  const seen: number[] = [];
  const r = generate(lm, [1], { tokens: 10, seed: 1, onToken: (id, i) => { seen.push(id); assert.equal(i, seen.length - 1); } });
  assert.deepEqual(seen, r.ids);
  assert.equal(r.msPerToken.length, 10);
  assert.ok(r.msPerToken.every((t) => t >= 0 && Number.isFinite(t)) && r.promptMs >= 0);
  const stopped = generate(lm, [1, 2], { tokens: 10, seed: 1, onToken: (_, i) => i < 3 });
  assert.equal(stopped.ids.length, 4);
  assert.equal(stopped.msPerToken.length, 4);
  assert.deepEqual(generate(lm, [1, 2], { tokens: 0 }).ids, []);
  const s = timingSummary([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
  assert.deepEqual(s, { count: 2, first: 1.5, last: 19.5, mean: 10.5 });
  assert.deepEqual(timingSummary([4, 6]), { count: 1, first: 4, last: 6, mean: 5 });
  assert.throws(() => timingSummary([1], 0), /fraction/);
});
