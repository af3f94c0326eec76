// Training checkpoints (Node). A checkpoint is a directory holding
//
//   model.safetensors      the weights (F32), e.g. "blocks.0.attn.wq.weight", buffers such as the
//                          FAVOR projection too
//   optimizer.safetensors  optional: optimiser tensors (AdamW moments), each named after a weight
//                          with a prefix or suffix segment ("m.<weight>", "<weight>.v", ...) and
//                          shaped like that weight
//   checkpoint.json        the manifest: format/version, a random nonce and the step of this save,
//                          for each tensor file its byte size, sha256 and tensor shapes; the model
//                          config and the caller's state (tokenizer JSON, training config, RNG
//                          states, optimiser scalars, loss history, ...)
//
// Each safetensors file records the save's nonce and step in its __metadata__, so a loader can tell
// which files belong together.
//
// Saving is crash-safe. All files are written to fsynced temporaries first (writeFilesAtomic); only
// then are they renamed into place, checkpoint.json last. Before that, the tensor files the current
// checkpoint.json refers to are hard-linked (or copied) to "<file>.prev". A kill at any point thus
// leaves either the old checkpoint.json with its files (in place, or as .prev where a new file was
// already renamed over it) or the complete new set. loadCheckpoint picks, for each file, the
// version whose nonce matches checkpoint.json (reporting `recovered: true` when it used a .prev),
// and fails with a clear message when none does. A finished save removes the .prev files.
//
// A reader may run while another process saves (performer eval during performer train): it reads
// the manifest, then each tensor file (an open file keeps its content when a rename replaces its
// name). If a file does not match the manifest it read, and checkpoint.json has meanwhile changed
// nonce, the save moved on under the reader: it starts again from the new manifest (a few times),
// so it returns one consistent save, old or new, never a mix.
//
// Loading validates everything, each failure a CheckpointError naming the file and, where there is
// one, the tensor: missing files, bad JSON, a file from another save, size or sha256 differing from
// the manifest (truncated or damaged), safetensors errors, tensors missing, extra or of the wrong
// shape compared with the manifest and with the shapes the caller's model config implies,
// optimiser tensors that match no weight, and NaN/Infinity.

import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { writeFilesAtomic, type FileData } from './atomic-node.js';
import { describeSystemError, errnoCode as errCode, FileError } from './file-error-node.js';
import { fileSystem } from './fs-node.js';
import {
  decodeSafetensors,
  describeNonFinite,
  encodeSafetensors,
  firstNonFinite,
  parseSafetensorsHeader,
  SafetensorsError,
} from './safetensors.js';
import { readSafetensorsHeaderFile } from './safetensors-node.js';
import { Tensor } from '../tensor/tensor.js';
import { formatShape } from '../tensor/shape.js';
import {
  BACKUP_SUFFIX, checkAgainst, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, MANIFEST_FILE, META_NONCE, META_ROLE, META_STEP,
  MODEL_FILE, OPTIMIZER_FILE, parseManifest, sameShape, TENSOR_FILES, type CheckpointManifest, type FileEntry, type JsonObject,
  type JsonValue, type ShapeMap, type TensorFile,
} from './checkpoint-manifest.js';

export {
  BACKUP_SUFFIX, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, MANIFEST_FILE, MODEL_FILE, OPTIMIZER_FILE,
  type CheckpointManifest, type FileEntry, type JsonObject, type JsonValue, type ShapeMap,
} from './checkpoint-manifest.js';

