// JS driver of exact (softmax) attention: one task item per block of query rows of a head.
import type { ExactArgs } from '../backend.js';
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkHeapFits } from './bound.js';
import { checkAttention } from './check.js';

export function runExact(ctx: Context, a: ExactArgs): void {
  const what = 'wasm exact';
  checkAttention(what, a);
  checkHeapFits(ctx.heap, what, { ...a, m: 0, mask: !!a.keyMask, backward: false }, [a.q, a.k, a.v, a.out, a.keyMask]);
  const heads = a.B * a.H;

  const k = ctx.kernels;
  const blocks = Math.ceil(a.Lq / k.exactRowsPerItem());
  ctx.call((staging) => {
    const q = staging.input(a.q), keys = staging.input(a.k), v = staging.input(a.v);
    const mask = a.keyMask ? staging.input(a.keyMask) : 0;
    const out = staging.output(a.out);
    const { u32, f32 } = ctx.descriptor();
    u32[L.EXACT_Q] = q; u32[L.EXACT_K] = keys; u32[L.EXACT_V] = v; u32[L.EXACT_OUT] = out;
    u32[L.EXACT_MASK] = mask; u32[L.EXACT_H] = a.H; u32[L.EXACT_LQ] = a.Lq; u32[L.EXACT_LK] = a.Lk;
    u32[L.EXACT_D] = a.d; u32[L.EXACT_VALUE_DIM] = a.Dv; u32[L.EXACT_CAUSAL] = a.causal ? 1 : 0;
    u32[L.EXACT_BLOCKS] = blocks;
    f32[L.EXACT_SCALE_F32] = 1 / Math.sqrt(a.d);
    ctx.threadScratch(k.exactScratchBytes(ctx.desc));
    ctx.run('exactBlock', heads * blocks);
  });
}
