// Exact attention backward (docs/MATH.md (E2)), FlashAttention-2 style: scores are recomputed in
// 16 × 16 tiles in workgroup memory, never stored.
//   p_ij = exp(s_ij − m_i)/l_i with s_ij = q_i·k_j/√d over the keys row i sees, go_i = dOut_i·out_i,
//   ds_ij = p_ij (dOut_i·v_j − go_i),  dq_i += Σ_j ds_ij k_j/√d,  dk_j += Σ_i ds_ij q_i/√d,  dv_j += Σ_i p_ij dOut_i.
// Three passes: stats (m_i, l_i, go_i per query row, by the forward's online softmax), dq (a
// workgroup per 16 query rows streams the keys), dk and dv (a workgroup per 16 keys streams the
// queries). All of one head's rows must lie in one binding each.
import { f32, IS_NEG, NEG, paramsBlock } from './wgsl.js';

export interface ExactShape { d: number; Dv: number }

const PARAMS = ['Lq', 'Lk', 'bh0', 'H', 'qBase', 'kBase', 'vBase', 'oBase', 'hsQ', 'hsK', 'hsV', 'hsO', 'causal', 'masked'];

/** Declarations every pass shares, and the score of (query row i, key j) from the staged tiles. */
function common({ d, Dv }: ExactShape, outputs: readonly string[]): string {
  return `
const D = ${d}u;
const DV = ${Dv}u;
const NEG = ${NEG};
@group(0) @binding(0) var<storage, read> Q: array<f32>;
@group(0) @binding(1) var<storage, read> K: array<f32>;
@group(0) @binding(2) var<storage, read> V: array<f32>;
@group(0) @binding(3) var<storage, read> O: array<f32>;
@group(0) @binding(4) var<storage, read> DO: array<f32>;
@group(0) @binding(5) var<storage, read> Mask: array<f32>;
@group(0) @binding(6) var<storage, ${outputs.length === 1 ? 'read_write' : 'read'}> ST: array<f32>; // [BH][Lq][m, l, go]
${outputs.slice(1).map((o, n) => `@group(0) @binding(${7 + n}) var<storage, read_write> ${o}: array<f32>;`).join('\n')}
${paramsBlock(6 + outputs.length, PARAMS)}

var<workgroup> qt: array<f32, ${16 * d}>;  // q/√d
var<workgroup> kt: array<f32, ${16 * d}>;
var<workgroup> vt: array<f32, ${16 * Dv}>;
var<workgroup> dot: array<f32, ${16 * Dv}>; // dOut rows
var<workgroup> mrow: array<f32, 16>;
var<workgroup> lrow: array<f32, 16>;
var<workgroup> grow: array<f32, 16>;

fn loadQ(z: u32, i0: u32, t: u32) {
  for (var x = t; x < 16u * D; x += 256u) {
    let r = i0 + x / D;
    var q = 0.0;
    if (r < P.Lq) { q = Q[P.qBase + z * P.hsQ + r * D + x % D]; }
    qt[x] = q * ${f32(1 / Math.sqrt(d))};
  }
}
fn loadDOut(z: u32, i0: u32, t: u32) {
  for (var x = t; x < 16u * DV; x += 256u) {
    let r = i0 + x / DV;
    var g = 0.0;
    if (r < P.Lq) { g = DO[P.oBase + z * P.hsO + r * DV + x % DV]; }
    dot[x] = g;
  }
}
fn loadKV(z: u32, j0: u32, t: u32) {
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
}
/** s_ij for staged query row a (global i) and key row c (global j); NEG where row i does not see key j. */
fn score(b: u32, a: u32, i: u32, c: u32, j: u32) -> f32 {
  var ok = i < P.Lq && j < P.Lk && (P.causal == 0u || j <= i);
  if (ok && P.masked != 0u) { ok = Mask[b * P.Lk + j] != 0.0; }
  if (!ok) { return NEG; }
  var s = 0.0;
  for (var x = 0u; x < D; x++) { s = fma(qt[a * D + x], kt[c * D + x], s); }
  return s;
}
/** p_ij from a score and row i's statistics (0 for a hidden key or a row that sees none). */
fn prob(s: f32, a: u32) -> f32 {
  if (s <= ${IS_NEG} || lrow[a] == 0.0) { return 0.0; }
  return exp(s - mrow[a]) / lrow[a];
}`;
}

/** Pass 1: m_i, l_i (online over key tiles) and go_i = dOut_i·out_i, into ST [BH][Lq][3]. */
export function exactStatsWgsl(shape: ExactShape): string {
  return `${common(shape, ['ST'])}
var<workgroup> sc: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let b = (P.bh0 + z) / P.H;
  let i0 = (wg.x + P.x0) * 16u;
  loadQ(z, i0, t);
  if (t < 16u) { mrow[t] = NEG; lrow[t] = 0.0; }
  let kEnd = select(P.Lk, min(P.Lk, i0 + 16u), P.causal != 0u);
  for (var j0 = 0u; j0 < kEnd; j0 += 16u) {
    workgroupBarrier();
    loadKV(z, j0, t);
    workgroupBarrier();
    sc[t] = score(b, t / 16u, i0 + t / 16u, t % 16u, j0 + t % 16u);
    workgroupBarrier();
    if (t < 16u) {
      var mx = mrow[t];
      for (var j = 0u; j < 16u; j++) { mx = max(mx, sc[t * 16u + j]); }
      var sum = 0.0;
      for (var j = 0u; j < 16u; j++) {
        let s = sc[t * 16u + j];
        if (s > ${IS_NEG}) { sum += exp(s - mx); }
      }
      lrow[t] = lrow[t] * exp(mrow[t] - mx) + sum;
      mrow[t] = mx;
    }
  }
  workgroupBarrier();
  if (t < 16u && i0 + t < P.Lq) {
    var go = 0.0;
    let r = P.oBase + z * P.hsO + (i0 + t) * DV;
    for (var e = 0u; e < DV; e++) { go = fma(DO[r + e], O[r + e], go); }
    let s = ((P.bh0 + z) * P.Lq + i0 + t) * 3u;
    ST[s] = mrow[t];
    ST[s + 1u] = lrow[t];
    ST[s + 2u] = go;
  }
}
`;
}

