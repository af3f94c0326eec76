// Public attention entry points: validate, allocate the output, hand the work to a backend.
import { isFeatureMap, type Backend, type FeatureMap } from '../kernels/backend.js';
import { defaultBackend } from '../kernels/default.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { assertFinite, attentionTensorDims } from './validate.js';

export interface FavorOptions {
  projection: Tensor; // W [m, d], e.g. from drawProjection
  featureMap?: FeatureMap; // default 'softmax'
  causal?: boolean;
  keyMask?: Tensor; // [B, Lk], 0 = pad
  chunk?: number; // positions per chunk, default 64
  backend?: Backend;
}

export interface ExactOptions {
  causal?: boolean;
  keyMask?: Tensor;
  backend?: Backend;
}

/** FAVOR+ attention (docs/MATH.md): q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv] → [B,H,Lq,Dv]. */
export function favorAttention(q: Tensor, k: Tensor, v: Tensor, opts: FavorOptions): Tensor {
  const { projection, featureMap = 'softmax', causal = false, keyMask, chunk = 64 } = opts;
  if (!isFeatureMap(featureMap)) throw new Error(`unknown feature map '${featureMap}' (softmax|softmax-hyp|trig|relu)`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`chunk must be a positive integer, got ${chunk}`);
  const dims = attentionTensorDims(q, k, v, keyMask, causal);
  if (projection.rank !== 2 || projection.shape[1] !== dims.d || projection.shape[0]! < 1) {
    throw new Error(`projection must have shape [m, d] with d=${dims.d}, got ${formatShape(projection.shape)}`);
  }
  assertFinite(projection, 'projection');
  const out = new Tensor([dims.B, dims.H, dims.Lq, dims.Dv]);
  (opts.backend ?? defaultBackend()).favor({
    q: q.data, k: k.data, v: v.data, out: out.data, projection: projection.data, keyMask: keyMask?.data,
    ...dims, m: projection.shape[0]!, featureMap, causal, chunk,
  });
  return out;
}

/** Exact softmax attention with scores q·k/√d; the baseline FAVOR+ approximates. */
export function exactAttention(q: Tensor, k: Tensor, v: Tensor, opts: ExactOptions = {}): Tensor {
  const { causal = false, keyMask } = opts;
  const dims = attentionTensorDims(q, k, v, keyMask, causal);
  const out = new Tensor([dims.B, dims.H, dims.Lq, dims.Dv]);
  (opts.backend ?? defaultBackend()).exact({
    q: q.data, k: k.data, v: v.data, out: out.data, keyMask: keyMask?.data, ...dims, causal,
  });
  return out;
}
