// Reading a checkpoint from the bytes of its two files, checkpoint.json and model.safetensors, with
// no file system: what a browser has after fetch() or a file input. The same checks as reading the
// folder (checkpoint-node.ts): the manifest, the model file belonging to this save (nonce), its byte size
// and sha256 against the manifest, the safetensors data, finite values, and the tensor set against
// the manifest and the caller's model config. Each failure is a CheckpointError naming the file.

import { checkAgainst, CheckpointError, MANIFEST_FILE, META_NONCE, MODEL_FILE, parseManifest,
  type CheckpointManifest, type JsonObject, type ShapeMap } from './checkpoint-manifest.js';
import { decodeSafetensors, parseSafetensorsHeader, SafetensorsError } from './safetensors.js';
import type { Tensor } from '../tensor/tensor.js';

/** The two files' contents (a fetch Response's arrayBuffer(), a File's, or bytes read elsewhere). */
export interface CheckpointFiles {
  /** checkpoint.json, as text or bytes. */
  manifest: string | ArrayBuffer | Uint8Array;
  /** model.safetensors. */
  model: ArrayBuffer | Uint8Array;
}

export interface CheckpointBytesOptions {
  /** How errors name the checkpoint (a URL or folder); default "checkpoint". */
  source?: string;
  /** The weight shapes the caller's model needs, from the stored config and the stored weights. */
  expectedShapes?: (config: JsonObject, weights: ReadonlyMap<string, Tensor>) => ShapeMap;
}

export interface CheckpointFromBytes {
  manifest: CheckpointManifest;
  weights: Map<string, Tensor>;
}

function bytesOf(b: ArrayBuffer | Uint8Array): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b);
}

async function sha256Hex(bytes: Uint8Array, path: string): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new CheckpointError(`${path}: checking its sha256 needs crypto.subtle, which browsers give only to secure pages (https, or http on localhost/127.0.0.1)`);
  const own = bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : bytes.slice();
  const digest = new Uint8Array(await subtle.digest('SHA-256', own));
  return Array.from(digest, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Validates and decodes a checkpoint's model from its files' bytes (the optimizer state is not needed). */
export async function readCheckpointBytes(files: CheckpointFiles, opts: CheckpointBytesOptions = {}): Promise<CheckpointFromBytes> {
  const source = opts.source ?? 'checkpoint';
  const manifestPath = `${source}/${MANIFEST_FILE}`, modelPath = `${source}/${MODEL_FILE}`;
  const text = typeof files.manifest === 'string' ? files.manifest : new TextDecoder().decode(bytesOf(files.manifest));
  const manifest = parseManifest(manifestPath, text);
  const bytes = bytesOf(files.model), entry = manifest.files[MODEL_FILE]!;
  if (bytes.length !== entry.bytes) throw new CheckpointError(`${modelPath}: ${bytes.length} bytes, but ${MANIFEST_FILE} records ${entry.bytes} (truncated or damaged)`);
  try {
    const nonce = parseSafetensorsHeader(bytes, { source: modelPath }).metadata[META_NONCE];
    if (nonce !== manifest.nonce) {
      const from = nonce === undefined ? 'has no checkpoint nonce' : `is from another save (nonce ${nonce})`;
      throw new CheckpointError(`${modelPath}: ${from}, but ${MANIFEST_FILE} is step ${manifest.step}, nonce ${manifest.nonce}`);
    }
    if ((await sha256Hex(bytes, modelPath)) !== entry.sha256) throw new CheckpointError(`${modelPath}: content differs from the sha256 in ${MANIFEST_FILE} (damaged file)`);
    const weights = decodeSafetensors(bytes, { source: modelPath, finite: true }).tensors;
    checkAgainst(modelPath, weights, new Map(Object.entries(entry.tensors)), MANIFEST_FILE);
    if (opts.expectedShapes) {
      let expected: ShapeMap;
      try {
        expected = opts.expectedShapes(manifest.config, weights);
      } catch (e) {
        throw new CheckpointError(`${manifestPath}: the model config is not usable (${(e as Error).message})`);
      }
      checkAgainst(modelPath, weights, expected, 'the model config');
    }
    return { manifest, weights };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(e.message);
    throw e;
  }
}
