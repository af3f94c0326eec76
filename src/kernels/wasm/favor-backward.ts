// JS driver of the FAVOR+ backward kernels (assembly/favor-backward.ts): stages the arguments,
// fills the descriptor and runs one task item per (batch, head) over the thread pool. Gradients
// are ADDED into dq, dk, dv (they are staged as read-write outputs).
import type { FeatureMap } from '../backend.js';
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkHeapFits } from './bound.js';
import { checkAttentionGrads, checkFavor } from './check.js';
import { FEATURE_MAP_IDS } from './favor.js';

/** Positions per chunk: args.chunk bounds the memory; the result does not depend on it. The causal
 *  cap is smaller because of the two C×C products per chunk. */
const MAX_CHUNK_BIDIRECTIONAL = 120;
const MAX_CHUNK_CAUSAL = 60;

export interface FavorBackwardArgs {
  q: Float32Array; k: Float32Array; v: Float32Array; out: Float32Array; dOut: Float32Array;
  projection: Float32Array; keyMask?: Float32Array | undefined;
  dq: Float32Array; dk: Float32Array; dv: Float32Array;
  B: number; H: number; Lq: number; Lk: number; d: number; Dv: number; m: number;
  featureMap: FeatureMap; causal: boolean; chunk: number;
}

export function runFavorBackward(ctx: Context, a: FavorBackwardArgs): void {
  const what = 'wasm favor backward';
  checkFavor(what, a, FEATURE_MAP_IDS);
  checkAttentionGrads(what, a);
  checkHeapFits(ctx.heap, what, { ...a, mask: !!a.keyMask, backward: true }, [a.q, a.k, a.v, a.out, a.dOut, a.dq, a.dk, a.dv, a.keyMask, a.projection]);
  const heads = a.B * a.H;
  if (heads === 0 || a.Lq === 0 || a.Lk === 0) return;

  const chunk = Math.min(a.chunk, a.causal ? MAX_CHUNK_CAUSAL : MAX_CHUNK_BIDIRECTIONAL);
  ctx.call((staging) => {
    const q = staging.input(a.q), keys = staging.input(a.k), v = staging.input(a.v);
    const out = staging.input(a.out), dOut = staging.input(a.dOut);
    const w = staging.input(a.projection);
    const mask = a.keyMask ? staging.input(a.keyMask) : 0;
    const dq = staging.output(a.dq, true), dk = staging.output(a.dk, true), dv = staging.output(a.dv, true);

    const hyp = a.featureMap === 'softmax-hyp';
    const { u32, f32 } = ctx.descriptor();
    u32.fill(0, 0, L.FBWD_WORDS);
    u32[L.FBWD_Q] = q; u32[L.FBWD_K] = keys; u32[L.FBWD_V] = v; u32[L.FBWD_OUT] = out; u32[L.FBWD_DOUT] = dOut;
    u32[L.FBWD_DQ] = dq; u32[L.FBWD_DK] = dk; u32[L.FBWD_DV] = dv;
    u32[L.FBWD_W] = w; u32[L.FBWD_MASK] = mask; u32[L.FBWD_H] = a.H;
    u32[L.FBWD_LQ] = a.Lq; u32[L.FBWD_LK] = a.Lk; u32[L.FBWD_D] = a.d; u32[L.FBWD_VALUE_DIM] = a.Dv;
    u32[L.FBWD_M] = a.m; u32[L.FBWD_FEATURE_MAP] = FEATURE_MAP_IDS[a.featureMap as keyof typeof FEATURE_MAP_IDS]; u32[L.FBWD_CHUNK] = chunk;
    u32[L.FBWD_CAUSAL] = a.causal ? 1 : 0;
    f32[L.FBWD_ALPHA_F32] = a.d ** -0.25;
    f32[L.FBWD_LOG_NORM_F32] = 0.5 * Math.log(hyp ? 2 * a.m : a.m);
    f32[L.FBWD_INV_SQRT_M_F32] = 1 / Math.sqrt(a.m);
    ctx.threadScratch(ctx.kernels.favorBwdScratchBytes(ctx.desc));
    ctx.run(a.causal ? 'favorBwdCausalHead' : 'favorBwdBidirHead', heads);
  });
}
