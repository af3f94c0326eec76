// Checkpoints: round trip, validation on save and load (every error names the file and tensor),
// detection of mixed sets, and crash safety: injected failures before and during the renames, and
// real SIGKILLs of a child process in the middle of saving.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { writeFileAtomic, type FileData } from '../src/io/atomic-node.js';
import {
  BACKUP_SUFFIX,
  CheckpointError,
  loadCheckpoint,
  MANIFEST_FILE,
  MODEL_FILE,
  OPTIMIZER_FILE,
  readCheckpointManifest,
  saveCheckpoint,
  type CheckpointInput,
} from '../src/io/checkpoint-node.js';
import { readSafetensorsHeaderFile } from '../src/io/safetensors-node.js';
import { ByteTokenizer, tokenizerFromJSON } from '../src/data/tokenizer.js';
import { Rng } from '../src/tensor/rng.js';
import { Tensor } from '../src/tensor/tensor.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'performer-ckpt-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});
function freshDir(): string {
  return join(root, `ck${counter++}`);
}

const CONFIG = { vocabSize: 261, dModel: 8, layers: 1, heads: 2, features: 4 };

function modelShapes(cfg: typeof CONFIG): Map<string, number[]> {
  return new Map([
    ['embed.weight', [cfg.vocabSize, cfg.dModel]],
    ['blocks.0.attn.wq.weight', [cfg.dModel, cfg.dModel]],
    ['blocks.0.attn.wq.bias', [cfg.dModel]],
    ['blocks.0.attn.projection', [cfg.heads, cfg.features, cfg.dModel / cfg.heads]],
    ['blocks.0.ln.gain', [cfg.dModel]],
  ]);
}

/** Weights filled from a seeded RNG (or with `fill`), AdamW moments with m./v. prefixes. */
function makeInput(step: number, opts: { fill?: number; seed?: number; optimizer?: boolean } = {}): CheckpointInput {
  const rng = new Rng(opts.seed ?? step);
  const weights = new Map<string, Tensor>();
  for (const [name, shape] of modelShapes(CONFIG)) {
    const t = new Tensor(shape);
    if (opts.fill !== undefined) t.data.fill(opts.fill);
    else rng.fillNormal(t.data);
    weights.set(name, t);
  }
  const optimizer = new Map<string, Tensor>();
  for (const [name, w] of weights) {
    for (const p of ['m', 'v']) {
      const t = new Tensor(w.shape);
      t.data.fill(opts.fill ?? (p === 'm' ? 0.5 : 0.25));
      optimizer.set(`${p}.${name}`, t);
    }
  }
  const batchRng = new Rng(5, 1);
  batchRng.normal(); // leaves a spare normal in the state
  return {
    config: CONFIG,
    weights,
    ...(opts.optimizer === false ? {} : { optimizer }),
    state: {
      step,
      tokenizer: new ByteTokenizer().toJSON(),
      training: { lr: 3e-4, batchSize: 8, seqLen: 64, seed: 1 },
      rng: { dropout: batchRng.state },
      optimizerScalars: { step, beta1: 0.9, beta2: 0.999 },
      lossHistory: Float32Array.from({ length: step }, (_, i) => 5 - i * 0.01),
    },
  };
}

