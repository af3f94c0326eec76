// GELU, tanh approximation (docs/MATH.md (G1), (G2)), elementwise, one value per invocation:
//   forward  y = ½x(1 + t), t = tanh(c(x + 0.044715x³)), c = √(2/π)
//   backward dx += dy·(½(1 + t) + ½x(1 − t²)·c(1 + 3·0.044715x²))
// tanh(z) = 1 − 2/(e^{2z} + 1): exact limits ±1 where e^{2z} overflows or underflows (WGSL's tanh
// carries no accuracy guarantee of its own).
import { f32, paramsBlock } from './wgsl.js';

const TANH = `
fn tanhOf(z: f32) -> f32 { return 1.0 - 2.0 / (exp(2.0 * z) + 1.0); }
fn inner(x: f32) -> f32 { return ${f32(Math.sqrt(2 / Math.PI))} * (x + 0.044715 * x * x * x); }`;

export function geluForwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read_write> Y: array<f32>;
${paramsBlock(2, ['n', 'xBase', 'yBase'])}
${TANH}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wg.x + P.x0) * 256u + t;
  if (i >= P.n) { return; }
  let x = X[P.xBase + i];
  Y[P.yBase + i] = 0.5 * x * (1.0 + tanhOf(inner(x)));
}
`;
}

export function geluBackwardWgsl(): string {
  return `
@group(0) @binding(0) var<storage, read> X: array<f32>;
@group(0) @binding(1) var<storage, read> DY: array<f32>;
@group(0) @binding(2) var<storage, read_write> DX: array<f32>;
${paramsBlock(3, ['n', 'xBase', 'dyBase', 'dxBase'])}
${TANH}
@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) t: u32) {
  let i = (wg.x + P.x0) * 256u + t;
  if (i >= P.n) { return; }
  let x = X[P.xBase + i];
  let th = tanhOf(inner(x));
  let g = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * ${f32(Math.sqrt(2 / Math.PI))} * (1.0 + 3.0 * 0.044715 * x * x);
  DX[P.dxBase + i] = fma(DY[P.dyBase + i], g, DX[P.dxBase + i]);
}
`;
}
