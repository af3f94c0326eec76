// Bidirectional FAVOR+ after the key pass (favor-state.wgsl.ts):
//  reduce: per head, M = max of the records' maxima, S = Σ_r exp(M_r − M)·S_r, z likewise;
//  out:    out_i = ρ_iᵀS / ρ_i·z, a workgroup per 16 query rows, streaming feature blocks.
// Queries' own weight exp(s(q_i)) cancels (docs/MATH.md), so ρ_i only needs a per-row reference:
// the running maximum a_i of the entries seen so far, with the row's accumulators rescaled by
// exp(a_old − a_new) when a block raises it (the online softmax, over features). At the end a_i is
// the row's s(q_i), so ρ_i = κ(q_i) exactly as defined.
import { expMap, featureConstants, rowFunctions, slotsPerBlock } from './features.wgsl.js';
import type { FavorShape } from './favor-state.wgsl.js';
import { IS_NEG, paramsBlock } from './wgsl.js';

export function reduceWgsl({ featureMap, d, Dv, m, fb }: FavorShape): string {
  return `${featureConstants({ featureMap, d, m, fb })}
const DV = ${Dv}u;
@group(0) @binding(0) var<storage, read> PS: array<f32>;
@group(0) @binding(1) var<storage, read> PZ: array<f32>;
@group(0) @binding(2) var<storage, read> PM: array<f32>;
@group(0) @binding(3) var<storage, read_write> S: array<f32>; // [BH][MF][DV]
@group(0) @binding(4) var<storage, read_write> Z: array<f32>; // [BH][MF]
${paramsBlock(5, ['R'])}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wg.x + P.x0) * 256u + t;
  if (i >= MF * (DV + 1u)) { return; }
  let l = i / (DV + 1u);
  let e = i % (DV + 1u);
  let fb = (l % MU) / FB;
  let bh = wg.z;
  var M = NEG;
  for (var r = 0u; r < P.R; r++) {
    for (var f = 0u; f < FBN; f++) { M = max(M, PM[(bh * P.R + r) * FBN + f]); }
  }
  var s = 0.0;
  for (var r = 0u; r < P.R; r++) {
    let rec = bh * P.R + r;
    let Mr = PM[rec * FBN + fb];
    if (Mr > ${IS_NEG}) {
      let x = select(PZ[rec * MF + l], PS[(rec * MF + l) * DV + min(e, DV - 1u)], e < DV);
      s = fma(exp(Mr - M), x, s);
    }
  }
  if (e < DV) { S[(bh * MF + l) * DV + e] = s; } else { Z[bh * MF + l] = s; }
}
`;
}

export function outWgsl({ featureMap, d, Dv, m, fb }: FavorShape): string {
  const fbp = slotsPerBlock(featureMap, fb);
  const nq = Math.ceil((Dv + 1) / 16);
  const exp = expMap(featureMap);
  return `${featureConstants({ featureMap, d, m, fb }, 0)}
const DV = ${Dv}u;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> S: array<f32>;
@group(0) @binding(3) var<storage, read> Z: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
${paramsBlock(5, ['rows', 'bh0', 'qBase', 'oBase', 'hsQ', 'hsO'])}

var<workgroup> qt: array<f32, ${16 * d}>;
var<workgroup> ft: array<f32, ${16 * fbp}>;
var<workgroup> hq: array<f32, 16>;
var<workgroup> arow: array<f32, 16>;
var<workgroup> srow: array<f32, 16>;
var<workgroup> den: array<f32, 16>;
${rowFunctions(featureMap, 'qt')}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let bh = P.bh0 + z;
  let i0 = (wg.x + P.x0) * 16u;
  for (var x = t; x < 16u * D; x += 256u) {
    let r = i0 + x / D;
    var q = 0.0;
    if (r < P.rows) { q = Q[P.qBase + z * P.hsQ + r * D + x % D]; }
    qt[x] = q;
  }
  workgroupBarrier();
  if (t < 16u) { hq[t] = halfNorm_qt(t); arow[t] = NEG; srow[t] = 1.0; }
  let i = t / 16u;
  let lane = t % 16u;
  var acc: array<f32, ${nq}>;
  for (var fb = 0u; fb < FBN; fb++) {
    workgroupBarrier();
    for (var x = t; x < 16u * FBP; x += 256u) { ft[x] = entry_qt(x / FBP, fb, x % FBP, hq[x / FBP]); }
    workgroupBarrier();
    ${exp ? `if (t < 16u) {
      var a = arow[t];
      for (var f = 0u; f < FBP; f++) { a = max(a, ft[t * FBP + f]); }
      srow[t] = exp(arow[t] - a);
      arow[t] = a;
    }
    workgroupBarrier();
    for (var x = t; x < 16u * FBP; x += 256u) {
      let e = ft[x];
      ft[x] = select(exp(e - arow[x / FBP]) * NORM, 0.0, e <= ${IS_NEG});
    }
    workgroupBarrier();` : ''}
    for (var c = 0u; c < ${nq}u; c++) {
      let e = lane + 16u * c;
      var s = acc[c] * srow[i];
      for (var f = 0u; f < FBP; f++) {
        let l = featureIndex(fb, f);
        if (l < MF) {
          if (e < DV) { s = fma(ft[i * FBP + f], S[(bh * MF + l) * DV + e], s); }
          else if (e == DV) { s = fma(ft[i * FBP + f], Z[bh * MF + l], s); }
        }
      }
      acc[c] = s;
    }
  }
  for (var c = 0u; c < ${nq}u; c++) {
    if (lane + 16u * c == DV) { den[i] = acc[c]; }
  }
  workgroupBarrier();
  let r = i0 + i;
  if (r < P.rows) {
    for (var c = 0u; c < ${nq}u; c++) {
      let e = lane + 16u * c;
      if (e < DV) { O[P.oBase + z * P.hsO + r * DV + e] = select(acc[c] / den[i], 0.0, den[i] == 0.0); }
    }
  }
}
`;
}
