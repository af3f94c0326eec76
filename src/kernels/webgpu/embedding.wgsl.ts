// Embedding lookup (docs/MATH.md (T1), (T2)):
//   forward  out[i, c] = table[ids[i], c], one value per invocation;
//   backward dTable[ids[i], c] += dOut[i, c], one invocation per column c walking the tokens in order,
//            so repeated ids add in token order (deterministic, like the CPU kernels).
import { paramsBlock } from './wgsl.js';

export function embeddingForwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> TABLE: array<f32>;
@group(0) @binding(1) var<storage, read> IDS: array<i32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;
${paramsBlock(3, ['n', 'D'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let x = (wg.x + P.x0) * 256u + t;
  if (x >= P.n * P.D) { return; }
  let i = x / P.D;
  OUT[x] = TABLE[u32(IDS[i]) * P.D + x % P.D];
}
`;
}

export function embeddingBackwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> DOUT: array<f32>;
@group(0) @binding(1) var<storage, read> IDS: array<i32>;
@group(0) @binding(2) var<storage, read_write> DTABLE: array<f32>;
${paramsBlock(3, ['n', 'D'])}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let c = (wg.x + P.x0) * 256u + t;
  if (c >= P.D) { return; }
  for (var i = 0u; i < P.n; i++) {
    let y = u32(IDS[i]) * P.D + c;
    DTABLE[y] += DOUT[i * P.D + c];
  }
}
`;
}
