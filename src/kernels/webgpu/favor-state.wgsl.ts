// FAVOR+ key pass: S = Σ_j ω_j κ_j v_jᵀ and z = Σ_j ω_j κ_j over a range of keys (docs/MATH.md,
// "Bidirectional"). Workgroup (range r, feature block fb, head) streams its keys in tiles of 16
// through workgroup memory, computes the tile's features there, and keeps its FBP × Dv slice of S
// and FBP of z in registers. Its reference maximum M is online over the (key, feature) log-weights
// it has seen: when a tile raises M, the accumulators are multiplied by exp(M_old − M_new) first.
// Every (range, block) writes one record (S, z, M); the reduce (bidirectional) or scan (causal)
// brings the records to one common M per head, which is then max_j s(k_j) over the keys so far:
// the max over blocks of the per-block maxima of entries is the max over all entries.
// Masked keys get log-weight NEG: they raise no maximum and weigh 0.
import type { FeatureMap } from '../backend.js';
import { expMap, featureConstants, rowFunctions, rowLogWeight, slotsPerBlock, weighted } from './features.wgsl.js';
import { IS_NEG, paramsBlock, REDUCE } from './wgsl.js';

export interface FavorShape { featureMap: FeatureMap; d: number; Dv: number; m: number; fb: number }

export const KEY_TILE = 16;

export function stateWgsl({ featureMap, d, Dv, m, fb }: FavorShape): string {
  const fbp = slotsPerBlock(featureMap, fb);
  const npt = Math.ceil((fbp * Dv) / 256);
  const exp = expMap(featureMap);
  return `${featureConstants({ featureMap, d, m, fb }, 0)}
const DV = ${Dv}u;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read_write> PS: array<f32>; // [BH][R][MF][DV]
@group(0) @binding(4) var<storage, read_write> PZ: array<f32>; // [BH][R][MF]
@group(0) @binding(5) var<storage, read_write> PM: array<f32>; // [BH][R][FBN]
@group(0) @binding(6) var<storage, read> Mask: array<f32>; // [B][Lk] when P.masked
${paramsBlock(7, ['n', 'KR', 'rBase', 'R', 'bh0', 'H', 'Lk', 'p0', 'kBase', 'vBase', 'hsK', 'hsV', 'masked'])}

var<workgroup> kt: array<f32, ${16 * d}>;
var<workgroup> vt: array<f32, ${16 * Dv}>;
var<workgroup> ft: array<f32, ${16 * fbp}>;
var<workgroup> lam: array<f32, 16>;
var<workgroup> hk: array<f32, 16>;
${REDUCE}
${rowFunctions(featureMap, 'kt')}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let bh = P.bh0 + z;
  let b = bh / P.H;
  let fb = wg.y;
  let r = wg.x + P.x0;
  let start = r * P.KR;
  let end = min(start + P.KR, P.n);
  var acc: array<f32, ${npt}>;
  var accz = 0.0;
  var M = NEG;
  for (var j0 = start; j0 < end; j0 += 16u) {
    workgroupBarrier();
    for (var x = t; x < 16u * D; x += 256u) {
      let j = j0 + x / D;
      var k = 0.0;
      if (j < end) { k = K[P.kBase + z * P.hsK + j * D + x % D]; }
      kt[x] = k;
    }
    for (var x = t; x < 16u * DV; x += 256u) {
      let j = j0 + x / DV;
      var v = 0.0;
      if (j < end) { v = V[P.vBase + z * P.hsV + j * DV + x % DV]; }
      vt[x] = v;
    }
    workgroupBarrier();
    if (t < 16u) {
      let j = j0 + t;
      var keep = j < end;
      if (keep && P.masked != 0u) { keep = Mask[b * P.Lk + P.p0 + j] != 0.0; }
      let h = halfNorm_kt(t);
      hk[t] = h;
      lam[t] = select(NEG, ${rowLogWeight(featureMap, 'h')}, keep);
    }
    workgroupBarrier();
    var local = NEG;
    for (var x = t; x < 16u * FBP; x += 256u) {
      let j = x / FBP;
      var e = INVALID;
      if (lam[j] > ${IS_NEG}) { e = entry_kt(j, fb, x % FBP, hk[j]); }
      ft[x] = e;
      ${exp ? 'local = max(local, e);' : ''}
    }
    ${exp ? '' : 'if (t < 16u) { local = lam[t]; }'}
    let Mnew = max(M, reduce(t, local, true));
    let decay = exp(M - Mnew); // 0 for the first kept key; 1 while none is kept (acc is 0 then)
    M = Mnew;
    for (var x = t; x < 16u * FBP; x += 256u) {
      ft[x] = ${weighted(featureMap, 'ft[x]', 'lam[x / FBP]', 'Mnew')};
    }
    workgroupBarrier();
    for (var q = 0u; q < ${npt}u; q++) {
      let i = t + 256u * q;
      if (i < FBP * DV) {
        let f = i / DV;
        let e = i % DV;
        var s = acc[q] * decay;
        for (var j = 0u; j < 16u; j++) { s = fma(ft[j * FBP + f], vt[j * DV + e], s); }
        acc[q] = s;
      }
    }
    if (t < FBP) {
      var s = accz * decay;
      for (var j = 0u; j < 16u; j++) { s += ft[j * FBP + t]; }
      accz = s;
    }
  }
  let rec = bh * P.R + P.rBase + r;
  for (var q = 0u; q < ${npt}u; q++) {
    let i = t + 256u * q;
    if (i < FBP * DV) {
      let l = featureIndex(fb, i / DV);
      if (l < MF) { PS[(rec * MF + l) * DV + i % DV] = acc[q]; }
    }
  }
  if (t < FBP) {
    let l = featureIndex(fb, t);
    if (l < MF) { PZ[rec * MF + l] = accz; }
  }
  if (t == 0u) { PM[rec * FBN + fb] = M; }
}
`;
}

/** Fills PM with NEG: records no range writes (pieces of different lengths per head) stay empty. */
export function fillWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read_write> X: array<f32>;
${paramsBlock(1, ['n'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wg.x + P.x0) * 256u + t;
  if (i < P.n) { X[i] = -3.0e38; }
}
`;
}
