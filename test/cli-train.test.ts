// performer train / eval / generate / showcase, run in-process through main(argv, io).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { noGrad } from '../src/autograd/tape.js';
import { formatDuration, ProgressBar } from '../src/cli/progress.js';
import { readCheckpointManifest } from '../src/io/checkpoint-node.js';
import { PerformerLM } from '../src/nn/models.js';
import { loadTrainedModel } from '../src/train/checkpoint-node.js';
import { runCli as run, type CliResult as Result } from './helpers/cli.js';

let dir: string;
let textFile: string;
let shortFile: string;
let fastaFile: string;

const TEXT = 'Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty, ' +
  'and dedicated to the proposition that all men are created equal. Now we are engaged in a great civil war. ';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'performer-cli-train-'));
  textFile = join(dir, 'speech.txt');
  await writeFile(textFile, TEXT.repeat(8));
  shortFile = join(dir, 'short.txt');
  await writeFile(shortFile, 'a new nation, conceived in Liberty.');
  fastaFile = join(dir, 'proteins.fa');
  const seqs = ['MKTAYIAKQRQISFVKSHFSRQ', 'MVLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHF', 'MNIFEMLRIDEGLRLKIYKDTEGYYTIGIGHLLTKSPSLNAAK'];
  await writeFile(fastaFile, Array.from({ length: 24 }, (_, i) => `>p${i} protein ${i}\n${seqs[i % 3]}${seqs[(i + 1) % 3]!.slice(0, 10 + i)}\n`).join(''));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});



/** Flags of a model small enough to train 80 steps in well under a second. */
const TINY = ['--layers', '1', '--dim', '16', '--heads', '2', '--seq', '16', '--batch', '2', '--features', '8', '--redraw', '7', '--warmup', '5', '--schedule-steps', '60', '--lr', '3e-3'];

/** TINY with some flags changed, e.g. tiny({ seq: '64' }). */
function tiny(changes: Record<string, string>): string[] {
  const out = [...TINY];
  for (const [k, v] of Object.entries(changes)) out[out.indexOf(`--${k}`) + 1] = v;
  return out;
}

