// The AdamW update on the device, one value per invocation (src/optim/adamw.ts does the same on the
// CPU; the hyper-parameters arrive as float bits in the uniform block, 1 − β1 and 1 − β2 computed on the
// host in float64 as the CPU optimiser does: 1 − f32(0.999) is off by 1.3e-5 relative):
//   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  p ← p − lr·(m/c1)/(√(v/c2) + ε) − decay·p.
import { paramsBlock } from './wgsl.js';

export function adamwWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read_write> Pm: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> M1: array<f32>;
@group(0) @binding(3) var<storage, read_write> M2: array<f32>;
${paramsBlock(4, ['n', 'pBase', 'gBase', 'mBase', 'vBase', 'lr', 'b1', 'b2', 'eps', 'c1', 'c2', 'decay', 'omb1', 'omb2'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wg.x + P.x0) * 256u + t;
  if (i >= P.n) { return; }
  let b1 = bitcast<f32>(P.b1);
  let b2 = bitcast<f32>(P.b2);
  let g = G[P.gBase + i];
  let m = b1 * M1[P.mBase + i] + bitcast<f32>(P.omb1) * g;
  let v = b2 * M2[P.vBase + i] + bitcast<f32>(P.omb2) * g * g;
  M1[P.mBase + i] = m;
  M2[P.vBase + i] = v;
  let p = Pm[P.pBase + i];
  let step = m / bitcast<f32>(P.c1) / (sqrt(v / bitcast<f32>(P.c2)) + bitcast<f32>(P.eps));
  Pm[P.pBase + i] = p - bitcast<f32>(P.lr) * step - bitcast<f32>(P.decay) * p;
}
`;
}