/** A Tensor, or anything with a shape and float32 data (e.g. AdamW.exportState() entries). */
export interface TensorLike {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface CheckpointInput {
  /** Model config (JSON). */
  config: object;
  weights: ReadonlyMap<string, TensorLike>;
  optimizer?: ReadonlyMap<string, TensorLike>;
  /**
   * Everything else (JSON): tokenizer JSON, training config, `step` (a non-negative integer; 0 when
   * absent), RNG states, optimiser scalars, loss history. Typed arrays are stored as plain arrays.
   */
  state: object;
}

export interface SaveOptions {
  /** Save NaN/Infinity weights instead of refusing (refusing keeps a good checkpoint from being replaced by a diverged one). */
  allowNonFinite?: boolean;
  /** Replaces writeFilesAtomic (tests use it to simulate failures). */
  writeFiles?: (files: ReadonlyArray<readonly [string, FileData]>) => Promise<void>;
}

export interface SaveResult {
  dir: string;
  step: number;
  nonce: string;
  /** Paths written, manifest last. */
  files: string[];
}

export interface LoadOptions {
  /** The weight shapes the model needs, or a function of the stored config that gives them. */
  expectedShapes?: ShapeMap | ((config: JsonObject, weights: ReadonlyMap<string, Tensor>) => ShapeMap);
  /** Load optimizer.safetensors when the checkpoint has one (default true). */
  optimizer?: boolean;
  /** Accept NaN/Infinity in tensors (default false: rejected, naming the tensor and index). */
  allowNonFinite?: boolean;
}

export interface LoadedCheckpoint {
  dir: string;
  config: JsonObject;
  state: JsonObject;
  step: number;
  nonce: string;
  savedAt: string;
  weights: Map<string, Tensor>;
  /** Present when the checkpoint has an optimizer file and options.optimizer is not false. */
  optimizer?: Map<string, Tensor>;
  /** True when some file was taken from its .prev backup (the last save was interrupted). */
  recovered: boolean;
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

/** JSON-safe deep copy; throws naming the path of the first value JSON cannot hold faithfully. */
function toJson(value: unknown, path: string): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CheckpointError(`${path} is ${value}, which JSON cannot store`);
    return value;
  }
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number | bigint>, Number);
    return arr.map((v, i) => toJson(v, `${path}[${i}]`));
  }
  if (Array.isArray(value)) return value.map((v, i) => toJson(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') return toJson(toJSON.call(value), path);
      throw new CheckpointError(`${path} is a ${proto?.constructor?.name ?? 'non-plain object'}, which JSON cannot store`);
    }
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) continue;
      out[k] = toJson(v, `${path}.${k}`);
    }
    return out;
  }
  throw new CheckpointError(`${path} is ${typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, which JSON cannot store`);
}

/** The weight an optimiser tensor belongs to: "<seg>.<weight>" or "<weight>.<seg>". */
function weightOf(name: string, weights: ReadonlyMap<string, { shape: readonly number[] }>): string | undefined {
  const dot = name.indexOf('.');
  if (dot > 0 && weights.has(name.slice(dot + 1))) return name.slice(dot + 1);
  const last = name.lastIndexOf('.');
  if (last > 0 && weights.has(name.slice(0, last))) return name.slice(0, last);
  return undefined;
}

function checkOptimizerNames(
  file: string,
  optimizer: ReadonlyMap<string, { shape: readonly number[] }>,
  weights: ReadonlyMap<string, { shape: readonly number[] }>,
): void {
  for (const [name, t] of optimizer) {
    const w = weightOf(name, weights);
    if (w === undefined) {
      throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)} names no weight (expected "<prefix>.<weight>" or "<weight>.<suffix>")`);
    }
    const ws = weights.get(w)!.shape;
    if (!sameShape(t.shape, ws)) {
      throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)} has shape ${formatShape(t.shape)}, but weight ${JSON.stringify(w)} has ${formatShape(ws)}`);
    }
  }
}

