// performer-pytorch interop: import (.pt and .safetensors) reproduces its logits in six
// configurations; key layouts, config inference and conflicts; export (the Python round trip's
// recorded result, and exact tensors here); the forward / import / export / generate commands;
// fine-tuning an imported model with train --init-from.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { exportStateDict, importStateDict } from '../src/interop/convert.js';
import { configFromKwargs, kwargsFromConfig, resolveKwargs, type NamedTensor } from '../src/interop/performer-pytorch.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { readTorchStateDict } from '../src/io/torch-pt.js';
import { createDecoder } from '../src/nn/generate.js';
import { PerformerLM } from '../src/nn/models.js';
import { Tensor } from '../src/tensor/tensor.js';
import { Rng } from '../src/tensor/rng.js';
import { loadTrainedModel } from '../src/train/checkpoint-node.js';
import { buildModel } from '../src/train/config.js';
import { runCli as run } from './helpers/cli.js';

const ROOT = 'test/fixtures/performer-pytorch/';
const CONFIGS = ['causal-rotary', 'bidirectional', 'relu', 'glu-scalenorm', 'shift-tied', 'rezero-shift-bidirectional', 'local-causal', 'local-bidirectional'];

function fixture(name: string, format: 'pt' | 'safetensors'): { raw: Map<string, NamedTensor>; config: Record<string, unknown> } {
  const bytes = readFileSync(`${ROOT}${name}/model.${format}`);
  const raw = format === 'pt' ? readTorchStateDict(bytes) : decodeSafetensors(bytes).tensors;
  return { raw, config: JSON.parse(readFileSync(`${ROOT}${name}/config.json`, 'utf8')) as Record<string, unknown> };
}

function io(name: string): { tokens: Tensor; mask: Tensor; logits: Tensor } {
  const t = decodeSafetensors(readFileSync(`${ROOT}${name}/io.safetensors`)).tensors;
  return { tokens: t.get('tokens')!, mask: t.get('key_mask')!, logits: t.get('logits')! };
}

/** max |a − b| / max |b| */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let e = 0, m = 0;
  for (let i = 0; i < b.length; i++) { e = Math.max(e, Math.abs(a[i]! - b[i]!)); m = Math.max(m, Math.abs(b[i]!)); }
  return e / m;
}

function loadModel(name: string, format: 'pt' | 'safetensors'): PerformerLM {
  const { raw, config } = fixture(name, format);
  const imp = importStateDict(raw, config, { numerics: 'performer-pytorch' });
  const model = buildModel(imp.spec) as PerformerLM;
  model.loadStateDict(imp.weights);
  return model.eval();
}

test('import reproduces performer-pytorch logits within 1e-4 (eight configurations, local heads among them; .pt and .safetensors, padded batch)', () => {
  for (const name of CONFIGS) {
    const { tokens, mask, logits } = io(name);
    const [B, L] = tokens.shape as [number, number];
    for (const format of ['pt', 'safetensors'] as const) {
      const model = loadModel(name, format);
      const out = noGrad(() => model.forward(Int32Array.from(tokens.data), B, L, mask.data));
      const err = relErr(out.data, logits.data);
      assert.ok(err < 1e-4, `${name} ${format}: ${err}`);
      // favor numerics are a different estimator (no ε terms, masked keys left out): not the same logits.
      model.setNumerics('favor');
      assert.ok(relErr(noGrad(() => model.forward(Int32Array.from(tokens.data), B, L, mask.data)).data, logits.data) > 1e-3, `${name} favor`);
    }
  }
});

