// Mean softmax cross-entropy (docs/MATH.md (X1), (X2)) over rows of V logits; ignored rows count nowhere.
//   rows:     lse_r = max(z) + ln Σ exp(z − max(z)),  term_r = lse_r − z_target   (a workgroup per row)
//   loss:     loss = Σ_r term_r / n, summed in one workgroup in a fixed order (deterministic)
//   backward: dz += (exp(z − lse) − onehot(target))·dLoss/n on counted rows
import { paramsBlock, REDUCE } from './wgsl.js';
export function crossEntropyRowsWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> Z: array<f32>;
@group(0) @binding(1) var<storage, read> T: array<i32>;
@group(0) @binding(2) var<storage, read_write> LSE: array<f32>;
@group(0) @binding(3) var<storage, read_write> TERM: array<f32>;
${paramsBlock(4, ['V', 'zBase', 'r0', 'ignore'])}
${REDUCE}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let local = wg.x + P.x0;
  let r = P.r0 + local;
  let tgt = T[r];
  if (tgt == bitcast<i32>(P.ignore)) { // uniform per workgroup: no barrier is skipped by part of it
    if (t == 0u) { TERM[r] = 0.0; }
    return;
  }
  let z0 = P.zBase + local * P.V;
  var mx = -3.0e38;
  for (var c = t; c < P.V; c += 256u) { mx = max(mx, Z[z0 + c]); }
  mx = reduce(t, mx, true);
  var s = 0.0;
  for (var c = t; c < P.V; c += 256u) { s += exp(Z[z0 + c] - mx); }
  let l = mx + log(reduce(t, s, false));
  if (t == 0u) {
    LSE[r] = l;
    TERM[r] = l - Z[z0 + u32(tgt)];
  }
}
`;
}

export function crossEntropyLossWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> TERM: array<f32>;
@group(0) @binding(1) var<storage, read_write> LOSS: array<f32>;
${paramsBlock(2, ['rows', 'invN'])}
${REDUCE}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) t: u32) {
  var s = 0.0;
  for (var r = t; r < P.rows; r += 256u) { s += TERM[r]; }
  let total = reduce(t, s, false);
  if (t == 0u) { LOSS[0] = total * bitcast<f32>(P.invN); }
}
`;
}

export function crossEntropyBackwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> Z: array<f32>;
@group(0) @binding(1) var<storage, read> T: array<i32>;
@group(0) @binding(2) var<storage, read> LSE: array<f32>;
@group(0) @binding(3) var<storage, read> DL: array<f32>;
@group(0) @binding(4) var<storage, read_write> DZ: array<f32>;
${paramsBlock(5, ['V', 'zBase', 'dzBase', 'r0', 'ignore', 'invN'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let local = wg.x + P.x0;
  let r = P.r0 + local;
  let tgt = T[r];
  if (tgt == bitcast<i32>(P.ignore)) { return; }
  let f = DL[0] * bitcast<f32>(P.invN);
  let l = LSE[r];
  for (var c = t; c < P.V; c += 256u) {
    let g = f * exp(Z[P.zBase + local * P.V + c] - l) - select(0.0, f, i32(c) == tgt);
    DZ[P.dzBase + local * P.V + c] += g;
  }
}
`;
}
