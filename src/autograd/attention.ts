// Attention as differentiable ops: q [B,H,Lq,d], k [B,H,Lk,d], v [B,H,Lk,Dv] → [B,H,Lq,Dv].
// Gradients flow to q, k and v; the FAVOR+ projection W is a constant (a buffer, never a parameter).
// The math of the backward passes is in ./kernels-ts/favor.ts and ./kernels-ts/exact.ts.
import type { FeatureMap } from '../kernels/backend.js';
import { attentionDims, attentionSizes, checkSize, type AttentionDims } from '../kernels/attention-shape.js';
import { Tensor } from '../tensor/tensor.js';
import { kernelsFor } from './kernels.js';
import { record, recording } from './tape.js';
import type { Floats } from '../tensor/floats.js';
import { alloc, Var } from './var.js';

function dims(q: Var, k: Var, v: Var, keyMask: ArrayLike<number> | undefined, causal: boolean): AttentionDims {
  const dm = attentionDims(q.shape, k.shape, v.shape, causal);
  if (keyMask) checkSize('key mask [B, Lk]', keyMask.length, attentionSizes(dm).keyMask);
  return dm;
}

function maskLike(q: Var, keyMask: ArrayLike<number> | undefined): Floats | undefined {
  if (!keyMask) return undefined;
  if (keyMask instanceof (q.data.constructor as typeof Float32Array)) return keyMask as Floats;
  const m = alloc(q.data, keyMask.length);
  for (let i = 0; i < m.length; i++) m[i] = keyMask[i]!;
  return m;
}

/**
 * out [B, H, Lq, Dv] = forward(args(out)); on the tape, backward ADDS dL/dq, dL/dk, dL/dv into the
 * gradients given dOut = dL/dout. The op saves only its output.
 */
function attentionOp<A>(
  q: Var, k: Var, v: Var, dm: AttentionDims, args: (out: Floats) => A,
  forward: (a: A) => void, backward: (a: A & { dOut: Floats; dq: Floats; dk: Floats; dv: Floats }) => void,
): Var {
  const out = new Var([dm.B, dm.H, dm.Lq, dm.Dv], alloc(q.data, attentionSizes(dm).out), recording(q, k, v));
  const a = args(out.data);
  forward(a);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      backward({ ...a, dOut, dq: q.gradBuf(), dk: k.gradBuf(), dv: v.gradBuf() });
    });
  }
  return out;
}

export interface FavorAttentionOpOptions {
  projection: Tensor | Floats; // W [m, d]
  featureMap?: FeatureMap;
  causal?: boolean;
  keyMask?: ArrayLike<number>; // [B, Lk], 0 = pad
  chunk?: number; // causal chunk length (default 64)
}

/** FAVOR+ attention (docs/MATH.md) with backward to q, k, v. Saves only its output. */
export function favorAttentionOp(q: Var, k: Var, v: Var, opts: FavorAttentionOpOptions): Var {
  const { featureMap = 'softmax', causal = false, chunk = 64 } = opts;
  const dm = dims(q, k, v, opts.keyMask, causal);
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`chunk must be a positive integer, got ${chunk}`);
  const W = opts.projection instanceof Tensor ? opts.projection.data : opts.projection;
  const m = W.length / dm.d;
  if (!Number.isInteger(m) || m < 1) throw new Error(`projection of ${W.length} values is not [m, ${dm.d}]`);
  const kern = kernelsFor(q.data);
  return attentionOp(q, k, v, dm, (out) => ({ q: q.data, k: k.data, v: v.data, out, projection: W, keyMask: maskLike(q, opts.keyMask), ...dm, m, featureMap, causal, chunk }),
    (a) => kern.favorForward(a), (a) => kern.favorBackward(a));
}

export interface ExactAttentionOpOptions {
  causal?: boolean;
  keyMask?: ArrayLike<number>;
}

/** Exact softmax attention, scores q·k/√d, with backward to q, k, v. Saves only its output. */
export function exactAttentionOp(q: Var, k: Var, v: Var, opts: ExactAttentionOpOptions = {}): Var {
  const { causal = false } = opts;
  const dm = dims(q, k, v, opts.keyMask, causal);
  const kern = kernelsFor(q.data);
  return attentionOp(q, k, v, dm, (out) => ({ q: q.data, k: k.data, v: v.data, out, keyMask: maskLike(q, opts.keyMask), ...dm, causal }),
    (a) => kern.exactForward(a), (a) => kern.exactBackward(a));
}
