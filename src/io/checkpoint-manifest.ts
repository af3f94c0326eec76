// The browser-safe part of a checkpoint (format described in checkpoint-node.ts): the file names, the
// manifest (checkpoint.json) and its validation, and the tensor-set check. checkpoint-node.ts reads and
// writes folders with them (Node); checkpoint-bytes.ts reads the files' bytes (any host).

import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

export const CHECKPOINT_FORMAT = 'performer-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const MODEL_FILE = 'model.safetensors';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const MANIFEST_FILE = 'checkpoint.json';
export const BACKUP_SUFFIX = '.prev';
export const TENSOR_FILES = [MODEL_FILE, OPTIMIZER_FILE] as const;
export type TensorFile = (typeof TENSOR_FILES)[number];

/** Metadata keys every tensor file of a save carries. */
export const META_NONCE = 'performer.nonce';
export const META_STEP = 'performer.step';
export const META_ROLE = 'performer.role';

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface FileEntry {
  bytes: number;
  sha256: string;
  tensors: Record<string, number[]>;
}

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  version: typeof CHECKPOINT_VERSION;
  nonce: string;
  step: number;
  savedAt: string;
  files: Partial<Record<TensorFile, FileEntry>>;
  config: JsonObject;
  state: JsonObject;
}

export type ShapeMap = ReadonlyMap<string, readonly number[]>;

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Parses and validates checkpoint.json's text; `path` names it in errors. */
export function parseManifest(path: string, text: string): CheckpointManifest {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(`${path}: not valid JSON (${(e as Error).message.replace(/\s*\n\s*/g, ' ')})`);
  }
  const fail = (msg: string): never => {
    throw new CheckpointError(`${path}: ${msg}`);
  };
  if (typeof j !== 'object' || j === null || Array.isArray(j)) return fail('not a JSON object');
  const m = j as Record<string, unknown>;
  if (m.format !== CHECKPOINT_FORMAT) fail(`"format" is ${JSON.stringify(m.format)}, expected ${JSON.stringify(CHECKPOINT_FORMAT)} (not a Performer checkpoint?)`);
  if (m.version !== CHECKPOINT_VERSION) fail(`unsupported version ${JSON.stringify(m.version)} (this build reads version ${CHECKPOINT_VERSION})`);
  if (typeof m.nonce !== 'string' || m.nonce === '') fail('missing "nonce"');
  if (!Number.isSafeInteger(m.step) || (m.step as number) < 0) fail(`"step" must be a non-negative integer, got ${JSON.stringify(m.step)}`);
  if (typeof m.savedAt !== 'string') fail('missing "savedAt"');
  for (const k of ['config', 'state', 'files'] as const) {
    if (typeof m[k] !== 'object' || m[k] === null || Array.isArray(m[k])) fail(`"${k}" must be an object`);
  }
  const files = m.files as Record<string, unknown>;
  for (const [name, raw] of Object.entries(files)) {
    if (!(TENSOR_FILES as readonly string[]).includes(name)) fail(`"files" lists unknown file ${JSON.stringify(name)}`);
    const e = raw as Partial<FileEntry> | null;
    if (typeof e !== 'object' || e === null || !Number.isSafeInteger(e.bytes) || typeof e.sha256 !== 'string' || typeof e.tensors !== 'object' || e.tensors === null) {
      fail(`"files" entry for ${name} must have bytes, sha256 and tensors`);
    }
    for (const [t, shape] of Object.entries(e!.tensors!)) {
      if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`"files.${name}.tensors" has a bad shape for ${JSON.stringify(t)}`);
    }
  }
  if (!files[MODEL_FILE]) fail(`"files" has no ${MODEL_FILE}`);
  return m as unknown as CheckpointManifest;
}

/** Every tensor `expected` names is present with its shape, and no other. */
export function checkAgainst(file: string, tensors: ReadonlyMap<string, Tensor>, expected: ReadonlyMap<string, readonly number[]>, what: string): void {
  for (const [name, shape] of expected) {
    const t = tensors.get(name);
    if (!t) throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)} is missing (${what} has it with shape ${formatShape(shape)})`);
    if (!sameShape(t.shape, shape)) {
      throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)} has shape ${formatShape(t.shape)}, but ${what} says ${formatShape(shape)}`);
    }
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) throw new CheckpointError(`${file}: tensor ${JSON.stringify(name)} is not in ${what}`);
  }
}
