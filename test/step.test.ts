// The step API (src/nn/step-state.ts): for every layer type and model option, stepping through a
// sequence a few positions at a time gives the rows of the full causal forward.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { noGrad } from '../src/autograd/tape.js';
import { Var } from '../src/autograd/var.js';
import { FEATURE_MAPS, type FeatureMap } from '../src/kernels/backend.js';
import { Block, MultiHeadAttention, PerformerEncoder, PerformerLM, type PerformerConfig } from '../src/nn/index.js';
import { initParameters } from '../src/nn/module.js';
import { randn } from './helpers/data.js';

const D = 16, H = 2, L = 19;
/** Step sizes: single rows (the generation path) and blocks of rows (the prompt path), crossing FAVOR+ chunks of 4. */
const PIECES = [1, 3, 1, 5, 2, 1, 6];

type AttentionKind = { name: string; attention: 'favor' | 'exact'; featureMap?: FeatureMap; rotary: boolean };
const attentionKinds: AttentionKind[] = [];
for (const rotary of [false, true]) {
  for (const featureMap of FEATURE_MAPS) attentionKinds.push({ name: `favor ${featureMap}${rotary ? ', rotary' : ''}`, attention: 'favor', featureMap, rotary });
  attentionKinds.push({ name: `exact${rotary ? ', rotary' : ''}`, attention: 'exact', rotary });
}

/** max |a − b| / max |b|. */
function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(b[i]!));
  }
  return num / den;
}

/** Runs `step` over x [1, L, D] in PIECES, concatenating its outputs. */
function stepThrough(x: Var, step: (piece: Var) => Var): Float32Array {
  const out = new Float32Array(x.size);
  let t = 0;
  for (let i = 0; t < L; i++) {
    const R = Math.min(PIECES[i % PIECES.length]!, L - t);
    const y = step(new Var([1, R, D], x.data.slice(t * D, (t + R) * D)));
    assert.deepEqual(y.shape, [1, R, D]);
    out.set(y.data, t * D);
    t += R;
  }
  return out;
}

/**
 * Attention far from uniform and not drowned by the residual: the default init (std 0.02, less on
 * the output) makes q·k ≈ 0 and attention's share of a block's output tiny, which would hide errors
 * in positions or state.
 */
function sharpen(attn: MultiHeadAttention): void {
  for (const w of [attn.wq.weight, attn.wk.weight, attn.wo.weight]) for (let i = 0; i < w.size; i++) w.data[i] = w.data[i]! * 15;
}

/** Checks step against forward, and that the last row depends on the context (so a lost state would show). */
function checkLayer(name: string, forward: (x: Var) => Var, fresh: () => (piece: Var) => Var): void {
  const x = Var.fromTensor(randn([1, L, D], 7));
  const full = noGrad(() => forward(x).data);
  const stepped = stepThrough(x, fresh());
  const e = relError(stepped, full);
  assert.ok(e <= 1e-4, `${name}: step differs from forward, relative error ${e}`);
  const alone = fresh()(new Var([1, 1, D], x.data.slice((L - 1) * D)));
  assert.ok(relError(alone.data, full.subarray((L - 1) * D)) > 1e-2, `${name}: the last row barely depends on the context`);
}

test('MultiHeadAttention.step equals the causal forward (FAVOR+ every feature map, exact; rotary on and off)', () => {
  for (const k of attentionKinds) {
    const attn = new MultiHeadAttention(D, H, { attention: k.attention, featureMap: k.featureMap, features: 12, chunk: 4, causal: true, rotary: k.rotary, seed: 5 });
    initParameters(attn, 2);
    sharpen(attn);
    attn.eval();
    checkLayer(`attention ${k.name}`, (x) => attn.forward(x), () => {
      const s = attn.startDecoding();
      return (p) => attn.step(p, s);
    });
  }
});

test('MultiHeadAttention.step with local heads equals the causal forward (one or all heads local, FAVOR+ or exact, rotary on and off) in constant memory', () => {
  for (const attention of ['favor', 'exact'] as const) for (const localHeads of [1, 2]) for (const rotary of [false, true]) {
    const attn = new MultiHeadAttention(D, H, { attention, features: 12, chunk: 4, causal: true, rotary, localHeads, localWindow: 3, seed: 5 });
    initParameters(attn, 2);
    sharpen(attn);
    attn.eval();
    checkLayer(`attention ${attention}, ${localHeads} local heads, w=3${rotary ? ', rotary' : ''}`, (x) => attn.forward(x), () => {
      const s = attn.startDecoding();
      return (p) => attn.step(p, s);
    });
  }
  const attn = new MultiHeadAttention(D, H, { causal: true, localHeads: 2, localWindow: 3 }).eval();
  const s = attn.startDecoding();
  const bytes = s.stateBytes;
  for (let t = 0; t < 40; t++) attn.step(new Var([1, 1, D], randn(D, t)), s);
  assert.equal(s.stateBytes, bytes, 'a local-only layer holds the same state after 40 tokens');
});

