// JS driver of the fused FAVOR+ kernels: stages the arguments, fills the descriptor, and splits
// the B·H heads (and, when there are fewer heads than threads, the sequence) into task items.
import type { FavorArgs, FeatureMap } from '../backend.js';
import * as L from './generated/layout.js';
import type { Context } from './context.js';
import { checkHeapFits } from './bound.js';
import { checkFavor, checkLength } from './check.js';

/** Descriptor id of each FAVOR+ feature map (the forward and backward drivers share it). FAVOR++
 *  (softmax++) runs on the softmax kernels with two extra coordinates (./favor-plus-plus.ts). */
export const FEATURE_MAP_IDS: Record<Exclude<FeatureMap, 'softmax++'>, number> = {
  softmax: L.FEATURE_MAP_SOFTMAX,
  'softmax-hyp': L.FEATURE_MAP_SOFTMAX_HYP,
  trig: L.FEATURE_MAP_TRIG,
  relu: L.FEATURE_MAP_RELU,
};

/** Positions streamed per chunk. args.chunk bounds the memory; the result does not depend on the
 *  chunking (MATH.md: the online M and the running M(i) are the same for any split), so the
 *  engine streams min(chunk, cap) positions, rounded down to a multiple of the gemm micro-tile
 *  rows (6 with FMA, 4 without) so no chunk ends in a partial tile. The causal cap is small
 *  because the triangle of the C×C product costs ~(C + 6)/2 · 2m' flops per position on top of
 *  the fixed work, while the per-chunk costs are small (S stays packed between chunks); at
 *  d = 64, m = 256, C = 24 measured best (−3…4% against 12, 36 and 48). */
const MAX_CHUNK_BIDIRECTIONAL = 252;
const MAX_CHUNK_CAUSAL = 24;
const TILE_ROWS = 12;
/** Shortest sequence part worth its own task item. */
const MIN_PART = 16;

export function runFavor(ctx: Context, a: FavorArgs): void {
  const what = 'wasm favor';
  checkFavor(what, a, FEATURE_MAP_IDS);
  checkHeapFits(ctx.heap, what, { ...a, mask: !!a.keyMask, backward: false }, [a.q, a.k, a.v, a.out, a.keyMask, a.projection]);
  const heads = a.B * a.H;

  const k = ctx.kernels;
  const capped = Math.min(a.chunk, a.causal ? MAX_CHUNK_CAUSAL : MAX_CHUNK_BIDIRECTIONAL);
  const chunk = capped >= TILE_ROWS ? capped - (capped % TILE_ROWS) : capped;
  const parts = a.causal
    ? causalParts(heads, ctx.threads, a.Lq)
    : bidirectionalParts(heads, ctx.threads, Math.min(a.Lq, a.Lk));
  ctx.call((staging) => {
    const q = staging.input(a.q), keys = staging.input(a.k), v = staging.input(a.v);
    const w = staging.input(a.projection);
    const mask = a.keyMask ? staging.input(a.keyMask) : 0;
    const out = staging.output(a.out);
    const wpack = staging.temp(k.packedProjectionBytes(a.m, a.d));
    k.packProjection(w, a.m, a.d, wpack);

    const hyp = a.featureMap === 'softmax-hyp';
    const { u32, f32 } = ctx.descriptor();
    u32[L.FAVOR_Q] = q; u32[L.FAVOR_K] = keys; u32[L.FAVOR_V] = v; u32[L.FAVOR_OUT] = out;
    u32[L.FAVOR_WPACK] = wpack; u32[L.FAVOR_MASK] = mask; u32[L.FAVOR_H] = a.H;
    u32[L.FAVOR_LQ] = a.Lq; u32[L.FAVOR_LK] = a.Lk; u32[L.FAVOR_D] = a.d; u32[L.FAVOR_VALUE_DIM] = a.Dv;
    u32[L.FAVOR_M] = a.m; u32[L.FAVOR_FEATURE_MAP] = FEATURE_MAP_IDS[a.featureMap as keyof typeof FEATURE_MAP_IDS]; u32[L.FAVOR_CHUNK] = chunk;
    u32[L.FAVOR_PARTS] = parts; u32[L.FAVOR_CAUSAL] = a.causal ? 1 : 0;
    f32[L.FAVOR_ALPHA_F32] = a.d ** -0.25; // x̂ = x·d^(-1/4)
    f32[L.FAVOR_LOG_NORM_F32] = 0.5 * Math.log(hyp ? 2 * a.m : a.m); // 1/√m or 1/√(2m) as a log
    f32[L.FAVOR_INV_SQRT_M_F32] = 1 / Math.sqrt(a.m);
    ctx.threadScratch(k.favorScratchBytes(ctx.desc));
    let states = 0, carries = 0;
    if (parts > 1) {
      const records = heads * parts * k.favorStateBytes(ctx.desc);
      states = staging.temp(records);
      if (a.causal) carries = staging.temp(records);
    }
    const desc = ctx.descriptor().u32; // the heap may have grown: fresh view
    desc[L.FAVOR_STATES] = states; desc[L.FAVOR_CARRIES] = carries;

    if (a.causal && parts === 1) {
      ctx.run('favorCausalHead', heads);
    } else if (a.causal) {
      // Each part starts from the keys of all earlier parts: partial states, prefix-combined.
      ctx.run('favorKeyPart', heads * parts);
      ctx.run('favorCausalCarry', heads * parts);
      ctx.run('favorCausalPart', heads * parts);
    } else if (parts === 1) {
      ctx.run('favorBidirHead', heads);
    } else {
      ctx.run('favorKeyPart', heads * parts);
      ctx.run('favorReduce', heads);
      ctx.run('favorQueryPart', heads * parts);
    }
  });
}

/** Sequence parts per head for the bidirectional path: 1 when whole heads balance over the
 *  threads; otherwise enough parts that heads·parts is a multiple of the threads (or, when that
 *  would take too many state records, at least ~4 items per thread). */
function bidirectionalParts(heads: number, threads: number, length: number): number {
  if (threads === 1 || heads === 0 || heads % threads === 0 || heads >= 4 * threads) return 1;
  const exact = threads / gcd(heads, threads);
  const parts = heads * exact <= 16 * threads ? exact : Math.ceil((4 * threads) / heads);
  return Math.max(1, Math.min(parts, Math.floor(length / MIN_PART)));
}

/** Causal parts cost an extra key pass, so split only when there are fewer heads than threads. */
function causalParts(heads: number, threads: number, length: number): number {
  if (heads === 0 || heads >= threads) return 1;
  return Math.max(1, Math.min(Math.ceil((2 * threads) / heads), Math.floor(length / MIN_PART)));
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
