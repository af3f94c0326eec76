// LayerNorm over rows of D (docs/MATH.md (N1), (N2)), biased variance:
//   forward   μ = mean(x), r = 1/√(mean((x − μ)²) + eps), x̄ = (x − μ)·r, y = x̄⊙γ + β; saves μ, r
//   backward  with ĝ = dy⊙γ: dx += r·(ĝ − mean(ĝ) − x̄·mean(ĝ⊙x̄));  dγ += Σ_rows dy⊙x̄, dβ += Σ_rows dy
// Forward and dx: one workgroup per row, its sums by tree reduction in workgroup memory (the mean
// first, then the centred squares, as the reference does). dγ, dβ: one invocation per column walks
// the rows in order (deterministic; parallel over D only — enough for the model widths here).
import { paramsBlock, REDUCE } from './wgsl.js';
export function layerNormForwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> Bt: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;
@group(0) @binding(4) var<storage, read_write> MU: array<f32>;
@group(0) @binding(5) var<storage, read_write> RS: array<f32>;
${paramsBlock(6, ['D', 'xBase', 'yBase', 'sBase', 'epsBits'])}
${REDUCE}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = wg.x + P.x0;
  let x0 = P.xBase + row * P.D;
  var s = 0.0;
  for (var c = t; c < P.D; c += 256u) { s += X[x0 + c]; }
  let mu = reduce(t, s, false) / f32(P.D);
  var q = 0.0;
  for (var c = t; c < P.D; c += 256u) { let e = X[x0 + c] - mu; q = fma(e, e, q); }
  let rs = inverseSqrt(reduce(t, q, false) / f32(P.D) + bitcast<f32>(P.epsBits));
  for (var c = t; c < P.D; c += 256u) { Y[P.yBase + row * P.D + c] = fma((X[x0 + c] - mu) * rs, G[c], Bt[c]); }
  if (t == 0u) { MU[P.sBase + row] = mu; RS[P.sBase + row] = rs; }
}
`;
}

export function layerNormBackwardXWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read> MU: array<f32>;
@group(0) @binding(3) var<storage, read> RS: array<f32>;
@group(0) @binding(4) var<storage, read> DY: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;
${paramsBlock(6, ['D', 'xBase', 'dyBase', 'dxBase', 'sBase'])}
${REDUCE}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let row = wg.x + P.x0;
  let mu = MU[P.sBase + row];
  let rs = RS[P.sBase + row];
  var mg = 0.0;
  var mgx = 0.0;
  for (var c = t; c < P.D; c += 256u) {
    let gh = DY[P.dyBase + row * P.D + c] * G[c];
    mg += gh;
    mgx = fma(gh, (X[P.xBase + row * P.D + c] - mu) * rs, mgx);
  }
  mg = reduce(t, mg, false) / f32(P.D);
  mgx = reduce(t, mgx, false) / f32(P.D);
  for (var c = t; c < P.D; c += 256u) {
    let xb = (X[P.xBase + row * P.D + c] - mu) * rs;
    let i = P.dxBase + row * P.D + c;
    DX[i] += rs * (DY[P.dyBase + row * P.D + c] * G[c] - mg - xb * mgx);
  }
}
`;
}

/** dγ (binding 4) and dβ (binding 5) over the rows of one piece; `which` bit 0: dγ, bit 1: dβ. */
export function layerNormBackwardParamsWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> MU: array<f32>;
@group(0) @binding(2) var<storage, read> RS: array<f32>;
@group(0) @binding(3) var<storage, read> DY: array<f32>;
@group(0) @binding(4) var<storage, read_write> DG: array<f32>;
@group(0) @binding(5) var<storage, read_write> DB: array<f32>;
${paramsBlock(6, ['D', 'rows', 'xBase', 'dyBase', 'sBase', 'which'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let c = (wg.x + P.x0) * 256u + t;
  if (c >= P.D) { return; }
  var g = 0.0;
  var b = 0.0;
  for (var r = 0u; r < P.rows; r++) {
    let dy = DY[P.dyBase + r * P.D + c];
    g = fma(dy, (X[P.xBase + r * P.D + c] - MU[P.sBase + r]) * RS[P.sBase + r], g);
    b += dy;
  }
  if ((P.which & 1u) != 0u) { DG[c] += g; }
  if ((P.which & 2u) != 0u) { DB[c] += b; }
}
`;
}
