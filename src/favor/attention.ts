// Public attention entry points: validate, allocate the output on the inputs' engine, enqueue the
// engine's kernel. The output lives where the inputs do; read it with `.data` (CPU engines) or
// `await out.read()` (any engine).
import { ALL_FEATURE_MAPS, isFeatureMap, type FeatureMap } from '../kernels/backend.js';
import { isEngine, type Engine } from '../kernels/engine.js';
import { defaultEngine } from '../kernels/registry.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { oprfCoefficients, resolveOprfA } from './oprf.js';
import { assertFinite, attentionTensorDims } from './validate.js';

export interface FavorOptions {
  projection: Tensor; // W [m, d], e.g. from drawProjection
  featureMap?: FeatureMap; // default 'softmax'
  causal?: boolean;
  keyMask?: Tensor; // [B, Lk], 0 = pad
  chunk?: number; // positions per chunk, default 64
  engine?: Engine; // default: the engine q lives on
  /** softmax++ only: FAVOR++'s A, [H] or [B·H]. Bidirectional: A* of q and k when absent; causal: required. */
  oprfA?: ArrayLike<number>;
}

export interface ExactOptions {
  causal?: boolean;
  keyMask?: Tensor;
  engine?: Engine;
}

/** The engine that runs on these tensors: the one named, else q's; every tensor must be on it (or share host memory). */
function engineFor(op: string, named: Engine | undefined, tensors: (Tensor | undefined)[]): Engine {
  const q = tensors[0]!;
  const e = named ?? (isEngine(q.device) ? q.device : defaultEngine());
  for (const t of tensors) {
    if (t && t.device !== e && !(t.device.host && e.host)) {
      throw new Error(`${op}: a tensor lives on engine ${t.device.name}, the op runs on ${e.name}; move it with .to(engine)`);
    }
  }
  return e;
}

/** FAVOR+ attention (docs/MATH.md): q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv] → [B,H,Lq,Dv]. */
export function favorAttention(q: Tensor, k: Tensor, v: Tensor, opts: FavorOptions): Tensor {
  const { projection, featureMap = 'softmax', causal = false, keyMask, chunk = 64 } = opts;
  if (!isFeatureMap(featureMap)) throw new Error(`unknown feature map '${featureMap}' (${ALL_FEATURE_MAPS.join('|')})`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`chunk must be a positive integer, got ${chunk}`);
  const dims = attentionTensorDims(q, k, v, keyMask, causal);
  if (projection.rank !== 2 || projection.shape[1] !== dims.d || projection.shape[0]! < 1) {
    throw new Error(`projection must have shape [m, d] with d=${dims.d}, got ${formatShape(projection.shape)}`);
  }
  if (projection.device.host) assertFinite(projection, 'projection');
  const e = engineFor('favorAttention', opts.engine, [q, k, v, projection, keyMask]);
  const oprfA = featureMap === 'softmax++'
    ? e.upload(Float32Array.from(resolveOprfA(dims, causal, opts.oprfA, () => {
      if (!q.device.host || !k.device.host) throw new Error(`softmax++ on engine ${e.name}: pass oprfA (A* is computed from q and k on the host)`);
      return oprfCoefficients(q.data, k.data, dims, keyMask?.data);
    })))
    : undefined;
  const out = Tensor.zeros([dims.B, dims.H, dims.Lq, dims.Dv], e);
  e.favorForward({
    q: q.storage, k: k.storage, v: v.storage, out: out.storage, projection: projection.storage, keyMask: keyMask?.storage,
    ...dims, m: projection.shape[0]!, featureMap, causal, chunk, oprfA,
  });
  return out;
}

/** Exact softmax attention with scores q·k/√d; the baseline FAVOR+ approximates. */
export function exactAttention(q: Tensor, k: Tensor, v: Tensor, opts: ExactOptions = {}): Tensor {
  const { causal = false, keyMask } = opts;
  const dims = attentionTensorDims(q, k, v, keyMask, causal);
  const e = engineFor('exactAttention', opts.engine, [q, k, v, keyMask]);
  const out = Tensor.zeros([dims.B, dims.H, dims.Lq, dims.Dv], e);
  e.exactForward({ q: q.storage, k: k.storage, v: v.storage, out: out.storage, keyMask: keyMask?.storage, ...dims, causal });
  return out;
}
