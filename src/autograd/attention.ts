// Attention as differentiable ops: q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv] → [B,H,Lq,Dv].
// Gradients flow to q, k and v; the FAVOR+ projection W is a constant (a buffer, never a parameter).
// Both run on their inputs' engine. The math of the backward passes is in
// src/kernels/reference/grad/favor.ts and exact.ts.
import type { FeatureMap } from '../kernels/backend.js';
import { attentionDims, attentionSizes, checkSize, type AttentionDims } from '../kernels/attention-shape.js';
import type { Engine } from '../kernels/engine.js';
import type { Floats } from '../tensor/floats.js';
import type { DType } from '../tensor/storage.js';
import { oprfCoefficients, resolveOprfA } from '../favor/oprf.js';
import { Tensor } from '../tensor/tensor.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import { Var } from './var.js';

function dims(q: Var, k: Var, v: Var, keyMask: ArrayLike<number> | undefined, causal: boolean): AttentionDims {
  const dm = attentionDims(q.shape, k.shape, v.shape, causal);
  if (keyMask) checkSize('key mask [B, Lk]', keyMask.length, attentionSizes(dm).keyMask);
  return dm;
}

/** The key mask as storage of engine e in q's dtype (a host array of that dtype is used as is). */
function maskOn(e: Engine, dtype: DType, keyMask: ArrayLike<number> | undefined): unknown {
  if (!keyMask) return undefined;
  const Ctor = dtype === 'float64' ? Float64Array : Float32Array;
  return e.upload(keyMask instanceof Ctor ? keyMask : Ctor.from(keyMask));
}

/** The projection W as storage of engine e in q's dtype. */
function projectionOn(e: Engine, dtype: DType, w: Var | Tensor | Floats): unknown {
  if (w instanceof Tensor || w instanceof Var) {
    const wType = w instanceof Var ? w.dtype : 'float32';
    if (wType === dtype && (w.device === e || (w.device.host && e.host))) return w.storage;
    w = w.data;
  }
  const Ctor = dtype === 'float64' ? Float64Array : Float32Array;
  return e.upload(w instanceof Ctor ? w : Ctor.from(w));
}

/**
 * out [B, H, Lq, Dv] = forward(args(out)) on engine e; on the tape, backward ADDS dL/dq, dL/dk,
 * dL/dv into the gradients given dOut = dL/dout. The op saves only its output.
 */
function attentionOp<A>(
  e: Engine, q: Var, k: Var, v: Var, dm: AttentionDims, args: (out: unknown) => A,
  forward: (a: A) => void, backward: (a: A & { dOut: unknown; dq: unknown; dk: unknown; dv: unknown }) => void,
): Var {
  const out = output(e, [dm.B, dm.H, dm.Lq, dm.Dv], q.dtype, recording(q, k, v));
  const a = args(out.storage);
  forward(a);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      backward({ ...a, dOut, dq: q.gradBuf(), dk: k.gradBuf(), dv: v.gradBuf() });
    });
  }
  return out;
}

export interface FavorAttentionOpOptions {
  projection: Var | Tensor | Floats; // W [m, d] (a buffer: no gradient)
  featureMap?: FeatureMap;
  causal?: boolean;
  keyMask?: ArrayLike<number>; // [B, Lk], 0 = pad
  chunk?: number; // causal chunk length (default 64)
  /** softmax++ only: FAVOR++'s A, [H] or [B·H] (no gradient). Bidirectional: A* of q and k when absent; causal: required. */
  oprfA?: ArrayLike<number>;
}

/** FAVOR+ attention (docs/MATH.md) with backward to q, k, v. Saves only its output. */
export function favorAttentionOp(q: Var, k: Var, v: Var, opts: FavorAttentionOpOptions): Var {
  const { featureMap = 'softmax', causal = false, chunk = 64 } = opts;
  const dm = dims(q, k, v, opts.keyMask, causal);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`chunk must be a positive integer, got ${chunk}`);
  const size = opts.projection instanceof Tensor || opts.projection instanceof Var ? opts.projection.size : opts.projection.length;
  const m = size / dm.d;
  if (!Number.isInteger(m) || m < 1) throw new Error(`projection of ${size} values is not [m, ${dm.d}]`);
  const e = engineOf('favorAttentionOp', q, k, v);
  const projection = projectionOn(e, q.dtype, opts.projection), keyMask = maskOn(e, q.dtype, opts.keyMask);
  const oprfA = featureMap === 'softmax++' ? oprfOn(e, q, k, dm, causal, opts) : undefined;
  return attentionOp(e, q, k, v, dm, (out) => ({ q: q.storage, k: k.storage, v: v.storage, out, projection, keyMask, ...dm, m, featureMap, causal, chunk, oprfA }),
    (a) => e.favorForward(a), (a) => e.favorBackward(a));
}

/** FAVOR++'s A [B·H] as storage of engine e in q's dtype: given, or (bidirectional) A* of q and k. */
function oprfOn(e: Engine, q: Var, k: Var, dm: AttentionDims, causal: boolean, opts: FavorAttentionOpOptions): unknown {
  const A = resolveOprfA(dm, causal, opts.oprfA, () => {
    if (!q.device.host || !k.device.host) throw new Error(`favorAttentionOp softmax++ on engine ${e.name}: pass oprfA (A* is computed from q and k on the host)`);
    return oprfCoefficients(q.data, k.data, dm, opts.keyMask);
  });
  return e.upload(q.dtype === 'float64' ? A : Float32Array.from(A));
}

export interface ExactAttentionOpOptions {
  causal?: boolean;
  keyMask?: ArrayLike<number>;
}

/** Exact softmax attention, scores q·k/√d, with backward to q, k, v. Saves only its output. */
export function exactAttentionOp(q: Var, k: Var, v: Var, opts: ExactAttentionOpOptions = {}): Var {
  const { causal = false } = opts;
  const dm = dims(q, k, v, opts.keyMask, causal);
  const e = engineOf('exactAttentionOp', q, k, v);
  const keyMask = maskOn(e, q.dtype, opts.keyMask);
  return attentionOp(e, q, k, v, dm, (out) => ({ q: q.storage, k: k.storage, v: v.storage, out, keyMask, ...dm, causal }),
    (a) => e.exactForward(a), (a) => e.exactBackward(a));
}