/** Row i's m, l, go from ST into the workgroup (rows past Lq: l = 0, so p = 0). */
const LOAD_STATS = `
fn loadStats(z: u32, i0: u32, t: u32) {
  if (t < 16u) {
    var m = NEG; var l = 0.0; var g = 0.0;
    if (i0 + t < P.Lq) {
      let s = ((P.bh0 + z) * P.Lq + i0 + t) * 3u;
      m = ST[s]; l = ST[s + 1u]; g = ST[s + 2u];
    }
    mrow[t] = m; lrow[t] = l; grow[t] = g;
  }
}`;

/** Pass 2: dq_i += Σ_j ds_ij k_j/√d, a workgroup per 16 query rows. */
export function exactDqWgsl(shape: ExactShape): string {
  const nd = Math.ceil(shape.d / 16);
  return `${common(shape, ['ST', 'DQ'])}
${LOAD_STATS}
var<workgroup> ds: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let b = (P.bh0 + z) / P.H;
  let i0 = (wg.x + P.x0) * 16u;
  let a = t / 16u;
  let lane = t % 16u;
  loadQ(z, i0, t);
  loadDOut(z, i0, t);
  loadStats(z, i0, t);
  var acc: array<f32, ${nd}>;
  let kEnd = select(P.Lk, min(P.Lk, i0 + 16u), P.causal != 0u);
  for (var j0 = 0u; j0 < kEnd; j0 += 16u) {
    workgroupBarrier();
    loadKV(z, j0, t);
    workgroupBarrier();
    {
      let p = prob(score(b, a, i0 + a, lane, j0 + lane), a);
      var dp = 0.0;
      for (var e = 0u; e < DV; e++) { dp = fma(dot[a * DV + e], vt[lane * DV + e], dp); }
      ds[t] = p * (dp - grow[a]);
    }
    workgroupBarrier();
    for (var c = 0u; c < ${nd}u; c++) {
      let x = lane + 16u * c;
      if (x < D) {
        var s = acc[c];
        for (var j = 0u; j < 16u; j++) { s = fma(ds[a * 16u + j], kt[j * D + x], s); }
        acc[c] = s;
      }
    }
  }
  let i = i0 + a;
  if (i < P.Lq) {
    for (var c = 0u; c < ${nd}u; c++) {
      let x = lane + 16u * c;
      if (x < D) {
        let y = P.qBase + z * P.hsQ + i * D + x;
        DQ[y] = fma(acc[c], ${f32(1 / Math.sqrt(shape.d))}, DQ[y]);
      }
    }
  }
}
`;
}

/** Pass 3: dk_j += Σ_i ds_ij q_i/√d and dv_j += Σ_i p_ij dOut_i, a workgroup per 16 keys. */
export function exactDkDvWgsl(shape: ExactShape): string {
  const nd = Math.ceil(shape.d / 16), nv = Math.ceil(shape.Dv / 16);
  return `${common(shape, ['ST', 'DK', 'DVo'])}
${LOAD_STATS}
var<workgroup> pt: array<f32, 256>; // [key c][query a]
var<workgroup> ds: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let b = (P.bh0 + z) / P.H;
  let j0 = (wg.x + P.x0) * 16u;
  let c = t / 16u;   // key row of the tile this invocation accumulates
  let lane = t % 16u;
  loadKV(z, j0, t);
  var accK: array<f32, ${nd}>;
  var accV: array<f32, ${nv}>;
  let iStart = select(0u, j0, P.causal != 0u); // causal: only rows i ≥ j see key j
  for (var i0 = iStart; i0 < P.Lq; i0 += 16u) {
    workgroupBarrier();
    loadQ(z, i0, t);
    loadDOut(z, i0, t);
    loadStats(z, i0, t);
    workgroupBarrier();
    {
      // invocation t scores query row a = lane against key row c
      let p = prob(score(b, lane, i0 + lane, c, j0 + c), lane);
      var dp = 0.0;
      for (var e = 0u; e < DV; e++) { dp = fma(dot[lane * DV + e], vt[c * DV + e], dp); }
      pt[t] = p;
      ds[t] = p * (dp - grow[lane]);
    }
    workgroupBarrier();
    for (var q = 0u; q < ${nd}u; q++) {
      let x = lane + 16u * q;
      if (x < D) {
        var s = accK[q];
        for (var a = 0u; a < 16u; a++) { s = fma(ds[c * 16u + a], qt[a * D + x], s); }
        accK[q] = s;
      }
    }
    for (var q = 0u; q < ${nv}u; q++) {
      let e = lane + 16u * q;
      if (e < DV) {
        var s = accV[q];
        for (var a = 0u; a < 16u; a++) { s = fma(pt[c * 16u + a], dot[a * DV + e], s); }
        accV[q] = s;
      }
    }
  }
  let j = j0 + c;
  if (j < P.Lk) {
    for (var q = 0u; q < ${nd}u; q++) {
      let x = lane + 16u * q;
      if (x < D) { DK[P.kBase + z * P.hsK + j * D + x] += accK[q]; }
    }
    for (var q = 0u; q < ${nv}u; q++) {
      let e = lane + 16u * q;
      if (e < DV) { DVo[P.vBase + z * P.hsV + j * DV + e] += accV[q]; }
    }
  }
}
`;
}
