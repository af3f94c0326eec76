// Exact softmax attention, tiled with an online softmax (FlashAttention): a workgroup owns 16 query
// rows of one head and streams the keys in tiles of 16 through workgroup memory; per row it keeps
// the running maximum m, the running sum l and the output accumulator, rescaling both by exp(m_old −
// m_new) when a tile raises m. Scores never reach global memory: O(L) memory, O(L²·d) work.
import { f32, IS_NEG, NEG, paramsBlock } from './wgsl.js';

export interface ExactVariant { d: number; Dv: number }

export const ROWS = 16;

export function exactWgsl({ d, Dv }: ExactVariant): string {
  const nc = Math.ceil(Dv / 16);
  return `
const D = ${d}u;
const DV = ${Dv}u;
const NEG = ${NEG};
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@group(0) @binding(4) var<storage, read> Mask: array<f32>; // [B][Lk] when P.masked
${paramsBlock(5, ['Lk', 'rows', 'p0', 'bh0', 'H', 'qBase', 'kBase', 'vBase', 'oBase', 'hsQ', 'hsK', 'hsV', 'hsO', 'causal', 'masked'])}

var<workgroup> qt: array<f32, ${16 * d}>;
var<workgroup> kt: array<f32, ${16 * d}>;
var<workgroup> vt: array<f32, ${16 * Dv}>;
var<workgroup> sc: array<f32, 256>;
var<workgroup> mrow: array<f32, 16>;
var<workgroup> lrow: array<f32, 16>;
var<workgroup> srow: array<f32, 16>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let b = (P.bh0 + z) / P.H;
  let i0 = (wg.x + P.x0) * 16u;
  for (var x = t; x < 16u * D; x += 256u) {
    let r = i0 + x / D;
    var q = 0.0;
    if (r < P.rows) { q = Q[P.qBase + z * P.hsQ + r * D + x % D]; }
    qt[x] = q * ${f32(1 / Math.sqrt(d))};
  }
  if (t < 16u) { mrow[t] = NEG; lrow[t] = 0.0; }
  let i = t / 16u;
  let lane = t % 16u;
  var acc: array<f32, ${nc}>;
  let kEnd = select(P.Lk, min(P.Lk, P.p0 + i0 + 16u), P.causal != 0u);
  for (var j0 = 0u; j0 < kEnd; j0 += 16u) {
    workgroupBarrier();
    for (var x = t; x < 16u * D; x += 256u) {
      let j = j0 + x / D;
      var k = 0.0;
      if (j < P.Lk) { k = K[P.kBase + z * P.hsK + j * D + x % D]; }
      kt[x] = k;
    }
    for (var x = t; x < 16u * DV; x += 256u) {
      let j = j0 + x / DV;
      var v = 0.0;
      if (j < P.Lk) { v = V[P.vBase + z * P.hsV + j * DV + x % DV]; }
      vt[x] = v;
    }
    workgroupBarrier();
    {
      let j = j0 + lane;
      var ok = j < P.Lk && (P.causal == 0u || j <= P.p0 + i0 + i);
      if (ok && P.masked != 0u) { ok = Mask[b * P.Lk + j] != 0.0; }
      var s = NEG;
      if (ok) {
        s = 0.0;
        for (var c = 0u; c < D; c++) { s = fma(qt[i * D + c], kt[lane * D + c], s); }
      }
      sc[t] = s;
    }
    workgroupBarrier();
    if (t < 16u) {
      var mx = mrow[t];
      for (var j = 0u; j < 16u; j++) { mx = max(mx, sc[t * 16u + j]); }
      var sum = 0.0;
      for (var j = 0u; j < 16u; j++) {
        let s = sc[t * 16u + j];
        var p = 0.0;
        if (s > ${IS_NEG}) { p = exp(s - mx); }
        sc[t * 16u + j] = p;
        sum += p;
      }
      let scale = exp(mrow[t] - mx); // 0 on the first key; 1 while no key counted (acc is 0 then)
      lrow[t] = lrow[t] * scale + sum;
      mrow[t] = mx;
      srow[t] = scale;
    }
    workgroupBarrier();
    for (var c = 0u; c < ${nc}u; c++) {
      let e = lane + 16u * c;
      if (e < DV) {
        var s = acc[c] * srow[i];
        for (var j = 0u; j < 16u; j++) { s = fma(sc[i * 16u + j], vt[j * DV + e], s); }
        acc[c] = s;
      }
    }
  }
  workgroupBarrier();
  let r = i0 + i;
  let l = lrow[i];
  if (r < P.rows) {
    for (var c = 0u; c < ${nc}u; c++) {
      let e = lane + 16u * c;
      if (e < DV) { O[P.oBase + z * P.hsO + r * DV + e] = select(acc[c] / l, 0.0, l == 0.0); }
    }
  }
}
`;
}