function checkTensors(file: string, tensors: ReadonlyMap<string, TensorLike>, allowNonFinite: boolean): void {
  for (const [name, t] of tensors) {
    if (name === '' || name === '__metadata__') throw new CheckpointError(`${file}: bad tensor name ${JSON.stringify(name)}`);
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)}: data must be a Float32Array`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || n !== t.data.length) {
      throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)}: shape ${formatShape(t.shape)} does not fit its ${t.data.length} values`);
    }
    if (!allowNonFinite) {
      const bad = firstNonFinite(t.data);
      if (bad >= 0) {
        throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)}: non-finite value ${describeNonFinite(t.data, bad, t.shape)}; refusing to save (allowNonFinite overrides)`);
      }
    }
  }
}

function asTensorMap(m: ReadonlyMap<string, TensorLike>): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const [k, t] of m) out.set(k, t instanceof Tensor ? t : new Tensor([...t.shape], t.data));
  return out;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function exists(path: string): Promise<boolean> {
  try {
    await fileSystem().stat(path);
    return true;
  } catch (e) {
    if (errCode(e) === 'ENOENT') return false;
    throw e;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errCode(e) === 'EPERM';
  }
}

/** Remove temporaries of our files left by a process that was killed while saving. */
async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fileSystem().readdir(dir);
  } catch {
    return;
  }
  const ours = [MODEL_FILE, OPTIMIZER_FILE, MANIFEST_FILE];
  await Promise.all(
    names.map(async (n) => {
      const m = /^\.(.+)\.(\d+)\.[0-9a-f]+\.tmp$/.exec(n);
      if (!m || !ours.includes(m[1]!) || isAlive(Number(m[2]))) return;
      await fileSystem().unlink(join(dir, n)).catch(() => undefined);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Manifest

/** Read and validate checkpoint.json only (no tensors). */
export async function readCheckpointManifest(dir: string): Promise<CheckpointManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = new TextDecoder().decode(await fileSystem().readFile(path));
  } catch (e) {
    const code = errCode(e);
    if (code === 'ENOENT') {
      const dirExists = await exists(dir).catch(() => false);
      throw new CheckpointError(dirExists ? `${path}: no such file (not a checkpoint directory, or no save has finished)` : `${dir}: no such checkpoint directory`);
    }
    throw new CheckpointError(`${path}: cannot read: ${describeSystemError(e)}`);
  }
  return parseManifest(path, text);
}

// ---------------------------------------------------------------------------------------------
// Save

/** Make <file>.prev hold the version of <file> that the current manifest refers to. */
async function backUpCurrent(dir: string): Promise<void> {
  let manifest: CheckpointManifest;
  try {
    manifest = await readCheckpointManifest(dir);
  } catch {
    return; // no valid checkpoint to preserve
  }
  for (const name of TENSOR_FILES) {
    if (!manifest.files[name]) continue;
    const main = join(dir, name), prev = main + BACKUP_SUFFIX;
    const nonceOf = async (p: string): Promise<string | undefined> => {
      try {
        return (await readSafetensorsHeaderFile(p)).metadata[META_NONCE];
      } catch {
        return undefined;
      }
    };
    if ((await nonceOf(main)) === manifest.nonce) {
      const fs = fileSystem();
      await fs.unlink(prev).catch((e) => {
        if (errCode(e) !== 'ENOENT') throw e;
      });
      try {
        await fs.link(main, prev);
      } catch {
        await fs.copyFile(main, prev).catch(async (e) => {
          await fs.unlink(prev).catch(() => undefined); // a partial copy is no backup
          throw e;
        });
      }
    }
    // Otherwise the backup (if it matches) is the valid version already: keep it as it is.
  }
}

/** Save a checkpoint into `dir` (created if needed), replacing the one there crash-safely. */
export async function saveCheckpoint(dir: string, input: CheckpointInput, opts: SaveOptions = {}): Promise<SaveResult> {
  const modelPath = join(dir, MODEL_FILE), optPath = join(dir, OPTIMIZER_FILE), manifestPath = join(dir, MANIFEST_FILE);
  const allowNonFinite = opts.allowNonFinite ?? false;

  // Validate before touching the directory.
  if (!(input.weights instanceof Map) || input.weights.size === 0) throw new CheckpointError(`${modelPath}: no weights to save`);
  checkTensors(modelPath, input.weights, allowNonFinite);
  if (input.optimizer) {
    checkTensors(optPath, input.optimizer, allowNonFinite);
    checkOptimizerNames(optPath, input.optimizer, input.weights);
  }
  const config = toJson(input.config, 'config');
  const state = toJson(input.state, 'state');
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new CheckpointError('config must be an object');
  if (typeof state !== 'object' || state === null || Array.isArray(state)) throw new CheckpointError('state must be an object');
  const step = state.step ?? 0;
  if (typeof step !== 'number' || !Number.isSafeInteger(step) || step < 0) {
    throw new CheckpointError(`state.step must be a non-negative integer, got ${JSON.stringify(step)}`);
  }

  const nonce = randomUUID();
  const files: [string, FileData][] = [];
  const entries: Partial<Record<TensorFile, FileEntry>> = {};
  const add = (name: TensorFile, path: string, tensors: ReadonlyMap<string, TensorLike>): void => {
    const bytes = encodeSafetensors(asTensorMap(tensors), { [META_NONCE]: nonce, [META_STEP]: String(step), [META_ROLE]: name.split('.')[0]! });
    const shapes: Record<string, number[]> = {};
    for (const [k, t] of tensors) shapes[k] = [...t.shape];
    entries[name] = { bytes: bytes.length, sha256: sha256(bytes), tensors: shapes };
    files.push([path, bytes]);
  };
  add(MODEL_FILE, modelPath, input.weights);
  if (input.optimizer) add(OPTIMIZER_FILE, optPath, input.optimizer);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, nonce, step, savedAt: new Date().toISOString(),
    files: entries, config, state,
  };
  files.push([manifestPath, `${JSON.stringify(manifest, null, 1)}\n`]);

  try {
    if (!(await exists(dir))) await fileSystem().mkdir(dir);
  } catch (e) {
    throw new CheckpointError(`${dir}: cannot create the checkpoint directory: ${describeSystemError(e)}`);
  }
  await removeStaleTemps(dir);
  try {
    await backUpCurrent(dir);
    await (opts.writeFiles ?? writeFilesAtomic)(files);
  } catch (e) {
    const why = e instanceof FileError || !errCode(e) ? (e as Error).message : describeSystemError(e);
    throw new CheckpointError(`${dir}: saving step ${step} failed (${why}); the previous checkpoint, if any, is kept`);
  }
  // The new set is complete: the backups and a stale optimizer file are no longer needed.
  const cleanup = TENSOR_FILES.map((n) => join(dir, n + BACKUP_SUFFIX));
  if (!input.optimizer) cleanup.push(optPath);
  await Promise.all(cleanup.map((p) => fileSystem().unlink(p).catch(() => undefined)));
  return { dir, step, nonce, files: files.map(([p]) => p) };
}

// ---------------------------------------------------------------------------------------------
// Load

interface Candidate {
  path: string;
  bytes: Uint8Array;
}

/** The bytes of `name` whose nonce matches the manifest: the file itself or its .prev backup. */
async function pickVersion(dir: string, name: TensorFile, manifest: CheckpointManifest): Promise<{ c: Candidate; recovered: boolean }> {
  const main = join(dir, name);
  const tryRead = async (path: string): Promise<{ c?: Candidate; problem: string }> => {
    let bytes: Uint8Array;
    try {
      bytes = await fileSystem().readFile(path);
    } catch (e) {
      return { problem: errCode(e) === 'ENOENT' ? 'no such file' : `cannot read: ${describeSystemError(e)}` };
    }
    let meta: Record<string, string>;
    try {
      meta = parseSafetensorsHeader(bytes, { source: path }).metadata;
    } catch (e) {
      return { problem: (e as Error).message.slice(path.length + 2) };
    }
    const nonce = meta[META_NONCE];
    if (nonce !== manifest.nonce) {
      const from = nonce === undefined ? 'has no checkpoint nonce' : `is from another save (step ${meta[META_STEP] ?? '?'}, nonce ${nonce})`;
      return { c: undefined, problem: `${from}, but ${MANIFEST_FILE} is step ${manifest.step}, nonce ${manifest.nonce}` };
    }
    return { c: { path, bytes }, problem: '' };
  };
  const first = await tryRead(main);
  if (first.c) return { c: first.c, recovered: false };
  const backup = await tryRead(main + BACKUP_SUFFIX);
  if (backup.c) return { c: backup.c, recovered: true };
  throw new CheckpointError(`${main}: ${first.problem}${first.problem.startsWith('is from another save') ? ' (and no matching backup)' : ''}`);
}

async function loadTensorFile(dir: string, name: TensorFile, manifest: CheckpointManifest, finite: boolean): Promise<{ tensors: Map<string, Tensor>; recovered: boolean }> {
  const entry = manifest.files[name]!;
  const { c, recovered } = await pickVersion(dir, name, manifest);
  if (c.bytes.length !== entry.bytes) {
    throw new CheckpointError(`${c.path}: ${c.bytes.length} bytes, but ${MANIFEST_FILE} records ${entry.bytes} (truncated or damaged)`);
  }
  if (sha256(c.bytes) !== entry.sha256) throw new CheckpointError(`${c.path}: content differs from the sha256 in ${MANIFEST_FILE} (damaged file)`);
  let tensors: Map<string, Tensor>;
  try {
    tensors = decodeSafetensors(c.bytes, { source: c.path, finite }).tensors;
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message);
    throw e;
  }
  checkAgainst(c.path, tensors, new Map(Object.entries(entry.tensors)), MANIFEST_FILE);
  return { tensors, recovered };
}

/** How many times a reader starts again when a concurrent save replaced the checkpoint under it. */
const SNAPSHOT_RETRIES = 5;

/**
 * Load and validate a checkpoint saved by saveCheckpoint. Safe while another process saves into
 * `dir`: the result is one complete save (see the file comment).
 */
export async function loadCheckpoint(dir: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  let manifest = await readCheckpointManifest(dir);
  for (let attempt = 0; ; attempt++) {
    try {
      return await loadSnapshot(dir, manifest, opts);
    } catch (e) {
      if (!(e instanceof CheckpointError) || attempt === SNAPSHOT_RETRIES) throw e;
      const now = await readCheckpointManifest(dir).catch(() => undefined);
      if (now === undefined || now.nonce === manifest.nonce) throw e; // a real problem, not a race
      manifest = now;
    }
  }
}

async function loadSnapshot(dir: string, manifest: CheckpointManifest, opts: LoadOptions): Promise<LoadedCheckpoint> {
  const finite = !opts.allowNonFinite;
  const model = await loadTensorFile(dir, MODEL_FILE, manifest, finite);
  const modelPath = join(dir, MODEL_FILE);
  if (opts.expectedShapes) {
    let expected: ShapeMap;
    try {
      expected = typeof opts.expectedShapes === 'function' ? opts.expectedShapes(manifest.config, model.tensors) : opts.expectedShapes;
    } catch (e) {
      throw new CheckpointError(`${join(dir, MANIFEST_FILE)}: the model config is not usable (${(e as Error).message})`);
    }
    checkAgainst(modelPath, model.tensors, expected, 'the model config');
  }
  let optimizer: Map<string, Tensor> | undefined;
  let recovered = model.recovered;
  if (manifest.files[OPTIMIZER_FILE] && opts.optimizer !== false) {
    const o = await loadTensorFile(dir, OPTIMIZER_FILE, manifest, finite);
    checkOptimizerNames(join(dir, OPTIMIZER_FILE), o.tensors, model.tensors);
    optimizer = o.tensors;
    recovered ||= o.recovered;
  }
  return {
    dir, config: manifest.config, state: manifest.state, step: manifest.step, nonce: manifest.nonce, savedAt: manifest.savedAt,
    weights: model.tensors, ...(optimizer ? { optimizer } : {}), recovered,
  };
}