test('key layouts: net. and module. prefixes accepted; the proj_updater duplicates must agree', () => {
  const { raw, config } = fixture('causal-rotary', 'pt');
  const wrapped = new Map([...raw].map(([k, v]) => [`module.net.${k}`, v]));
  const a = importStateDict(raw, config, { numerics: 'favor' }), b = importStateDict(wrapped, config, { numerics: 'favor' });
  assert.deepEqual([...a.weights.keys()], [...b.weights.keys()]);
  assert.equal(a.callsSinceRedraw, 7);
  const key = 'performer.proj_updater.instance.layers.1.0.fn.to_k.weight';
  const t = raw.get(key)!;
  const changed = new Map(raw).set(key, { ...t, data: t.data.map((x, i) => (i === 3 ? x + 1e-6 : x)) });
  assert.throws(() => importStateDict(changed, config, { numerics: 'favor' }), new RegExp(`${key.replace(/\./g, '\\.')} differs from performer\\.net\\.layers\\.1\\.0\\.fn\\.to_k\\.weight`));
  const extra = new Map(raw).set('performer.net.layers.0.0.fn.extra', t);
  assert.throws(() => importStateDict(extra, config, { numerics: 'favor' }), /unexpected tensor performer\.net\.layers\.0\.0\.fn\.extra/);
});

test('config: inferred from the shapes, conflicts named by key, unsupported options refused', () => {
  const { raw, config } = fixture('glu-scalenorm', 'safetensors');
  const kw = resolveKwargs({ causal: true }, raw);
  assert.deepEqual([kw.dim, kw.depth, kw.heads, kw.dim_head, kw.nb_features, kw.ff_mult, kw.ff_glu, kw.use_scalenorm, kw.num_tokens, kw.max_seq_len],
    [16, 2, 2, 12, 20, 2, true, true, 24, 16]);
  assert.throws(() => resolveKwargs({ ...config, dim: 32, heads: 4 }, raw), /dim is 32 in the config, the weights say 16; heads is 4 in the config, the weights say 2/);
  assert.throws(() => resolveKwargs({ ...config, local_attn_heads: 1 }, raw), /layer 0 has 1 local heads in the config, but the weights lack performer\.net\.layers\.0\.0\.fn\.local_attn\.rel_pos\.inv_freq/);
  assert.throws(() => resolveKwargs({ ...config, local_attn_heads: [1, 0, 1] }, raw), /local_attn_heads lists 3 layers, depth is 2/);
  assert.throws(() => resolveKwargs({ ...config, local_attn_heads: 3 }, raw), /local_attn_heads 3 exceeds heads 2/);
  assert.throws(() => resolveKwargs({ ...config, cross_attend: true }, raw), /cross_attend is not supported/);
  assert.throws(() => resolveKwargs({ ...config, axial_position_emb: true }, raw), /axial_position_emb is not supported/);
  assert.throws(() => resolveKwargs({ ...config, dropout_rate: 0.1 }, raw), /unknown PerformerLM argument dropout_rate/);
  assert.throws(() => resolveKwargs({ ...config, causal: 'yes' }, raw), /causal must be true or false/);
  const q = raw.get('performer.net.layers.0.0.fn.to_q.weight')!;
  const odd = new Map(raw).set('performer.net.layers.0.0.fn.to_q.weight', { shape: [18, 16], data: q.data.subarray(0, 18 * 16) });
  assert.throws(() => resolveKwargs(config, odd), /heads would be 1\.5: the weight shapes do not fit together/);
});

test('export writes the same tensors performer-pytorch saved (every key, no duplicates); the Python round trip recorded < 1e-4', () => {
  for (const name of CONFIGS) {
    const { raw, config } = fixture(name, 'safetensors');
    const imp = importStateDict(raw, config, { numerics: 'performer-pytorch' });
    const { tensors, kwargs } = exportStateDict(imp.spec, imp.weights);
    assert.deepEqual([...tensors.keys()].sort(), [...raw.keys()].sort(), name);
    for (const [k, t] of tensors) {
      if (k.endsWith('calls_since_last_redraw')) continue;
      // The fixed sinusoid tables are recomputed (float32 sin/cos may differ from torch's by an ulp).
      if (k.endsWith('pos_emb.emb')) assert.ok(relErr(t.data, raw.get(k)!.data) < 1e-6, `${name} ${k}`);
      else assert.deepEqual(Array.from(t.data), Array.from(raw.get(k)!.data), `${name} ${k}`);
    }
    for (const [k, v] of Object.entries(config)) assert.deepEqual((kwargs as unknown as Record<string, unknown>)[k], v, `${name} ${k}`);
  }
  const rt = JSON.parse(readFileSync(`${ROOT}roundtrip.json`, 'utf8')) as { results: Record<string, { relative_error: number; kwargs_agree: boolean }> };
  // The six imported configurations, and a model trained here (erf GELU, learned positions, token shift).
  assert.deepEqual(Object.keys(rt.results).sort(), [...CONFIGS, 'native-trained'].sort());
  for (const [name, r] of Object.entries(rt.results)) assert.ok(r.relative_error < 1e-4 && r.kwargs_agree, name);
});

