// `performer attention`: FAVOR+ (or exact) attention over tensors from a safetensors file.

import { exactAttention, favorAttention } from '../favor/attention.js';
import { drawProjection } from '../favor/projection.js';
import type { FeatureMap } from '../kernels/backend.js';
import { readSafetensorsFile, readSafetensorsHeaderFile, writeSafetensorsFile } from '../io/safetensors-node.js';
import { checkAttentionFits } from '../kernels/wasm/bound.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { defineFlags, formatUsage, parseArgs } from './args.js';
import type { CliIo, Command } from './command.js';
import { engineFlags, startEngine } from './engine.js';

export const ATTENTION_KERNELS = ['softmax', 'softmax-hyp', 'trig', 'relu', 'softmax++', 'exact'] as const;
export type AttentionKernel = (typeof ATTENTION_KERNELS)[number];

const INPUT_TENSORS = ['q', 'k', 'v', 'projection', 'key_mask', 'oprf_a'] as const;

const flags = defineFlags({
  ...engineFlags('wasm'),
  in: { type: 'string', required: true, metavar: 'IN.safetensors', help: 'input: F32 q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv]; optional projection [M,d], key_mask [B,Lk], oprf_a [H] or [B,H] (softmax++)' },
  out: { type: 'string', required: true, metavar: 'OUT.safetensors', help: 'output: F32 out [B,H,Lq,Dv] (written atomically)' },
  kernel: { type: 'enum', values: ATTENTION_KERNELS, default: 'softmax', help: 'feature map, or exact softmax attention' },
  causal: { type: 'boolean', help: 'causal (query i sees keys j <= i; needs Lq = Lk)' },
  features: { type: 'int', min: 1, metavar: 'M', help: 'random features M when IN has no projection (default 256); must match projection if both given' },
  seed: { type: 'int', min: 0, default: 0, help: 'seed for drawing the orthogonal projection' },
});

const DEFAULT_FEATURES = 256;

const description = `
Computes attention for q, k, v read from IN and writes the result as tensor "out" to OUT.
With a FAVOR+ kernel the projection W [M,d] is taken from IN's "projection" tensor if present,
otherwise drawn (orthogonal, chi-scaled rows) with --features and --seed. The exact kernel ignores
the projection and --features. key_mask: 1 keep, 0 pad. Tensors of other float/int dtypes are
converted to float32; NaN or infinite values are rejected. See docs/MATH.md for the math.
softmax++ is FAVOR++: its coefficient A per (batch, head) comes from IN's "oprf_a" ([H], or
[B,H]); bidirectional attention computes the optimal A from q and k when it is absent. Causal
attention needs oprf_a: computed from the sequence, A would make every output depend on later
positions.`;

export function attentionUsage(): string {
  return formatUsage('performer attention --in IN.safetensors --out OUT.safetensors [options]', description, flags);
}

function need(tensors: Map<string, Tensor>, name: string, file: string): Tensor {
  const t = tensors.get(name);
  if (!t) throw new Error(`${file}: missing tensor "${name}" (have: ${[...tensors.keys()].join(', ') || 'none'})`);
  return t;
}

function checkRank(t: Tensor, name: string, layout: string, file: string): void {
  const r = layout.split(',').length;
  if (t.rank !== r) throw new Error(`${file}: tensor "${name}" must have shape ${layout}, got ${formatShape(t.shape)}`);
}

