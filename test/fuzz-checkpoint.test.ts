// Fuzzing checkpoint loading (src/io/checkpoint-node.ts, src/train/checkpoint-node.ts) through an in-memory
// file system: a real `performer train` checkpoint whose checkpoint.json is mutated (any value at
// any path replaced, removed, or its bytes damaged), and whose model.safetensors is mutated with
// the manifest's size and sha256 updated to match (so the mutation reaches the safetensors and
// shape checks instead of stopping at the hash). Property: loadTrainedModel + parseTrainingState
// return or throw CheckpointError, nothing else, and never build a model larger than the file holds.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { main } from '../src/cli/main.js';
import { CheckpointError, MANIFEST_FILE, MODEL_FILE } from '../src/io/checkpoint-node.js';
import { nodeFileSystem, useFileSystem, type FileSystem } from '../src/io/fs-node.js';
import { loadTrainedModel, parseTrainingState } from '../src/train/checkpoint-node.js';
import { cases, fuzz, mutated, onlyThrows } from './fuzz-harness.js';

const DIR = '/fuzz/ck';
let tmp: string;
let files: Map<string, Uint8Array>;
let manifest: Record<string, unknown>;

/** A read-only file system holding `content` under DIR. */
function memoryFs(content: ReadonlyMap<string, Uint8Array>): FileSystem {
  const enoent = (p: string): Error => Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT', path: p });
  const get = (p: string): Uint8Array | undefined => (p.startsWith(`${DIR}/`) ? content.get(p.slice(DIR.length + 1)) : undefined);
  return {
    ...nodeFileSystem,
    readFile: async (p) => {
      const b = get(p);
      if (!b) throw enoent(p);
      return b;
    },
    stat: async (p) => {
      if (p === DIR) return { isDirectory: () => true, size: 0, mtimeMs: 0 };
      const b = get(p);
      if (!b) throw enoent(p);
      return { isDirectory: () => false, size: b.length, mtimeMs: 0 };
    },
    readdir: async () => [...content.keys()],
  };
}

async function loadsOrRefuses(content: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const restore = useFileSystem(memoryFs(content));
  try {
    const r = await onlyThrows([CheckpointError], async () => {
      const trained = await loadTrainedModel(DIR, { optimizer: true });
      parseTrainingState(DIR, trained.checkpoint);
      return trained;
    });
    if (r) assert.ok(r.model.parameterCount() <= [...r.checkpoint.weights.values()].reduce((a, t) => a + t.size, 0));
  } finally {
    restore();
  }
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'performer-fuzz-ck-'));
  const text = join(tmp, 'speech.txt');
  await writeFile(text, 'Four score and seven years ago our fathers brought forth on this continent, a new nation. '.repeat(10));
  const out = join(tmp, 'ck');
  const io = { stdout: { write: () => true }, stderr: { write: () => true } };
  const code = await main(['train', '--data', text, '--out', out, '--layers', '1', '--dim', '8', '--heads', '2', '--seq', '8', '--batch', '1',
    '--features', '4', '--warmup', '1', '--schedule-steps', '4', '--steps', '2'], io);
  assert.equal(code, 0);
  files = new Map();
  for (const name of await readdir(out)) files.set(name, new Uint8Array(await readFile(join(out, name))));
  manifest = JSON.parse(new TextDecoder().decode(files.get(MANIFEST_FILE))) as Record<string, unknown>;
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Every path into a JSON value (arrays longer than 4 are sampled at their ends). */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [at];
  if (Array.isArray(v)) {
    const idx = v.length <= 4 ? v.map((_, i) => i) : [0, v.length - 1];
    for (const i of idx) out.push(...paths(v[i], [...at, i]));
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  }
  return out;
}

function setAt(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  if (typeof root !== 'object' || root === null) return root;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (typeof next !== 'object' || next === null) return copy; // an earlier edit removed this path
    node = next as Record<string | number, unknown>;
  }
  if (typeof node !== 'object' || node === null) return copy;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(node)) delete node[last];
  else node[last] = value;
  return copy;
}

const replacement = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 3, arbitrary: fc.constantFrom(0, -1, 1e6, 1e9, 2 ** 31, 2 ** 53, 1e12, 1e308, 0.5, '', 'lm', 'mlm', 'byte', 'amino', 'favor', 'exact', 'rotary', null, [], {}) },
);
const manifestEdit = fc.record({ pick: fc.nat(), value: replacement, remove: fc.boolean() });

const encode = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('fuzz: checkpoint loading', () => {
  test('the unmutated checkpoint loads (the fuzz starts from a valid one)', async () => {
    const restore = useFileSystem(memoryFs(files));
    try {
      const t = await loadTrainedModel(DIR, { optimizer: true });
      assert.equal(t.checkpoint.step, 2);
    } finally {
      restore();
    }
  });

  test('checkpoint.json: values replaced or removed at any path (config, state, files, shapes)', async () => {
    const all = paths(manifest);
    await fuzz('checkpoint-json', fc.array(manifestEdit, { minLength: 1, maxLength: 3 }), async (edits) => {
      let m: unknown = manifest;
      for (const e of edits) m = setAt(m, all[e.pick % all.length]!, e.value, e.remove);
      await loadsOrRefuses(new Map([...files, [MANIFEST_FILE, encode(m)]]));
    }, cases(250));
  });

  test('checkpoint.json: damaged bytes', async () => {
    await fuzz('checkpoint-json-bytes', mutated(fc.constant(files.get(MANIFEST_FILE)!)), async (bytes) => {
      await loadsOrRefuses(new Map([...files, [MANIFEST_FILE, bytes]]));
    }, cases(150));
  });

  test('model.safetensors mutated, with the manifest\'s size and sha256 updated to match', async () => {
    await fuzz('checkpoint-model', mutated(fc.constant(files.get(MODEL_FILE)!)), async (bytes) => {
      const m = structuredClone(manifest) as { files: Record<string, { bytes: number; sha256: string }> };
      m.files[MODEL_FILE]!.bytes = bytes.length;
      m.files[MODEL_FILE]!.sha256 = sha256(bytes);
      await loadsOrRefuses(new Map([...files, [MODEL_FILE, bytes], [MANIFEST_FILE, encode(m)]]));
    }, cases(150));
  });

  test('a config that describes a model far larger than its weights is refused before building it', async () => {
    for (const [k, v] of [['dim', 1_000_000], ['layers', 100_000_000], ['maxLen', 1e12], ['ffMult', 1e6], ['features', 1e9]] as const) {
      const m = structuredClone(manifest) as { config: { model: Record<string, unknown> } };
      m.config.model[k] = v;
      if (k === 'dim') m.config.model.heads = 2;
      if (k === 'maxLen') m.config.model.positions = 'learned';
      const restore = useFileSystem(memoryFs(new Map([...files, [MANIFEST_FILE, encode(m)]])));
      try {
        await assert.rejects(loadTrainedModel(DIR), (e: unknown) => {
          assert.ok(e instanceof CheckpointError, String(e));
          assert.match(e.message, /describes a model of at least \d+ parameters, but model\.safetensors holds \d+ values/);
          return true;
        }, k);
      } finally {
        restore();
      }
    }
  });
});
