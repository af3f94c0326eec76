// JS driver of the exact-attention backward (assembly/exact-backward.ts): stages the arguments,
// fills the descriptor and runs one task item per (batch, head) over the thread pool. Gradients
// are ADDED into dq, dk, dv (they are staged as read-write outputs).
import type { ExactArgs } from '../backend.js';
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkHeapFits } from './bound.js';
import { checkAttention, checkAttentionGrads } from './check.js';

export interface ExactBackwardArgs extends ExactArgs {
  dOut: Float32Array; dq: Float32Array; dk: Float32Array; dv: Float32Array;
}

export function runExactBackward(ctx: Context, a: ExactBackwardArgs): void {
  const what = 'wasm exact backward';
  checkAttention(what, a);
  checkAttentionGrads(what, a);
  checkHeapFits(ctx.heap, what, { ...a, m: 0, mask: !!a.keyMask, backward: true }, [a.q, a.k, a.v, a.out, a.dOut, a.dq, a.dk, a.dv, a.keyMask]);
  const heads = a.B * a.H;
  if (heads === 0 || a.Lq === 0 || a.Lk === 0) return;

  ctx.call((staging) => {
    const q = staging.input(a.q), keys = staging.input(a.k), v = staging.input(a.v);
    const out = staging.input(a.out), dOut = staging.input(a.dOut);
    const mask = a.keyMask ? staging.input(a.keyMask) : 0;
    const dq = staging.output(a.dq, true), dk = staging.output(a.dk, true), dv = staging.output(a.dv, true);

    const { u32, f32 } = ctx.descriptor();
    u32.fill(0, 0, L.EBWD_WORDS);
    u32[L.EBWD_Q] = q; u32[L.EBWD_K] = keys; u32[L.EBWD_V] = v; u32[L.EBWD_OUT] = out; u32[L.EBWD_DOUT] = dOut;
    u32[L.EBWD_DQ] = dq; u32[L.EBWD_DK] = dk; u32[L.EBWD_DV] = dv; u32[L.EBWD_MASK] = mask; u32[L.EBWD_H] = a.H;
    u32[L.EBWD_LQ] = a.Lq; u32[L.EBWD_LK] = a.Lk; u32[L.EBWD_D] = a.d; u32[L.EBWD_VALUE_DIM] = a.Dv;
    u32[L.EBWD_CAUSAL] = a.causal ? 1 : 0;
    f32[L.EBWD_SCALE_F32] = 1 / Math.sqrt(a.d);
    ctx.threadScratch(ctx.kernels.exactBwdScratchBytes(ctx.desc));
    ctx.run('exactBwdHead', heads);
  });
}
