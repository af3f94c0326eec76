// Loader for the FAVOR+ kernels: picks the feature block for the device's workgroup memory, cuts the
// work at binding boundaries (pieces.ts), allocates the per-range records, and enqueues
//   bidirectional: key pass → reduce → queries,   causal: key pass per group → scan → chunks.
// The GPU always walks causal positions in chunks of 16; `chunk` (the CPU backends' block size)
// changes nothing here but float32 rounding, which the reference comparison covers.
import { FEATURE_MAPS, featureCount, type FeatureMap } from '../backend.js';
import { checkAttention, expectLength, type FavorFwdArgs } from './args.js';
import type { GpuContext } from './context.js';
import { outWgsl, reduceWgsl } from './favor-bidirectional.wgsl.js';
import { causalWgsl, scanWgsl } from './favor-causal.wgsl.js';
import { fillWgsl, KEY_TILE, stateWgsl, type FavorShape } from './favor-state.wgsl.js';
import { slotsPerBlock } from './features.wgsl.js';
import { pieces, whole, type Binding, type Piece, type View } from './pieces.js';


/** Records (key ranges or causal groups) per head: enough workgroups to fill a GPU, bounded memory. */
const RANGES_PER_HEAD = 32;

/** The largest feature block whose tiles fit the device's workgroup memory (all three kernels). */
function featureBlock(featureMap: FeatureMap, d: number, Dv: number, m: number, workgroupBytes: number): number {
  const mult = slotsPerBlock(featureMap, 1);
  for (let fbp = 64; fbp >= mult; fbp /= 2) {
    const causal = 16 * (2 * d + Dv) + 32 * fbp + 256 + 128;
    const state = 16 * (d + Dv) + 16 * fbp + 256 + 32;
    if (4 * Math.max(causal, state) <= workgroupBytes) return Math.min(m, fbp / mult);
  }
  throw new Error(`webgpu: favor: d = ${d}, Dv = ${Dv} need more workgroup memory than the device's maxComputeWorkgroupStorageSize of ${workgroupBytes} bytes`);
}

function records(ctx: GpuContext, n: number, what: string): GPUBuffer {
  if (n * 4 > ctx.deviceBindingBytes) {
    throw new Error(`webgpu: favor: ${what} need ${n * 4} bytes, over the device's storage-binding limit of ${ctx.deviceBindingBytes} bytes (fewer heads per call would fit)`);
  }
  return ctx.device.createBuffer({ size: Math.max(16, n * 4), usage: 0x0080 }); // STORAGE
}

/** Per piece, the index of its first record in its head, and the records per head (the max over heads). */
function numberRanges(ps: readonly Piece[], per: number): { base: number[]; R: number } {
  const next = new Map<number, number>();
  const base = ps.map((p) => {
    const b = next.get(p.bh0) ?? 0;
    next.set(p.bh0, b + Math.ceil((p.p1 - p.p0) / per));
    return b;
  });
  return { base, R: Math.max(1, ...next.values()) };
}

