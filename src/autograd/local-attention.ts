// Local attention heads as a differentiable op: q, k [B,H,L,d], v [B,H,L,Dv] → [B,H,L,Dv], with
// local-attention's own rotary on q and k inside the op. The math is in kernels/reference/local.ts;
// it runs as a host loop, so on CPU engines (reference, wasm) only.
import { attentionDims, attentionSizes, checkSize } from '../kernels/attention-shape.js';
import { localBackward, localForward, type LocalArgs } from '../kernels/reference/local.js';
import type { Floats } from '../tensor/floats.js';
import { record, recording } from './tape.js';
import { alloc, hostGrad, Var } from './var.js';

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
  let keyMask: Floats | undefined;
  if (opts.keyMask) {
    checkSize('key mask [B, Lk]', opts.keyMask.length, attentionSizes(dm).keyMask);
    keyMask = alloc(q.data, opts.keyMask.length);
    for (let i = 0; i < keyMask.length; i++) keyMask[i] = opts.keyMask[i]!;
  }
  const out = new Var([dm.B, dm.H, dm.Lq, dm.Dv], alloc(q.data, attentionSizes(dm).out), recording(q, k, v), q.device);
  const a: LocalArgs = { B: dm.B, H: dm.H, L: dm.Lq, d: dm.d, Dv: dm.Dv, q: q.data, k: k.data, v: v.data, out: out.data, window, causal, keyMask, offset, paddedRows: opts.paddedRows ?? false };
  localForward(a);
  if (out.requiresGrad) {
    record(() => {
      const dOut = out.grad;
      if (!dOut) return;
      localBackward({ ...a, dOut, dq: hostGrad(q), dk: hostGrad(k), dv: hostGrad(v) });
    });
  }
  return out;
}
