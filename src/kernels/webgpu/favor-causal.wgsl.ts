// Causal FAVOR+ (docs/MATH.md, "Causal"), in three passes over groups of consecutive positions:
//  1. the key pass (favor-state.wgsl.ts) with one range per group gives each group's (S, z, M);
//  2. scan: per head, an exclusive prefix over the groups in order, so group g starts from the state
//     of every position before it, at the reference M_prev = max of s(k_j) over those positions;
//  3. chunks: a workgroup per group walks its positions in chunks of 16. For row i of a chunk,
//       M(i) = max(M_prev, max_{j ≤ i in chunk, kept} s(k_j))      (strictly causal),
//       A_ij = (ρ_i·κ_j)·exp(s_j − M(i)) for j ≤ i,   α_i = exp(M_prev − M(i)),
//       out_i = (Σ_j A_ij v_j + α_i ρ_iᵀS) / (Σ_j A_ij + α_i ρ_i·z),
//     then S ← exp(M_prev − M_new)·S + Σ_j exp(s_j − M_new) κ_j v_jᵀ (z likewise), M_prev ← M_new.
//     The carried S, z live in the group's record in global memory (m'·(Dv+1) values, not L·m').
// Nothing a row reads depends on a later position: its stabiliser M(i), its products and the state
// carried in are built from positions ≤ i only.
import { expMap, featureConstants, rowFunctions, rowLogWeight, slotsPerBlock, weighted } from './features.wgsl.js';
import type { FavorShape } from './favor-state.wgsl.js';
import { IS_NEG, paramsBlock } from './wgsl.js';

export function scanWgsl({ featureMap, d, Dv, m, fb }: FavorShape): string {
  return `${featureConstants({ featureMap, d, m, fb })}
const DV = ${Dv}u;
@group(0) @binding(0) var<storage, read_write> PS: array<f32>;
@group(0) @binding(1) var<storage, read_write> PZ: array<f32>;
@group(0) @binding(2) var<storage, read> PM: array<f32>;
@group(0) @binding(3) var<storage, read_write> PX: array<f32>; // [BH][G]: M_prev of each group
${paramsBlock(4, ['G'])}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wg.x + P.x0) * 256u + t;
  if (i >= MF * (DV + 1u)) { return; }
  let l = i / (DV + 1u);
  let e = i % (DV + 1u);
  let fb = (l % MU) / FB;
  let bh = wg.z;
  var run = 0.0;
  var M = NEG;
  for (var g = 0u; g < P.G; g++) {
    let rec = bh * P.G + g;
    var Mg = NEG;
    for (var f = 0u; f < FBN; f++) { Mg = max(Mg, PM[rec * FBN + f]); }
    let Mnew = max(M, Mg);
    let Mb = PM[rec * FBN + fb];
    var local = 0.0;
    if (Mb > ${IS_NEG}) {
      if (e < DV) { local = PS[(rec * MF + l) * DV + e]; } else { local = PZ[rec * MF + l]; }
      local *= exp(Mb - Mnew);
    }
    if (e < DV) { PS[(rec * MF + l) * DV + e] = run; } else { PZ[rec * MF + l] = run; }
    if (i == 0u) { PX[rec] = M; }
    run = fma(run, exp(M - Mnew), local);
    M = Mnew;
  }
}
`;
}