test('export refuses models performer-pytorch cannot express, with the reasons', () => {
  const model = { vocabSize: 261, dim: 16, layers: 1, heads: 2, maxLen: 16, positions: 'rotary' as const, featureMap: 'softmax-hyp' as const };
  const spec = { kind: 'lm' as const, model, tokenizer: { type: 'byte' as const, version: 1 as const, vocabSize: 261, special: { pad: 256, unk: 257, bos: 258, eos: 259, mask: 260 } } };
  assert.throws(() => exportStateDict(spec, new Map()), /softmax-hyp feature map.*rotary positions alone.*tanh-approximate GELU/);
  assert.throws(() => exportStateDict({ ...spec, model: { ...model, positions: 'learned', featureMap: 'softmax', gelu: 'erf', tokenShift: [1, 0] } }, new Map()), /token shift segments \[1,0\]/);
  assert.throws(() => exportStateDict({ ...spec, model: { ...model, positions: 'learned', featureMap: 'softmax++', gelu: 'erf' } }, new Map()), /the softmax\+\+ feature map \(performer-pytorch has positive softmax features and ReLU only\)/);
  // Local heads (a number or a list per layer) export as local_attn_heads / local_window_size.
  const local = kwargsFromConfig({ ...model, positions: 'learned', featureMap: 'softmax', gelu: 'erf', localHeads: [1], localWindow: 8 });
  assert.deepEqual([local.refused, local.kwargs!.local_attn_heads, local.kwargs!.local_window_size], [[], [1], 8]);
  // What performer train --gelu erf --positions learned --token-shift builds is expressible.
  const ok = kwargsFromConfig({ ...model, positions: 'learned', featureMap: 'softmax', gelu: 'erf', tokenShift: true, features: 8 });
  assert.deepEqual(ok.refused, []);
  assert.deepEqual([ok.kwargs!.shift_tokens, ok.kwargs!.rotary_position_emb, ok.kwargs!.qkv_bias, ok.kwargs!.tie_embed, ok.kwargs!.dim_head], [true, false, true, true, 8]);
  // Without a feature count the model's default, round(dh·ln dh) = 17 for dh = 8, is what the projection holds.
  const lm = new PerformerLM({ ...model, positions: 'learned', featureMap: 'softmax', gelu: 'erf' });
  assert.equal(exportStateDict({ ...spec, model: lm.cfg }, lm.stateDict()).kwargs.nb_features, 17);
});

test('the recurrent decoder (favor numerics) matches the full forward pass of imported models', () => {
  for (const name of ['causal-rotary', 'relu', 'glu-scalenorm', 'shift-tied', 'local-causal']) {
    const model = loadModel(name, 'pt');
    model.setNumerics('favor');
    const ids = Array.from(io(name).tokens.data.slice(0, 12));
    const full = noGrad(() => model.forward(Int32Array.from(ids), 1, 12)).data;
    const dec = createDecoder(model);
    const V = model.cfg.vocabSize;
    for (let t = 0; t < 12; t++) {
      const step = dec.feed(ids[t]!);
      assert.ok(relErr(step, full.subarray(t * V, (t + 1) * V)) < 1e-4, `${name} position ${t}`);
    }
  }
});