test('Block.step equals the causal forward (every attention kind, token shift on and off)', () => {
  for (const k of attentionKinds) {
    for (const tokenShift of [false, true]) {
      const cfg: PerformerConfig = {
        vocabSize: 5, dim: D, layers: 1, heads: H, maxLen: L, attention: k.attention, featureMap: k.featureMap, features: 12, chunk: 4,
        positions: k.rotary ? 'rotary' : 'none', tokenShift, dropout: 0.3, seed: 4,
      };
      const block = new Block(cfg, 0, true);
      initParameters(block, 3);
      sharpen(block.attn);
      block.eval(); // eval mode: dropout off, as decoding always is
      checkLayer(`block ${k.name}${tokenShift ? ', token shift' : ''}`, (x) => block.forward(x, {}), () => {
        const s = block.startDecoding();
        return (p) => block.step(p, s);
      });
    }
  }
});

test('PerformerLM.step equals the hidden states of the full forward (positions, token shift, tied and untied heads)', () => {
  const base: PerformerConfig = { vocabSize: 11, dim: D, layers: 2, heads: H, maxLen: L, features: 12, chunk: 4, seed: 6 };
  const kinds: [string, PerformerConfig][] = [
    ['favor softmax, learned', base],
    ['favor relu, rotary, token shift', { ...base, featureMap: 'relu', positions: 'rotary', tokenShift: true }],
    ['favor trig, none, untied', { ...base, featureMap: 'trig', positions: 'none', tiedEmbeddings: false }],
    ['exact, learned, token shift', { ...base, attention: 'exact', tokenShift: true }],
    ['exact, rotary', { ...base, attention: 'exact', positions: 'rotary' }],
    // performer-pytorch's options (src/interop): q/k/v narrower than dim, GEGLU, erf GELU, ScaleNorm or ReZero, segment shift, sinusoidal + rotary.
    ['favor relu, sinusoidal-rotary, head dim 6, GEGLU, ScaleNorm, shift [0, 1]', {
      ...base, featureMap: 'relu', positions: 'sinusoidal-rotary', headDim: 6, qkvBias: false, outBias: false, ffGlu: true, gelu: 'erf', norm: 'scale', tokenShift: [0, 1],
    }],
    ['favor softmax, rotary, local heads [1, 2], w=4', { ...base, positions: 'rotary', localHeads: [1, 2], localWindow: 4 }],
    ['favor softmax, ReZero, head dim 5, untied head with bias', { ...base, norm: 'rezero', headDim: 5, tiedEmbeddings: false, headBias: true }],
  ];
  const ids = Array.from({ length: L }, (_, i) => (i * 7 + 3) % 11);
  for (const [name, cfg] of kinds) {
    const lm = new PerformerLM(cfg).eval();
    for (const b of lm.blocks) { sharpen(b.attn); b.attnGate?.data.fill(0.7); b.ffGate?.data.fill(0.7); }
    const full = noGrad(() => lm.hidden(ids, 1, L).data);
    const s = lm.startDecoding();
    const out = new Float32Array(L * D);
    for (let t = 0, i = 0; t < L; i++) {
      const R = Math.min(PIECES[i % PIECES.length]!, L - t);
      out.set(lm.step(ids.slice(t, t + R), s).data, t * D);
      t += R;
      assert.equal(s.position, t);
    }
    const e = relError(out, full);
    assert.ok(e <= 1e-4, `${name}: relative error ${e}`);
  }
});

test('step refuses what it cannot decode, with clear errors, and keeps its state', () => {
  const enc = new PerformerEncoder({ vocabSize: 5, dim: D, layers: 1, heads: H, maxLen: 8 });
  assert.throws(() => enc.startDecoding(), /bidirectional attention layer cannot decode step by step/);
  const attn = new MultiHeadAttention(D, H, { causal: true });
  const s = attn.startDecoding();
  assert.throws(() => attn.step(new Var([2, 1, D]), s), /attention step takes x \[1, R, D\] \(batch 1\), got \[2, 1, 16\]/);
  assert.equal(s.position, 0);
  const lm = new PerformerLM({ vocabSize: 5, dim: D, layers: 1, heads: H, maxLen: 4 });
  const ls = lm.startDecoding();
  lm.step([1, 2, 3], ls);
  assert.throws(() => lm.step([1, 2], ls), /position 4 is beyond the learned position table \(maxLen 4\)/);
  assert.throws(() => lm.step([5], ls), /token id 5 is out of range \[0, 5\)/);
  assert.throws(() => lm.step([], ls), /at least one token/);
  assert.equal(ls.position, 3);
  assert.equal(lm.step([4], ls).shape[1], 1);
});
