// Local attention heads as a differentiable op: q, k [B,H,L,d], v [B,H,L,Dv] → [B,H,L,Dv], with
// local-attention's own rotary on q and k inside the op. It runs on its inputs' engine (the
// reference kernel, kernels/reference/local.ts, on every engine so far).
import { attentionDims, attentionSizes, checkSize } from '../kernels/attention-shape.js';
import { engineOf, output } from './engine-of.js';
import { record, recording } from './tape.js';
import type { Var } from './var.js';

export interface LocalAttentionOpOptions {
  window: number; // w, the block length
  causal?: boolean;
  keyMask?: ArrayLike<number>; // [B, L], 0 = pad
  offset?: number; // absolute position of row 0 (rotary angles), default 0
  /** performer-pytorch numerics: key-masked query rows as local-attention computes them ((L5) of kernels/reference/local.ts). */
  paddedRows?: boolean;
}

/** Block-local exact attention (docs/MATH.md, "Local attention heads") with backward to q, k, v. Saves only its output. */
export function localAttentionOp(q: Var, k: Var, v: Var, opts: LocalAttentionOpOptions): Var {
  const { window, causal = false, offset = 0 } = opts;
  const dm = attentionDims(q.shape, k.shape, v.shape, causal);
  if (dm.Lq !== dm.Lk) throw new Error(`local attention is self-attention: q has ${dm.Lq} positions, k has ${dm.Lk}`);
  if (!Number.isInteger(window) || window < 1) throw new Error(`local window must be a positive integer, got ${window}`);
  if (dm.d % 2 !== 0) throw new Error(`local attention's rotary needs an even head dim, got ${dm.d}`);
  if (opts.keyMask) checkSize('key mask [B, Lk]', opts.keyMask.length, attentionSizes(dm).keyMask);
  const e = engineOf('localAttentionOp', q, k, v);
  const Ctor = q.dtype === 'float64' ? Float64Array : Float32Array;
  const keyMask = opts.keyMask ? e.upload(Ctor.from(opts.keyMask)) : undefined;
  const out = output(e, [dm.B, dm.H, dm.Lq, dm.Dv], q.dtype, recording(q, k, v));
  const a = {
    B: dm.B, H: dm.H, L: dm.Lq, d: dm.d, Dv: dm.Dv, q: q.storage, k: k.storage, v: v.storage, out: out.storage,
    window, causal, keyMask, offset, paddedRows: opts.paddedRows ?? false,
  };
  e.localForward(a);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.gradStorage;
      if (dOut === null) return;
      e.localBackward({ ...a, dOut, dq: q.gradBuf(), dk: k.gradBuf(), dv: v.gradBuf() });
    });
  }
  return out;
}