function jsonLines(s: string): Record<string, unknown>[] {
  return s.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function expectError(r: Result, cmd: string, pattern: RegExp): void {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line: ${r.stderr}`);
  assert.match(lines[0]!, new RegExp(`^performer ${cmd}: error: `));
  assert.match(lines[0]!, pattern);
}

async function weights(ckpt: string): Promise<Map<string, number[]>> {
  const { checkpoint } = await loadTrainedModel(ckpt);
  return new Map([...checkpoint.weights].map(([k, t]) => [k, Array.from(t.data)]));
}

describe('performer train', () => {
  test('--kernel softmax++ --local-heads/--local-window: trains, stores them, resumes bit-exactly (A saved), generates; a resume keeps them', async () => {
    const out = join(dir, 'local-run'), split = join(dir, 'local-split');
    const flags = [...TINY, '--positions', 'rotary', '--kernel', 'softmax++', '--local-heads', '1', '--local-window', '4', '--json'];
    const r = await run(['train', '--data', textFile, '--out', out, ...flags, '--steps', '12']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /softmax\+\+.*local heads 1 \(window 4\)/);
    assert.equal((await run(['train', '--data', textFile, '--out', split, ...flags, '--steps', '6'])).code, 0);
    const resumed = await run(['train', '--resume', '--data', textFile, '--out', split, '--steps', '12', '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual((await readCheckpointManifest(split)).state.losses, (await readCheckpointManifest(out)).state.losses);
    const w = await weights(out);
    assert.deepEqual(await weights(split), w);
    assert.ok(w.get('blocks.0.attn.oprf_a')!.every((a) => a < 0), 'FAVOR++\'s A: a running average of negative A*, saved');
    const m = await readCheckpointManifest(out);
    const model = (m.config as { model: { localHeads: number; localWindow: number } }).model;
    assert.deepEqual([model.localHeads, model.localWindow], [1, 4]);
    const g = await run(['generate', '--checkpoint', out, '--prompt', 'Four score', '--tokens', '20', '--seed', '1']);
    assert.equal(g.code, 0, g.stderr);
    expectError(await run(['train', '--data', textFile, '--out', out, ...TINY, '--positions', 'rotary', '--local-heads', '2', '--local-window', '4', '--steps', '14', '--resume']), 'train', /local-heads/);
    expectError(await run(['train', '--data', textFile, '--out', join(dir, 'local-bad'), ...TINY, '--local-heads', '3']), 'train', /--local-heads 3 exceeds --heads 2/);
  });

  test('--json: one line per evaluation with the documented fields, the last at the final step; checkpoint saved', async () => {
    const out = join(dir, 'json-run');
    const r = await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '20', '--eval-interval', '8', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    assert.deepEqual(lines.map((l) => l.step), [8, 16, 20]);
    for (const l of lines) {
      assert.deepEqual(Object.keys(l), ['step', 'train_loss', 'val_loss', 'val_bits_per_token', 'val_accuracy', 'tokens_per_s']);
      for (const v of Object.values(l)) assert.ok(typeof v === 'number' && Number.isFinite(v));
      assert.ok(Math.abs((l.val_bits_per_token as number) - (l.val_loss as number) / Math.LN2) < 1e-12);
      assert.ok((l.val_accuracy as number) >= 0 && (l.val_accuracy as number) <= 1);
    }
    assert.ok((lines[2]!.train_loss as number) < (lines[0]!.train_loss as number), 'training loss drops');
    assert.doesNotMatch(r.stderr, /\r/, 'no progress bar when stderr is not a terminal');
    const m = await readCheckpointManifest(out);
    assert.equal(m.step, 20);
    assert.deepEqual(Object.keys(m.config).sort(), ['kind', 'model', 'tokenizer']);
    const st = m.state as Record<string, unknown>;
    for (const k of ['training', 'data', 'split', 'runtime', 'optimizer', 'losses', 'evals']) assert.ok(k in st, k);
    assert.equal((st.losses as number[]).length, 20);
    assert.equal((st.training as { scheduleSteps: number }).scheduleSteps, 60);
    assert.ok(existsSync(join(out, 'optimizer.safetensors')));
  });

  test('40 steps, then --resume --steps 80, gives the same losses and weights as 80 steps straight', async () => {
    const straight = join(dir, 'straight'), split = join(dir, 'split');
    assert.equal((await run(['train', '--data', textFile, '--out', straight, ...TINY, '--steps', '80', '--json'])).code, 0);
    const a = await run(['train', '--data', textFile, '--out', split, ...TINY, '--steps', '40', '--json']);
    assert.equal(a.code, 0, a.stderr);
    const b = await run(['train', '--resume', '--data', textFile, '--out', split, '--steps', '80', '--json']);
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stderr, /resuming .* at step 40 of 80/);
    assert.equal(jsonLines(b.stdout).at(-1)!.step, 80);
    const s1 = (await readCheckpointManifest(straight)).state, s2 = (await readCheckpointManifest(split)).state;
    assert.equal((s2.losses as number[]).length, 80);
    assert.deepEqual(s2.losses, s1.losses);
    assert.deepEqual(s2.runtime, s1.runtime);
    assert.deepEqual(await weights(split), await weights(straight));
    // the final evaluation of both is the same number
    assert.deepEqual(jsonLines(b.stdout).at(-1)!.val_loss, (s1.evals as { val_loss: number }[]).at(-1)!.val_loss);
    // already there: nothing to do
    const c = await run(['train', '--resume', '--data', textFile, '--out', split]);
    assert.equal(c.code, 0);
    assert.match(c.stderr, /already at step 80 of 80; nothing to do/);
  });

  test('--resume checks: a different model shape or setting, a different file, no checkpoint, a smaller --steps', async () => {
    const out = join(dir, 'resume-checks');
    assert.equal((await run(['train', '--data', textFile, '--out', out, ...TINY, '--steps', '4'])).code, 0);
    expectError(await run(['train', '--resume', '--data', textFile, '--out', out, '--dim', '32']), 'train', /--dim 32 does not match the run in .* \(dim 16\): the model shape of a resumed run is fixed/);
    expectError(await run(['train', '--resume', '--data', textFile, '--out', out, '--model', 'mlm']), 'train', /--model mlm does not match .* \(model lm\)/);
    expectError(await run(['train', '--resume', '--data', textFile, '--out', out, '--lr', '0.01']), 'train', /--lr 0\.01 does not match .*a resumed run keeps its settings/);
    expectError(await run(['train', '--resume', '--data', shortFile, '--out', out, '--steps', '8']), 'train', /is not the data the run .* was trained on/);
    expectError(await run(['train', '--resume', '--data', textFile, '--out', out, '--steps', '2']), 'train', /--steps 2 is below the step .* \(4\)/);
    expectError(await run(['train', '--resume', '--data', textFile, '--out', join(dir, 'nothing-here')]), 'train', /--resume: there is no checkpoint in/);
    expectError(await run(['train', '--data', textFile, '--out', out, ...TINY]), 'train', /already holds a checkpoint \(step 4\); pass --resume/);
    expectError(await run(['train', '--resume', '--init-from', out, '--data', textFile, '--out', out]), 'train', /cannot be combined/);
    // the same flag values as stored are fine
    const ok = await run(['train', '--resume', '--data', textFile, '--out', out, '--dim', '16', '--lr', '3e-3', '--steps', '5']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  test('--init-from: a FAVOR+ run from an exact-attention checkpoint; another shape is refused', async () => {
    const exact = join(dir, 'exact'), favor = join(dir, 'favor-from-exact');
    assert.equal((await run(['train', '--data', textFile, '--out', exact, ...TINY, '--attention', 'exact', '--steps', '6'])).code, 0);
    const r = await run(['train', '--data', textFile, '--out', favor, ...TINY, '--kernel', 'relu', '--steps', '3', '--init-from', exact, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /weights from /);
    const src = await loadTrainedModel(exact);
    const dst = await loadTrainedModel(favor);
    assert.equal(dst.spec.model.attention, 'favor');
    assert.equal(dst.checkpoint.step, 3);
    assert.equal((dst.checkpoint.state as { initFrom?: string }).initFrom, exact);
    assert.ok(dst.checkpoint.weights.has('blocks.0.attn.projection') && !src.checkpoint.weights.has('blocks.0.attn.projection'));
    expectError(await run(['train', '--data', textFile, '--out', join(dir, 'wide'), ...tiny({ dim: '32' }), '--steps', '2', '--init-from', exact]),
      'train', /--init-from .*: weight "tok.weight" is \[261, 16\], this model needs \[261, 32\]/);
    assert.ok(!existsSync(join(dir, 'wide')), 'no output on failure');
    expectError(await run(['train', '--data', textFile, '--out', join(dir, 'x'), '--init-from', join(dir, 'missing')]), 'train', /no such checkpoint directory/);
  });

  test('--token-shift is part of the model: saved, kept on resume, generated from, and must match --init-from', async () => {
    const out = join(dir, 'shift');
    const r = await run(['train', '--data', textFile, '--out', out, ...TINY, '--token-shift', '--steps', '4', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /token shift/);
    assert.equal((await loadTrainedModel(out)).spec.model.tokenShift, true);
    expectError(await run(['train', '--resume', '--data', textFile, '--out', out, '--steps', '6', '--token-shift=false']), 'train',
      /--token-shift false does not match the run in .* \(token-shift true\): the model shape of a resumed run is fixed/);
    assert.equal((await run(['train', '--resume', '--data', textFile, '--out', out, '--steps', '6'])).code, 0);
    const g = await run(['generate', '--checkpoint', out, '--prompt', 'Four', '--tokens', '5', '--json']);
    assert.equal(g.code, 0, g.stderr);
    expectError(await run(['train', '--data', textFile, '--out', join(dir, 'no-shift'), ...TINY, '--steps', '2', '--init-from', out, '--token-shift=false']),
      'train', /--init-from .*: it was trained with token shift, this run does not use it/);
    assert.ok(!existsSync(join(dir, 'no-shift')), 'no output on failure');
    // left out, the shape flags (token shift included) default to the checkpoint's
    const inherit = join(dir, 'shift-inherited');
    const ri = await run(['train', '--data', textFile, '--out', inherit, '--seq', '16', '--batch', '2', '--features', '8', '--steps', '2', '--attention', 'exact', '--init-from', out]);
    assert.equal(ri.code, 0, ri.stderr);
    const spec = (await loadTrainedModel(inherit)).spec;
    assert.deepEqual([spec.model.layers, spec.model.dim, spec.model.heads, spec.model.tokenShift, spec.model.attention], [1, 16, 2, true, 'exact']);
  });

  test('--model mlm trains a masked-LM encoder; FASTA data gets the amino-acid tokenizer', async () => {
    const out = join(dir, 'mlm-fasta');
    const r = await run(['train', '--data', fastaFile, '--out', out, '--model', 'mlm', ...TINY, '--steps', '6', '--val-fraction', '0.2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /fasta, amino tokenizer/);
    assert.match(r.stderr, /validation: \d+ of 24 records/);
    const m = await readCheckpointManifest(out);
    assert.equal((m.config as { kind: string }).kind, 'mlm');
    assert.equal((m.config as { tokenizer: { type: string } }).tokenizer.type, 'amino');
    const e = await run(['eval', '--checkpoint', out, '--data', fastaFile, '--json']);
    assert.equal(e.code, 0, e.stderr);
    const j = JSON.parse(e.stdout) as { tokens: number; accuracy: number };
    const residues = (await readFile(fastaFile, 'utf8')).split('\n').filter((l) => l && !l.startsWith('>')).join('').length;
    assert.equal(j.tokens, residues, 'every residue predicted once (bos/eos are not maskable)');
    expectError(await run(['generate', '--checkpoint', out, '--prompt', 'MKT']), 'generate', /masked-LM encoder .* cannot generate/);
  });

  test('progress bar on a terminal only: redrawn in place with step, loss, tokens/s, ETA', async () => {
    const r = await run(['train', '--data', textFile, '--out', join(dir, 'tty'), ...TINY, '--steps', '5'], { tty: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\rstep +\d\/5 \[.*\] +\d+% +loss \d\.\d{3} +[\d.]+k? tok\/s/);
    assert.match(r.stderr, /\r\x1b\[K/);
    assert.match(r.stdout, /^step 5\/5 {2}train \d\.\d{4} {2}val \d\.\d{4} nats\/token/m);
  });

  test('usage errors and bad data: one line, exit 2, nothing written', async () => {
    const out = join(dir, 'never');
    expectError(await run(['train', '--data', join(dir, 'missing.txt'), '--out', out]), 'train', /missing\.txt: cannot read \(no such file\)/);
    expectError(await run(['train', '--data', textFile, '--out', out, '--bogus']), 'train', /unknown flag --bogus/);
    expectError(await run(['train', '--data', textFile, '--out', out, '--lr', '-1']), 'train', /--lr: must be positive/);
    expectError(await run(['train', '--data', textFile, '--out', out, '--dim', '30', '--heads', '4']), 'train', /--dim 30 is not divisible by --heads 4/);
    expectError(await run(['train', '--data', textFile, '--out', out, '--steps', 'many']), 'train', /--steps: expected a number/);
    expectError(await run(['train', '--data', textFile]), 'train', /missing required flag --out/);
    expectError(await run(['train', '--data', shortFile, '--out', out, '--seq', '512']), 'train', /fewer than one window/);
    assert.ok(!existsSync(out));
    await writeFile(join(dir, 'empty.txt'), '');
    expectError(await run(['train', '--data', join(dir, 'empty.txt'), '--out', out]), 'train', /file is empty/);
    const h = await run(['train', '--help']);
    assert.equal(h.code, 0);
    for (const flag of ['--data', '--format', '--out', '--model', '--layers', '--dim', '--heads', '--seq', '--batch', '--steps', '--lr', '--attention',
      '--kernel', '--features', '--redraw', '--seed', '--resume', '--init-from', '--json', '--schedule-steps', '--warmup']) {
      assert.match(h.stdout, new RegExp(`^  ${flag}\\b`, 'm'), flag);
    }
  });
});

describe('performer eval', () => {
  test('--json = a direct computation over the whole file (every token once)', async () => {
    const ckpt = join(dir, 'eval-model');
    assert.equal((await run(['train', '--data', textFile, '--out', ckpt, ...tiny({ seq: '64' }), '--steps', '4'])).code, 0);
    const r = await run(['eval', '--checkpoint', ckpt, '--data', shortFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual(Object.keys(j), ['loss', 'bits_per_token', 'accuracy', 'tokens']);
    // shortFile (35 bytes) fits one window of 64: the direct computation is one forward pass
    const ids = Array.from(new TextEncoder().encode('a new nation, conceived in Liberty.'));
    const { model } = await loadTrainedModel(ckpt);
    const lm = model as PerformerLM;
    const n = ids.length - 1;
    const loss = noGrad(() => lm.loss(ids.slice(0, n), ids.slice(1), 1, n)).item();
    assert.equal(j.tokens, n);
    assert.ok(Math.abs(j.loss! - loss) < 1e-5, `${j.loss} vs ${loss}`);
    assert.equal(j.bits_per_token, j.loss! / Math.LN2);
    const logits = noGrad(() => lm.forward(ids.slice(0, n), 1, n)).data;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const row = Array.from(logits.subarray(i * 261, (i + 1) * 261));
      if (row.indexOf(Math.max(...row)) === ids[i + 1]) correct++;
    }
    assert.equal(j.accuracy, correct / n);
    const plain = await run(['eval', '--checkpoint', ckpt, '--data', shortFile]);
    assert.match(plain.stdout, /loss \d\.\d{4} nats\/token \(\d+\.\d{4} bits\/token, \d\.\d{4} bits\/char\), next-token accuracy/);
  });

  test('errors: missing or damaged checkpoint, missing data', async () => {
    expectError(await run(['eval', '--checkpoint', join(dir, 'nope'), '--data', textFile]), 'eval', /no such checkpoint directory/);
    const bad = join(dir, 'bad-ckpt');
    assert.equal((await run(['train', '--data', textFile, '--out', bad, ...TINY, '--steps', '2'])).code, 0);
    const manifest = join(bad, 'checkpoint.json');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"dim": 16', '"dim": 24'));
    expectError(await run(['eval', '--checkpoint', bad, '--data', textFile]), 'eval', /has shape \[261, 16\], but the model config says \[261, 24\]/);
    await writeFile(manifest, '{ not json');
    expectError(await run(['eval', '--checkpoint', bad, '--data', textFile]), 'eval', /checkpoint\.json: not valid JSON/);
    expectError(await run(['eval', '--checkpoint', join(dir, 'json-run'), '--data', join(dir, 'gone.txt')]), 'eval', /gone\.txt: cannot read/);
  });
});

describe('performer generate', () => {
  let ckpt: string;
  before(async () => {
    ckpt = join(dir, 'gen-model');
    assert.equal((await run(['train', '--data', textFile, '--out', ckpt, ...TINY, '--steps', '30'])).code, 0);
  });

  test('--json schema; the same seed gives the same text, another seed another', async () => {
    const args = ['generate', '--checkpoint', ckpt, '--prompt', 'Four score', '--tokens', '40', '--json'];
    const a = await run([...args, '--seed', '1']), b = await run([...args, '--seed', '1']), c = await run([...args, '--seed', '2']);
    for (const r of [a, b, c]) assert.equal(r.code, 0, r.stderr);
    const ja = JSON.parse(a.stdout), jb = JSON.parse(b.stdout), jc = JSON.parse(c.stdout);
    assert.deepEqual(Object.keys(ja), ['text', 'tokens', 'ms_per_token_first', 'ms_per_token_last']);
    assert.equal(ja.tokens, 40);
    assert.equal(typeof ja.text, 'string');
    assert.ok(ja.ms_per_token_first > 0 && ja.ms_per_token_last > 0);
    assert.equal(ja.text, jb.text);
    assert.notEqual(ja.text, jc.text);
    // greedy decoding ignores the seed
    const g1 = await run(['generate', '--checkpoint', ckpt, '--prompt', 'Four', '--tokens', '20', '--temperature', '0', '--json', '--seed', '3']);
    const g2 = await run(['generate', '--checkpoint', ckpt, '--prompt', 'Four', '--tokens', '20', '--temperature', '0', '--json', '--seed', '4']);
    assert.equal(JSON.parse(g1.stdout).text, JSON.parse(g2.stdout).text);
  });

  test('plain output: the prompt and the continuation (= the --json text) on stdout, timings on stderr', async () => {
    const j = JSON.parse((await run(['generate', '--checkpoint', ckpt, '--prompt', 'Now we', '--tokens', '25', '--json'])).stdout);
    const p = await run(['generate', '--checkpoint', ckpt, '--prompt', 'Now we', '--tokens', '25']);
    assert.equal(p.code, 0);
    assert.equal(p.stdout, `Now we${j.text}\n`);
    assert.match(p.stderr, /25 tokens: [\d.]+ ms\/token over the first 3, [\d.]+ ms\/token over the last 3 \(FAVOR\+ recurrent state [\d.]+ KiB, constant\)/);
  });

  test('errors: bad sampling values, learned positions past --seq, bad checkpoint', async () => {
    expectError(await run(['generate', '--checkpoint', ckpt, '--prompt', 'x', '--top-p', '0']), 'generate', /--top-p: must be positive/);
    expectError(await run(['generate', '--checkpoint', ckpt, '--prompt', 'x', '--temperature', '-1']), 'generate', /--temperature: must be at least 0/);
    expectError(await run(['generate', '--checkpoint', ckpt]), 'generate', /missing required flag --prompt/);
    expectError(await run(['generate', '--checkpoint', join(dir, 'nope'), '--prompt', 'x']), 'generate', /no such checkpoint directory/);
    const learned = join(dir, 'learned');
    assert.equal((await run(['train', '--data', textFile, '--out', learned, ...TINY, '--positions', 'learned', '--steps', '2'])).code, 0);
    expectError(await run(['generate', '--checkpoint', learned, '--prompt', 'Four', '--tokens', '20']), 'generate', /learned positions for 16 .*at most 13 tokens/);
    assert.equal((await run(['generate', '--checkpoint', learned, '--prompt', 'Four', '--tokens', '13'])).code, 0);
  });

  test('FASTA model: bos before the prompt, residues out', async () => {
    const out = join(dir, 'fasta-lm');
    assert.equal((await run(['train', '--data', fastaFile, '--out', out, ...TINY, '--steps', '10', '--val-fraction', '0.2'])).code, 0);
    const r = await run(['generate', '--checkpoint', out, '--prompt', 'MKT', '--tokens', '30', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { text: string; tokens: number };
    assert.ok(j.tokens <= 30);
    assert.match(j.text, /^[ACDEFGHIKLMNPQRSTVWYX]*$/);
  });
});

describe('progress bar', () => {
  test('formatting, throttling, and silence without a terminal', () => {
    let s = '', t = 0;
    const sink = { write: (x: string) => { s += x; }, isTTY: true };
    const bar = new ProgressBar(sink, { total: 100, now: () => t, width: 100 });
    t = 1000;
    bar.update(10, { loss: 2.5, tokensPerSec: 1234 });
    assert.match(s, /^\rstep  10\/100 \[█+.*\]  10%  loss 2\.500  1\.2k tok\/s  ETA 9s\x1b\[K$/);
    const n = s.length;
    bar.update(11);
    assert.equal(s.length, n, 'throttled');
    t = 2000;
    bar.update(20);
    assert.ok(s.length > n);
    bar.clear();
    assert.ok(s.endsWith('\r\x1b[K'));
    let quiet = '';
    const off = new ProgressBar({ write: (x: string) => { quiet += x; } }, { total: 10 });
    off.update(5, { loss: 1 }, true);
    off.clear();
    assert.equal(quiet, '');
    assert.equal(formatDuration(75), '1m15s');
    assert.equal(formatDuration(3725), '1h02m');
  });
});

describe('performer showcase', () => {
  test('runs end to end on a few steps: trains, evaluates, generates, leaves a usable checkpoint', async () => {
    const out = join(dir, 'showcase');
    const r = await run(['showcase', '--out', out, '--steps', '3', '--tokens', '30']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /validation \(all [\d.]+k held-out bytes\): loss \d\.\d{4} nats\/byte, \d\.\d{3} bits\/character/);
    assert.match(r.stdout, /the FAVOR\+ recurrent state is [\d.]+ KiB whatever the length/);
    assert.match(r.stdout, /performer generate --checkpoint /);
    assert.equal((await readCheckpointManifest(out)).step, 3);
    const g = await run(['generate', '--checkpoint', out, '--prompt', 'My fellow Americans', '--tokens', '5', '--json']);
    assert.equal(g.code, 0, g.stderr);
  });
});