export function causalWgsl({ featureMap, d, Dv, m, fb }: FavorShape): string {
  const fbp = slotsPerBlock(featureMap, fb);
  const nq = Math.ceil((Dv + 1) / 16);
  const nps = Math.ceil((fbp * (Dv + 1)) / 256);
  const exp = expMap(featureMap);
  return `${featureConstants({ featureMap, d, m, fb }, 0)}
const DV = ${Dv}u;
@group(0) @binding(1) var<storage, read> Q: array<f32>;
@group(0) @binding(2) var<storage, read> K: array<f32>;
@group(0) @binding(3) var<storage, read> V: array<f32>;
@group(0) @binding(4) var<storage, read_write> O: array<f32>;
@group(0) @binding(5) var<storage, read_write> PS: array<f32>;
@group(0) @binding(6) var<storage, read_write> PZ: array<f32>;
@group(0) @binding(7) var<storage, read> PX: array<f32>;
@group(0) @binding(8) var<storage, read> Mask: array<f32>; // [B][L] when P.masked
${paramsBlock(9, ['n', 'GL', 'gBase', 'G', 'bh0', 'H', 'L', 'p0', 'qBase', 'kBase', 'vBase', 'oBase', 'hsQ', 'hsK', 'hsV', 'hsO', 'masked'])}

var<workgroup> qt: array<f32, ${16 * d}>;
var<workgroup> kt: array<f32, ${16 * d}>;
var<workgroup> vt: array<f32, ${16 * Dv}>;
var<workgroup> qf: array<f32, ${16 * fbp}>;
var<workgroup> kf: array<f32, ${16 * fbp}>;
var<workgroup> pm: array<f32, 256>;
var<workgroup> hq: array<f32, 16>;
var<workgroup> hk: array<f32, 16>;
var<workgroup> lam: array<f32, 16>;  // key log-weight: λ for trig/relu, a keep flag for the exp maps
var<workgroup> sk: array<f32, 16>;   // s(k_j), NEG for masked keys
var<workgroup> mi: array<f32, 16>;   // M(i)
var<workgroup> arow: array<f32, 16>;
var<workgroup> srow: array<f32, 16>;
var<workgroup> den: array<f32, 16>;
${rowFunctions(featureMap, 'qt')}
${rowFunctions(featureMap, 'kt')}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let bh = P.bh0 + z;
  let b = bh / P.H;
  let g = wg.x + P.x0;
  let rec = bh * P.G + P.gBase + g;
  let start = g * P.GL;
  let end = min(start + P.GL, P.n);
  let i = t / 16u;
  let lane = t % 16u;
  var Mprev = PX[rec];
  for (var c0 = start; c0 < end; c0 += 16u) {
    workgroupBarrier();
    for (var x = t; x < 16u * D; x += 256u) {
      let j = c0 + x / D;
      var q = 0.0;
      var k = 0.0;
      if (j < end) {
        q = Q[P.qBase + z * P.hsQ + j * D + x % D];
        k = K[P.kBase + z * P.hsK + j * D + x % D];
      }
      qt[x] = q;
      kt[x] = k;
    }
    for (var x = t; x < 16u * DV; x += 256u) {
      let j = c0 + x / DV;
      var v = 0.0;
      if (j < end) { v = V[P.vBase + z * P.hsV + j * DV + x % DV]; }
      vt[x] = v;
    }
    workgroupBarrier();
    if (t < 16u) {
      let j = c0 + t;
      var keep = j < end;
      if (keep && P.masked != 0u) { keep = Mask[b * P.L + P.p0 + j] != 0.0; }
      hq[t] = halfNorm_qt(t);
      let h = halfNorm_kt(t);
      hk[t] = h;
      lam[t] = select(NEG, ${rowLogWeight(featureMap, 'h')}, keep);
      sk[t] = lam[t];
      arow[t] = NEG;
      srow[t] = 1.0;
    }
    workgroupBarrier();
    ${exp ? `// s(k_j) = the largest entry over every block (a first pass: M(i) is needed before any product).
    for (var fb = 0u; fb < FBN; fb++) {
      for (var x = t; x < 16u * FBP; x += 256u) { kf[x] = entry_kt(x / FBP, fb, x % FBP, hk[x / FBP]); }
      workgroupBarrier();
      if (t < 16u && lam[t] > ${IS_NEG}) {
        var s = sk[t];
        if (fb == 0u) { s = NEG; }
        for (var f = 0u; f < FBP; f++) { s = max(s, kf[t * FBP + f]); }
        sk[t] = s;
      }
      workgroupBarrier();
    }` : ''}
    if (t == 0u) {
      var run = Mprev;
      for (var j = 0u; j < 16u; j++) { run = max(run, sk[j]); mi[j] = run; }
    }
    workgroupBarrier();
    let Mnew = mi[15];
    let decay = exp(Mprev - Mnew);
    var pij = 0.0;
    var acc: array<f32, ${nq}>;
    for (var c = 0u; c < ${nq}u; c++) { acc[c] = 0.0; } // zeroed per chunk explicitly: not every compiler re-zeroes a declaration in a loop
    for (var fb = 0u; fb < FBN; fb++) {
      for (var x = t; x < 16u * FBP; x += 256u) {
        let j = x / FBP;
        qf[x] = entry_qt(j, fb, x % FBP, hq[j]);
        // κ_j: the key's features against its own s(k_j) (so exp(entry − s_j) ≤ 1).
        var kv = 0.0;
        if (lam[j] > ${IS_NEG}) { kv = ${weighted(featureMap, 'entry_kt(j, fb, x % FBP, hk[j])', 'sk[j]', 'sk[j]')}; }
        kf[x] = kv;
      }
      workgroupBarrier();
      ${exp ? `if (t < 16u) {
        var a = arow[t];
        for (var f = 0u; f < FBP; f++) { a = max(a, qf[t * FBP + f]); }
        srow[t] = exp(arow[t] - a);
        arow[t] = a;
      }
      workgroupBarrier();
      for (var x = t; x < 16u * FBP; x += 256u) {
        let e = qf[x];
        qf[x] = select(exp(e - arow[x / FBP]) * NORM, 0.0, e <= ${IS_NEG});
      }
      workgroupBarrier();` : ''}
      {
        var s = pij * srow[i];
        for (var f = 0u; f < FBP; f++) { s = fma(qf[i * FBP + f], kf[lane * FBP + f], s); }
        pij = s;
      }
      for (var c = 0u; c < ${nq}u; c++) {
        let e = lane + 16u * c;
        var s = acc[c] * srow[i];
        for (var f = 0u; f < FBP; f++) {
          let l = featureIndex(fb, f);
          if (l < MF) {
            if (e < DV) { s = fma(qf[i * FBP + f], PS[(rec * MF + l) * DV + e], s); }
            else if (e == DV) { s = fma(qf[i * FBP + f], PZ[rec * MF + l], s); }
          }
        }
        acc[c] = s;
      }
      storageBarrier();
      workgroupBarrier();
      // This block of the carried state moves past the chunk (every row above has read it).
      for (var q = 0u; q < ${nps}u; q++) {
        let x = t + 256u * q;
        if (x < FBP * (DV + 1u)) {
          let f = x / (DV + 1u);
          let e = x % (DV + 1u);
          let l = featureIndex(fb, f);
          if (l < MF) {
            var s = 0.0;
            for (var j = 0u; j < 16u; j++) {
              let w = kf[j * FBP + f] * exp(sk[j] - Mnew);
              s = fma(w, select(1.0, vt[j * DV + min(e, DV - 1u)], e < DV), s);
            }
            if (e < DV) {
              let y = (rec * MF + l) * DV + e;
              PS[y] = fma(PS[y], decay, s);
            } else {
              PZ[rec * MF + l] = fma(PZ[rec * MF + l], decay, s);
            }
          }
        }
      }
      storageBarrier();
      workgroupBarrier();
    }
    pm[t] = select(0.0, pij * exp(sk[lane] - mi[i]), lane <= i && sk[lane] > ${IS_NEG});
    workgroupBarrier();
    let alpha = exp(Mprev - mi[i]);
    for (var c = 0u; c < ${nq}u; c++) {
      let e = lane + 16u * c;
      var s = acc[c] * alpha;
      for (var j = 0u; j <= i; j++) { s = fma(pm[i * 16u + j], select(1.0, vt[j * DV + min(e, DV - 1u)], e < DV), s); }
      acc[c] = s;
      if (e == DV) { den[i] = s; }
    }
    workgroupBarrier();
    let r = c0 + i;
    if (r < end) {
      for (var c = 0u; c < ${nq}u; c++) {
        let e = lane + 16u * c;
        if (e < DV) { O[P.oBase + z * P.hsO + r * DV + e] = select(acc[c] / den[i], 0.0, den[i] == 0.0); }
      }
    }
    Mprev = Mnew;
  }
}
`;
}