async function rejectsCk(p: Promise<unknown>, ...patterns: RegExp[]): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof CheckpointError, `expected CheckpointError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    for (const re of patterns) assert.match(e.message, re);
    return true;
  });
}

async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

describe('checkpoint round trip', () => {
  test('weights, optimizer, config and state come back exactly', async () => {
    const dir = freshDir();
    const input = makeInput(12);
    const res = await saveCheckpoint(dir, input);
    assert.equal(res.step, 12);
    assert.deepEqual(res.files, [join(dir, MODEL_FILE), join(dir, OPTIMIZER_FILE), join(dir, MANIFEST_FILE)]);
    assert.deepEqual(await listDir(dir), [MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE]);

    const ck = await loadCheckpoint(dir, { expectedShapes: (cfg) => modelShapes(cfg as typeof CONFIG) });
    assert.equal(ck.step, 12);
    assert.equal(ck.nonce, res.nonce);
    assert.equal(ck.recovered, false);
    assert.deepEqual(ck.config, CONFIG);
    assert.deepEqual([...ck.weights.keys()], [...input.weights.keys()]);
    for (const [k, t] of input.weights) {
      assert.deepEqual(ck.weights.get(k)!.shape, [...t.shape]);
      assert.deepEqual(ck.weights.get(k)!.data, t.data);
    }
    assert.equal(ck.optimizer!.size, 10);
    assert.deepEqual(ck.optimizer!.get('v.embed.weight')!.data, input.optimizer!.get('v.embed.weight')!.data);
    const st = ck.state as Record<string, any>;
    assert.equal(st.step, 12);
    assert.equal(tokenizerFromJSON(st.tokenizer).name, 'byte');
    assert.deepEqual(st.training, { lr: 3e-4, batchSize: 8, seqLen: 64, seed: 1 });
    assert.deepEqual(st.lossHistory, [...(input.state as any).lossHistory], 'typed arrays become plain arrays');
    // RNG state restores the exact sequence, spare normal included.
    const a = new Rng(5, 1);
    a.normal();
    const b = new Rng(5, 1);
    b.state = st.rng.dropout;
    assert.deepEqual([a.normal(), a.normal(), a.uniform()], [b.normal(), b.normal(), b.uniform()]);
  });

  test('each tensor file records the nonce and step; the manifest records sizes, hashes and shapes', async () => {
    const dir = freshDir();
    const res = await saveCheckpoint(dir, makeInput(3));
    for (const f of [MODEL_FILE, OPTIMIZER_FILE]) {
      const h = await readSafetensorsHeaderFile(join(dir, f));
      assert.equal(h.metadata['performer.nonce'], res.nonce);
      assert.equal(h.metadata['performer.step'], '3');
      assert.ok(h.tensors.every((t) => t.dtype === 'F32'));
    }
    const m = await readCheckpointManifest(dir);
    assert.equal(m.format, 'performer-checkpoint');
    assert.equal(m.version, 1);
    assert.equal(m.nonce, res.nonce);
    assert.deepEqual(m.files[MODEL_FILE]!.tensors['blocks.0.attn.projection'], [2, 4, 4]);
    assert.equal(m.files[MODEL_FILE]!.bytes, (await readFile(join(dir, MODEL_FILE))).length);
    assert.match(m.files[MODEL_FILE]!.sha256, /^[0-9a-f]{64}$/);
  });

  test('a new save replaces the old one and leaves no backups or temporaries; optimizer is optional', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1));
    await saveCheckpoint(dir, makeInput(2));
    assert.deepEqual(await listDir(dir), [MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE]);
    assert.equal((await loadCheckpoint(dir)).step, 2);
    await saveCheckpoint(dir, makeInput(3, { optimizer: false }));
    assert.deepEqual(await listDir(dir), [MANIFEST_FILE, MODEL_FILE], 'stale optimizer file removed');
    const ck = await loadCheckpoint(dir);
    assert.equal(ck.step, 3);
    assert.equal(ck.optimizer, undefined);
    const withOpt = freshDir();
    await saveCheckpoint(withOpt, makeInput(5));
    const noOpt = await loadCheckpoint(withOpt, { optimizer: false });
    assert.equal(noOpt.optimizer, undefined, 'optimizer: false skips the optimizer file');
    assert.equal(noOpt.weights.size, 5);
    // Other files in the directory are left alone.
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await saveCheckpoint(dir, makeInput(4));
    assert.ok((await listDir(dir)).includes('notes.txt'));
  });

  test('AdamW-style suffix names (<weight>.m, <weight>.v) and plain {shape, data} tensors are accepted', async () => {
    const dir = freshDir();
    const input = makeInput(1);
    const optimizer = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [n, w] of input.weights) {
      optimizer.set(`${n}.m`, { shape: [...w.shape], data: new Float32Array(w.data.length).fill(1) });
      optimizer.set(`${n}.v`, { shape: [...w.shape], data: new Float32Array(w.data.length).fill(2) });
    }
    await saveCheckpoint(dir, { ...input, optimizer });
    const ck = await loadCheckpoint(dir);
    assert.equal(ck.optimizer!.get('embed.weight.v')!.data[7], 2);
  });
});

describe('checkpoint validation on save', () => {
  test('refuses bad input before touching the directory', async () => {
    const dir = freshDir();
    const base = makeInput(1);
    const nan = makeInput(1);
    nan.weights.get('blocks.0.attn.wq.weight')!.data[9] = NaN;
    await rejectsCk(saveCheckpoint(dir, nan), /model\.safetensors: tensor "blocks\.0\.attn\.wq\.weight": non-finite value NaN at \[1, 1\]; refusing to save/);
    const badOpt = new Map(base.optimizer!);
    badOpt.set('m.nothing', new Tensor([2]));
    await rejectsCk(saveCheckpoint(dir, { ...base, optimizer: badOpt }), /optimizer\.safetensors: tensor "m\.nothing" names no weight/);
    const wrongShape = new Map(base.optimizer!);
    wrongShape.set('m.embed.weight', new Tensor([3, 3]));
    await rejectsCk(saveCheckpoint(dir, { ...base, optimizer: wrongShape }), /tensor "m\.embed\.weight" has shape \[3, 3\], but weight "embed\.weight" has \[261, 8\]/);
    await rejectsCk(saveCheckpoint(dir, { ...base, state: { step: 1, loss: [1, 2, NaN] } }), /state\.loss\[2\] is NaN, which JSON cannot store/);
    await rejectsCk(saveCheckpoint(dir, { ...base, state: { step: 1.5 } }), /state\.step must be a non-negative integer, got 1\.5/);
    await rejectsCk(saveCheckpoint(dir, { ...base, state: { step: 1, f: () => 1 } }), /state\.f is a function/);
    await rejectsCk(saveCheckpoint(dir, { ...base, state: { step: 1, m: new Map() } }), /state\.m is a Map/);
    await rejectsCk(saveCheckpoint(dir, { ...base, weights: new Map() }), /no weights to save/);
    const misfit = new Map(base.weights);
    misfit.set('x', { shape: [2, 2], data: new Float32Array(3) } as unknown as Tensor);
    await rejectsCk(saveCheckpoint(dir, { ...base, weights: misfit, optimizer: undefined }), /tensor "x": shape \[2, 2\] does not fit its 3 values/);
    await assert.rejects(readdir(dir), { code: 'ENOENT' });
    // allowNonFinite saves, and loading then needs allowNonFinite too.
    await saveCheckpoint(dir, nan, { allowNonFinite: true });
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: tensor "blocks\.0\.attn\.wq\.weight": non-finite value NaN at \[1, 1\]/);
    assert.ok(Number.isNaN((await loadCheckpoint(dir, { allowNonFinite: true })).weights.get('blocks.0.attn.wq.weight')!.data[9]));
  });
});

describe('checkpoint validation on load', () => {
  test('missing directory, manifest or tensor file', async () => {
    const dir = freshDir();
    await rejectsCk(loadCheckpoint(dir), /no such checkpoint directory/);
    await mkdir(dir);
    await rejectsCk(loadCheckpoint(dir), /checkpoint\.json: no such file \(not a checkpoint directory/);
    await saveCheckpoint(dir, makeInput(1));
    await unlink(join(dir, OPTIMIZER_FILE));
    await rejectsCk(loadCheckpoint(dir), /optimizer\.safetensors: no such file/);
    assert.equal((await loadCheckpoint(dir, { optimizer: false })).step, 1, 'weights alone still load');
    await unlink(join(dir, MODEL_FILE));
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: no such file/);
  });

  test('truncated or damaged tensor files', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1));
    const model = join(dir, MODEL_FILE);
    const good = await readFile(model);
    await truncate(model, good.length - 100);
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: tensor "[^"]+": data_offsets \[\d+, \d+\] go beyond the data buffer/);
    await truncate(model, 5);
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: file too short \(5 bytes\)/);
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3]! ^= 0x40;
    await writeFile(model, flipped);
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: content differs from the sha256 in checkpoint\.json \(damaged file\)/);
    const bigger = Buffer.concat([good, Buffer.alloc(4)]);
    await writeFile(model, bigger);
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: .*(truncated or has trailing bytes|bytes, but checkpoint\.json records)/);
  });

  test('bad manifests', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1));
    const path = join(dir, MANIFEST_FILE);
    const good = JSON.parse(await readFile(path, 'utf8'));
    const cases: [unknown, RegExp][] = [
      ['{"format": ', /checkpoint\.json: not valid JSON/],
      [[1, 2], /not a JSON object/],
      [{ ...good, format: 'other' }, /"format" is "other", expected "performer-checkpoint"/],
      [{ ...good, version: 9 }, /unsupported version 9/],
      [{ ...good, step: -1 }, /"step" must be a non-negative integer/],
      [{ ...good, files: { ...good.files, 'weird.bin': good.files[MODEL_FILE] } }, /"files" lists unknown file "weird\.bin"/],
      [{ ...good, files: { [OPTIMIZER_FILE]: good.files[OPTIMIZER_FILE] } }, /"files" has no model\.safetensors/],
      [{ ...good, config: null }, /"config" must be an object/],
    ];
    for (const [json, re] of cases) {
      await writeFile(path, typeof json === 'string' ? json : JSON.stringify(json));
      await rejectsCk(loadCheckpoint(dir), re);
    }
  });

  test('shapes against the manifest and against the model config name the file and tensor', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1));
    const expect = (cfg: typeof CONFIG) => modelShapes(cfg);
    await rejectsCk(
      loadCheckpoint(dir, { expectedShapes: expect({ ...CONFIG, dModel: 16 }) }),
      /model\.safetensors: tensor "embed\.weight" has shape \[261, 8\], but the model config says \[261, 16\]/,
    );
    const missing = modelShapes(CONFIG);
    missing.set('blocks.0.ffn.weight', [8, 32]);
    await rejectsCk(loadCheckpoint(dir, { expectedShapes: missing }), /model\.safetensors: tensor "blocks\.0\.ffn\.weight" is missing \(the model config has it with shape \[8, 32\]\)/);
    const fewer = modelShapes(CONFIG);
    fewer.delete('blocks.0.ln.gain');
    await rejectsCk(loadCheckpoint(dir, { expectedShapes: fewer }), /model\.safetensors: tensor "blocks\.0\.ln\.gain" is not in the model config/);
    await rejectsCk(loadCheckpoint(dir, { expectedShapes: () => { throw new Error('no such attention kind'); } }), /checkpoint\.json: the model config is not usable \(no such attention kind\)/);
    // A manifest whose recorded shape disagrees with the file.
    const path = join(dir, MANIFEST_FILE);
    const m = JSON.parse(await readFile(path, 'utf8'));
    m.files[MODEL_FILE].tensors['blocks.0.attn.wq.bias'] = [9];
    await writeFile(path, JSON.stringify(m));
    await rejectsCk(loadCheckpoint(dir), /model\.safetensors: tensor "blocks\.0\.attn\.wq\.bias" has shape \[8\], but checkpoint\.json says \[9\]/);
  });

  test('a tensor file from another save is detected (mixed set)', async () => {
    const a = freshDir(), b = freshDir();
    await saveCheckpoint(a, makeInput(5));
    await saveCheckpoint(b, makeInput(6));
    await copyFile(join(b, OPTIMIZER_FILE), join(a, OPTIMIZER_FILE));
    await rejectsCk(loadCheckpoint(a), /optimizer\.safetensors: is from another save \(step 6, nonce [0-9a-f-]+\), but checkpoint\.json is step 5, nonce [0-9a-f-]+ \(and no matching backup\)/);
  });
});

describe('crash safety', () => {
  /** A writer that renames the first `renames` files into place and then fails, like a kill mid-commit. */
  function crashAfter(renames: number) {
    return async (files: ReadonlyArray<readonly [string, FileData]>): Promise<void> => {
      for (const [path, data] of files.slice(0, renames)) await writeFileAtomic(path, data);
      throw new Error('simulated crash');
    };
  }

  test('a failure while writing the temporaries keeps the old checkpoint', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1, { fill: 1 }));
    await rejectsCk(saveCheckpoint(dir, makeInput(2, { fill: 2 }), { writeFiles: crashAfter(0) }), /saving step 2 failed \(simulated crash\); the previous checkpoint, if any, is kept/);
    const ck = await loadCheckpoint(dir);
    assert.equal(ck.step, 1);
    assert.equal(ck.recovered, false);
    assert.equal(ck.weights.get('embed.weight')!.data[0], 1);
  });

  test('a real rename failure in the middle of the commit: the old weights load from the backup', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1, { fill: 1 }));
    // optimizer.safetensors becomes a non-empty directory: renaming the new file over it fails
    // after model.safetensors was already replaced.
    const blocker = join(dir, OPTIMIZER_FILE);
    await unlink(blocker);
    await mkdir(blocker);
    await writeFile(join(blocker, 'x'), 'x');
    await rejectsCk(saveCheckpoint(dir, makeInput(2, { fill: 2 })), /saving step 2 failed/);
    const ck = await loadCheckpoint(dir, { optimizer: false });
    assert.equal(ck.step, 1);
    assert.equal(ck.recovered, true, 'model.safetensors was already replaced: its backup is used');
    assert.equal(ck.weights.get('embed.weight')!.data[0], 1);
    assert.ok(!(await listDir(dir)).some((n) => n.endsWith('.tmp')), 'no temporaries left');
    await rm(blocker, { recursive: true });
    await saveCheckpoint(dir, makeInput(3, { fill: 3 }));
    assert.equal((await loadCheckpoint(dir)).step, 3);
  });

  for (const renames of [1, 2]) {
    test(`a kill after ${renames} of 3 renames: the old checkpoint loads from the backups`, async () => {
      const dir = freshDir();
      await saveCheckpoint(dir, makeInput(1, { fill: 1 }));
      await assert.rejects(saveCheckpoint(dir, makeInput(2, { fill: 2 }), { writeFiles: crashAfter(renames) }), /simulated crash/);
      assert.ok((await listDir(dir)).includes(MODEL_FILE + BACKUP_SUFFIX));
      const ck = await loadCheckpoint(dir);
      assert.equal(ck.step, 1);
      assert.equal(ck.recovered, true);
      for (const t of [...ck.weights.values(), ...ck.optimizer!.values()]) assert.ok(t.data.every((x) => x === 1));
      // A second interrupted save must not overwrite the good backups with the orphaned new files.
      await assert.rejects(saveCheckpoint(dir, makeInput(3, { fill: 3 }), { writeFiles: crashAfter(renames) }), /simulated crash/);
      const again = await loadCheckpoint(dir);
      assert.equal(again.step, 1);
      assert.equal(again.weights.get('embed.weight')!.data[0], 1);
      // The next complete save wins and cleans up.
      await saveCheckpoint(dir, makeInput(4, { fill: 4 }));
      const done = await loadCheckpoint(dir);
      assert.equal(done.step, 4);
      assert.equal(done.recovered, false);
      assert.deepEqual(await listDir(dir), [MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE]);
    });
  }

  test('a kill after all renames leaves the new checkpoint', async () => {
    const dir = freshDir();
    await saveCheckpoint(dir, makeInput(1, { fill: 1 }));
    await assert.rejects(saveCheckpoint(dir, makeInput(2, { fill: 2 }), { writeFiles: crashAfter(3) }), /simulated crash/);
    const ck = await loadCheckpoint(dir);
    assert.equal(ck.step, 2);
    assert.equal(ck.recovered, false);
  });

  test('SIGKILL of a process in the middle of saving never leaves an unloadable checkpoint', async () => {
    const dir = freshDir();
    const big = { ...CONFIG, vocabSize: 30000, dModel: 32 }; // ~4 MB of weights: saves take a while
    const child = `
      const { saveCheckpoint } = await import(${JSON.stringify(join(repoRoot, 'src/io/checkpoint-node.ts'))});
      const { Tensor } = await import(${JSON.stringify(join(repoRoot, 'src/tensor/tensor.ts'))});
      const shapes = ${JSON.stringify([...modelShapes(big)])};
      for (let step = 1; ; step++) {
        const weights = new Map(shapes.map(([n, s]) => { const t = new Tensor(s); t.data.fill(step); return [n, t]; }));
        const optimizer = new Map([...weights].map(([n, t]) => ['m.' + n, t]));
        if (step === 2) process.stdout.write('saving\\n');
        await saveCheckpoint(process.argv[1], { config: {}, weights, optimizer, state: { step } });
      }`;
    for (let round = 0; round < 4; round++) {
      const proc = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', child, dir], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      proc.stderr.on('data', (d) => (stderr += d));
      await new Promise<void>((res, rej) => {
        proc.stdout.once('data', () => res());
        proc.once('exit', (code) => rej(new Error(`child exited (${code}) before saving: ${stderr}`)));
      });
      await new Promise((r) => setTimeout(r, 20 + 37 * round));
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const ck = await loadCheckpoint(dir);
      assert.ok(ck.step >= 1, `round ${round}: step ${ck.step}`);
      for (const [n, t] of [...ck.weights, ...ck.optimizer!]) assert.ok(t.data.every((x) => x === ck.step), `round ${round}: ${n} belongs to step ${ck.step}`);
    }
    // A later save in this process removes the killed process's temporaries and backups.
    await saveCheckpoint(dir, makeInput(100));
    assert.deepEqual(await listDir(dir), [MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE]);
  });
});