describe('commands', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'performer-interop-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });


  test('import → forward reproduces the logits; export → the same tensors; errors are one line', async () => {
    const ck = join(dir, 'shift-tied');
    let r = await run(['import', '--from', `${ROOT}shift-tied/model.pt`, '--config', `${ROOT}shift-tied/config.json`, '--out', ck]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /performer-pytorch numerics, none tokenizer/);
    const { tokens, mask, logits } = io('shift-tied');
    const inI32 = join(dir, 'in.safetensors');
    await writeFile(inI32, encodeSafetensors({ tokens, key_mask: mask }));
    r = await run(['forward', '--checkpoint', ck, '--in', inI32, '--out', join(dir, 'out.safetensors')]);
    assert.equal(r.code, 0, r.stderr);
    const out = decodeSafetensors(await readFile(join(dir, 'out.safetensors'))).tensors.get('logits')!;
    assert.deepEqual(out.shape, [2, 12, 24]);
    assert.ok(relErr(out.data, logits.data) < 1e-4);
    // The I64 tokens of the fixture itself.
    r = await run(['forward', '--checkpoint', ck, '--in', `${ROOT}shift-tied/io.safetensors`, '--out', join(dir, 'x.safetensors')]);
    assert.match(r.stderr, /unexpected tensor "logits"/);
    const bad = join(dir, 'bad.safetensors');
    await writeFile(bad, encodeSafetensors({ tokens: new Tensor([1, 2], Float32Array.of(3, 24)) }));
    r = await run(['forward', '--checkpoint', ck, '--in', bad, '--out', join(dir, 'y.safetensors')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tokens\[0, 1\] is 24, not an id in \[0, 24\)/);

    const exp = join(dir, 'exp.safetensors');
    r = await run(['export', '--checkpoint', ck, '--to', 'performer-pytorch', '--out', exp]);
    assert.equal(r.code, 0, r.stderr);
    const back = decodeSafetensors(await readFile(exp));
    const orig = decodeSafetensors(readFileSync(`${ROOT}shift-tied/model.safetensors`));
    assert.deepEqual([...back.tensors.keys()].sort(), [...orig.tensors.keys()].sort());
    assert.equal(back.dtypes.get('performer.proj_updater.calls_since_last_redraw'), 'I64');
    assert.equal(back.tensors.get('performer.proj_updater.calls_since_last_redraw')!.data[0], 7);
    assert.deepEqual(JSON.parse(await readFile(join(dir, 'exp.config.json'), 'utf8')).shift_tokens, true);

    r = await run(['import', '--from', `${ROOT}shift-tied/model.pt`, '--config', `${ROOT}shift-tied/config.json`, '--out', ck]);
    assert.match(r.stderr, /already holds a checkpoint/);
    const badJson = join(dir, 'bad.json');
    await writeFile(badJson, '{"dim": 16,');
    r = await run(['import', '--from', `${ROOT}shift-tied/model.pt`, '--config', badJson, '--out', join(dir, 'x')]);
    assert.match(r.stderr, /bad\.json: not JSON/);
    r = await run(['import', '--from', `${ROOT}reader/evil.pt`, '--config', `${ROOT}shift-tied/config.json`, '--out', join(dir, 'evil')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^performer import: error: .*refused global posix\.system/);
    const cut = join(dir, 'cut.pt');
    await writeFile(cut, readFileSync(`${ROOT}shift-tied/model.pt`).subarray(0, 30000));
    r = await run(['import', '--from', cut, '--config', `${ROOT}shift-tied/config.json`, '--out', join(dir, 'cut')]);
    assert.match(r.stderr, /cut\.pt: no zip end-of-central-directory record \(not a zip archive, or truncated\)/);
    const cutSt = join(dir, 'cut.safetensors');
    await writeFile(cutSt, readFileSync(`${ROOT}shift-tied/model.safetensors`).subarray(0, 20000));
    r = await run(['import', '--from', cutSt, '--config', `${ROOT}shift-tied/config.json`, '--out', join(dir, 'cut2')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cut\.safetensors/);
  });

  test('generate an imported model: recurrent favor decoding, said on stderr, ids in and out', async () => {
    const ck = join(dir, 'causal');
    assert.equal((await run(['import', '--from', `${ROOT}causal-rotary/model.safetensors`, '--config', `${ROOT}causal-rotary/config.json`, '--out', ck])).code, 0);
    const r = await run(['generate', '--checkpoint', ck, '--prompt-ids', '3,1,4', '--tokens', '5', '--temperature', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /generation decodes token by token with favor numerics/);
    assert.match(r.stdout, /^3 1 4 (\d+ ){5}\n$/);
    const { model } = await loadTrainedModel(ck);
    assert.ok(model instanceof PerformerLM);
    model.setNumerics('favor');
    const greedy = noGrad(() => model.forward([3, 1, 4], 1, 3)).data.subarray(2 * 24, 3 * 24);
    assert.equal(Number(r.stdout.split(' ')[3]), greedy.indexOf(Math.max(...greedy)));
    assert.match((await run(['generate', '--checkpoint', ck, '--prompt', 'hi'])).stderr, /no tokenizer .* give --prompt-ids/);
  });

  test('train --init-from an imported byte-level model fine-tunes it (same architecture, favor numerics)', async () => {
    // A 256-token performer-pytorch model, written as save_model would (from our own export).
    const kw = resolveKwargs({ causal: true, max_seq_len: 16 }, fixture('glu-scalenorm', 'safetensors').raw);
    const cfg = { ...configFromKwargs({ ...kw, num_tokens: 256 }, 'performer-pytorch'), seed: 3 };
    const tok = { type: 'byte' as const, version: 1 as const, vocabSize: 261, special: { pad: 256, unk: 257, bos: 258, eos: 259, mask: 260 } };
    const src = new PerformerLM(cfg);
    const r0 = new Rng(4);
    for (const [, p] of src.namedParameters()) for (let i = 0; i < p.size; i++) p.data[i] = p.data[i]! + 0.05 * r0.normal();
    const { tensors, kwargs, int64 } = exportStateDict({ kind: 'lm', model: cfg, tokenizer: tok }, src.stateDict());
    const file = join(dir, 'byte.safetensors');
    await writeFile(file, encodeSafetensors(tensors, { format: 'pt' }, int64));
    await writeFile(join(dir, 'byte.json'), JSON.stringify({ causal: true, generalized_attention: false, max_seq_len: kwargs.max_seq_len }));
    const ck = join(dir, 'byte');
    let r = await run(['import', '--from', file, '--config', join(dir, 'byte.json'), '--out', ck]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /byte tokenizer/);
    const text = join(dir, 'text.txt');
    await writeFile(text, 'the quick brown fox jumps over the lazy dog. '.repeat(20));
    r = await run(['eval', '--checkpoint', ck, '--data', text, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const before = JSON.parse(r.stdout).loss as number;
    const out = join(dir, 'tuned');
    r = await run(['train', '--data', text, '--init-from', ck, '--out', out, '--seq', '16', '--batch', '2', '--steps', '30', '--warmup', '2',
      '--schedule-steps', '30', '--lr', '3e-3', '--features', '20', '--dropout', '0', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /training uses favor numerics/);
    const tuned = await loadTrainedModel(out);
    assert.deepEqual([tuned.spec.model.headDim, tuned.spec.model.norm, tuned.spec.model.ffGlu, tuned.spec.model.gelu, tuned.spec.model.positions],
      [12, 'scale', true, 'erf', 'sinusoidal-rotary']);
    r = await run(['eval', '--checkpoint', out, '--data', text, '--json']);
    assert.ok((JSON.parse(r.stdout).loss as number) < before, `loss ${before} → ${r.stdout}`);
  });
});