/** The wasm32 bound from the shapes in the header, before the data is read or anything allocated. */
async function checkFitsWasm(file: string, kernel: AttentionKernel, features: number | undefined): Promise<void> {
  const header = await readSafetensorsHeaderFile(file);
  const shape = (name: string): number[] | undefined => header.tensors.find((t) => t.name === name)?.shape;
  const q = shape('q'), k = shape('k'), v = shape('v');
  if (q?.length !== 4 || k?.length !== 4 || v?.length !== 4) return; // the checks below name what is wrong
  const m = kernel === 'exact' ? 0 : (shape('projection')?.[0] ?? features ?? DEFAULT_FEATURES);
  checkAttentionFits(`${file}: the wasm engine`, {
    B: q[0]!, H: q[1]!, Lq: q[2]!, Lk: k[2]!, d: q[3]!, Dv: v[3]!, m, mask: shape('key_mask') !== undefined, backward: false,
  });
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv, flags);
  if (parsed.help) {
    io.stdout.write(attentionUsage());
    return 0;
  }
  const f = parsed.flags;
  await startEngine(f);
  const file = f.in;
  if (f.engine === 'wasm') await checkFitsWasm(file, f.kernel, f.features);
  const { tensors } = await readSafetensorsFile(file, { finite: true });
  for (const name of tensors.keys()) {
    if (!(INPUT_TENSORS as readonly string[]).includes(name)) {
      throw new Error(`${file}: unexpected tensor "${name}" (expected ${INPUT_TENSORS.join(', ')})`);
    }
  }
  const q = need(tensors, 'q', file);
  const k = need(tensors, 'k', file);
  const v = need(tensors, 'v', file);
  checkRank(q, 'q', '[B, H, Lq, d]', file);
  checkRank(k, 'k', '[B, H, Lk, d]', file);
  checkRank(v, 'v', '[B, H, Lk, Dv]', file);
  const [B, H, Lq, d] = q.shape as [number, number, number, number];
  const [, , Lk] = k.shape as [number, number, number, number];
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (t.shape.some((s) => s < 1)) throw new Error(`${file}: tensor "${name}" has an empty dimension: ${formatShape(t.shape)}`);
  }
  if (k.shape[0] !== B || k.shape[1] !== H || k.shape[3] !== d) {
    throw new Error(`${file}: tensor "k" ${formatShape(k.shape)} does not match "q" ${formatShape(q.shape)} (need the same B, H and d)`);
  }
  if (v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== Lk) {
    throw new Error(`${file}: tensor "v" ${formatShape(v.shape)} does not match "k" ${formatShape(k.shape)} (need the same B, H and Lk)`);
  }
  if (f.causal && Lq !== Lk) throw new Error(`${file}: --causal needs Lq = Lk, but "q" has Lq=${Lq} and "k" has Lk=${Lk}`);
  const keyMask = tensors.get('key_mask');
  if (keyMask && (keyMask.rank !== 2 || keyMask.shape[0] !== B || keyMask.shape[1] !== Lk)) {
    throw new Error(`${file}: tensor "key_mask" must have shape [B, Lk] = [${B}, ${Lk}], got ${formatShape(keyMask.shape)}`);
  }

  const outMeta: Record<string, string> = { producer: 'performer attention', kernel: f.kernel, causal: String(f.causal) };
  let out: Tensor;
  if (f.kernel === 'exact') {
    out = exactAttention(q, k, v, { causal: f.causal, keyMask });
  } else {
    let projection = tensors.get('projection');
    if (projection) {
      if (projection.rank !== 2 || projection.shape[1] !== d || projection.shape[0]! < 1) {
        throw new Error(`${file}: tensor "projection" must have shape [M, d] with d=${d}, got ${formatShape(projection.shape)}`);
      }
      if (f.features !== undefined && f.features !== projection.shape[0]) {
        throw new Error(`--features ${f.features} disagrees with tensor "projection" ${formatShape(projection.shape)} in ${file}`);
      }
      outMeta.projection = 'from input';
    } else {
      const features = f.features ?? DEFAULT_FEATURES;
      projection = drawProjection({ features, dim: d, kind: 'orthogonal', seed: f.seed });
      outMeta.projection = 'orthogonal';
      outMeta.seed = String(f.seed);
    }
    outMeta.features = String(projection.shape[0]);
    const oprfA = tensors.get('oprf_a');
    if (oprfA && f.kernel !== 'softmax++') throw new Error(`${file}: tensor "oprf_a" is FAVOR++'s A and needs --kernel softmax++ (got --kernel ${f.kernel})`);
    if (oprfA && !((oprfA.rank === 1 && oprfA.shape[0] === H) || (oprfA.rank === 2 && oprfA.shape[0] === B && oprfA.shape[1] === H))) {
      throw new Error(`${file}: tensor "oprf_a" must have shape [H] = [${H}] or [B, H] = [${B}, ${H}], got ${formatShape(oprfA.shape)}`);
    }
    if (f.kernel === 'softmax++' && f.causal && !oprfA) {
      throw new Error(`${file}: --kernel softmax++ --causal needs tensor "oprf_a" ([H] or [B, H]): A computed from the sequence would make every output depend on later positions`);
    }
    if (f.kernel === 'softmax++') outMeta.oprf_a = oprfA ? 'from input' : 'optimal for q, k';
    out = favorAttention(q, k, v, { featureMap: f.kernel as FeatureMap, causal: f.causal, projection, keyMask, oprfA: oprfA?.data });
  }
  await writeSafetensorsFile(f.out, { out }, outMeta);
  return 0;
}

export const attentionCommand: Command = {
  name: 'attention',
  summary: 'FAVOR+ or exact attention over q, k, v from a safetensors file',
  usage: attentionUsage,
  run,
};