export function favor(ctx: GpuContext, a: FavorFwdArgs): void {
  checkAttention(a, 'favor');
  if (a.featureMap === 'softmax++') throw new Error('webgpu: favor: softmax++ (FAVOR++) has no WebGPU kernel yet');
  if (!FEATURE_MAPS.includes(a.featureMap)) throw new Error(`webgpu: favor: unknown feature map '${String(a.featureMap)}'`);
  if (!Number.isInteger(a.m) || a.m < 1) throw new Error(`webgpu: favor: m = ${a.m} is not a positive integer`);
  expectLength(a.projection, a.m * a.d, 'favor: projection [m·d]');
  const { B, H, Lq, Lk, d, Dv, m, featureMap } = a;
  const BH = B * H;
  const shape: FavorShape = { featureMap, d, Dv, m, fb: featureBlock(featureMap, d, Dv, m, ctx.workgroupBytes) };
  const MF = featureCount(featureMap, m);
  const FBN = Math.ceil(m / shape.fb);
  const w = whole(a.projection, 'favor projection');
  const mask = a.keyMask ? whole(a.keyMask, 'favor keyMask') : ctx.absent;
  const masked = a.keyMask ? 1 : 0;
  const view = (t: View['t'], name: string, L: number, row: number): View => ({ t, name, headStride: L * row, posStride: row, span: row });
  const temps: GPUBuffer[] = [];
  const alloc = (n: number, what: string) => {
    const b = records(ctx, n, what);
    temps.push(b);
    return b;
  };
  const run = ctx.batch();
  /** Key pass over ranges of `per` positions of the k, v views (binds kIdx, vIdx of each piece). */
  const keyPass = (ps: readonly Piece[], kIdx: number, vIdx: number, per: number, what: string) => {
    const { base, R } = numberRanges(ps, per);
    const PS = alloc(BH * R * MF * Dv, `${what} (S)`);
    const PZ = alloc(BH * R * MF, `${what} (z)`);
    const PM = alloc(BH * R * FBN, `${what} (M)`);
    run.dispatch(ctx.pipeline(fillWgsl()), [PM], [BH * R * FBN], [Math.ceil((BH * R * FBN) / 256), 1, 1]);
    const state = ctx.pipeline(stateWgsl(shape));
    ps.forEach((p, n) => {
      const k = p.binds[kIdx]!, v = p.binds[vIdx]!;
      run.dispatch(state, [w, k.buffer, v.buffer, PS, PZ, PM, mask],
        [p.p1 - p.p0, per, base[n]!, R, p.bh0, H, Lk, p.p0, k.base, v.base, Lk * d, Lk * Dv, masked],
        [Math.ceil((p.p1 - p.p0) / per), FBN, p.nbh]);
    });
    return { base, R, PS, PZ, PM };
  };
  const perRange = (L: number) => KEY_TILE * Math.ceil(L / RANGES_PER_HEAD / KEY_TILE);
  const groups = MF * (Dv + 1);

  if (!a.causal) {
    const keys = pieces([view(a.k, 'favor k', Lk, d), view(a.v, 'favor v', Lk, Dv)], BH, Lk);
    const { R, PS, PZ, PM } = keyPass(keys, 0, 1, perRange(Lk), 'the key-range records');
    const S = alloc(BH * MF * Dv, 'the state S');
    const Z = alloc(BH * MF, 'the state z');
    run.dispatch(ctx.pipeline(reduceWgsl(shape)), [PS, PZ, PM, S, Z], [R], [Math.ceil(groups / 256), 1, BH]);
    const out = ctx.pipeline(outWgsl(shape));
    for (const p of pieces([view(a.q, 'favor q', Lq, d), view(a.out, 'favor out', Lq, Dv)], BH, Lq)) {
      const [q, o] = p.binds as [Binding, Binding];
      run.dispatch(out, [w, q.buffer, S, Z, o.buffer], [p.p1 - p.p0, p.bh0, q.base, o.base, Lq * d, Lq * Dv],
        [Math.ceil((p.p1 - p.p0) / 16), 1, p.nbh]);
    }
  } else {
    const L = Lq;
    const ps = pieces([view(a.q, 'favor q', L, d), view(a.k, 'favor k', L, d), view(a.v, 'favor v', L, Dv), view(a.out, 'favor out', L, Dv)], BH, L);
    const GL = perRange(L);
    const { base, R: G, PS, PZ, PM } = keyPass(ps, 1, 2, GL, 'the group records');
    const PX = alloc(BH * G, 'the group maxima');
    run.dispatch(ctx.pipeline(scanWgsl(shape)), [PS, PZ, PM, PX], [G], [Math.ceil(groups / 256), 1, BH]);
    const chunks = ctx.pipeline(causalWgsl(shape));
    ps.forEach((p, n) => {
      const [q, k, v, o] = p.binds as [Binding, Binding, Binding, Binding];
      run.dispatch(chunks, [w, q.buffer, k.buffer, v.buffer, o.buffer, PS, PZ, PX, mask],
        [p.p1 - p.p0, GL, base[n]!, G, p.bh0, H, L, p.p0, q.base, k.base, v.base, o.base, L * d, L * d, L * Dv, L * Dv, masked],
        [Math.ceil((p.p1 - p.p0) / GL), 1, p.nbh]);
    });
  }
  run.submit();
  for (const b of temps) b.destroy(); // freed once the submitted work is done
}
