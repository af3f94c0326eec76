// Tiled matmul, C[M,N] (+)= op(A) op(B), batched over workgroup z.
// Each 16×16 workgroup computes a 64×64 tile of C, 4×4 values per invocation, stepping through K in
// slices of 16: the A and B slices are staged in workgroup memory (2 × 4 KiB), so each loaded value
// is used 64 times from fast memory. Loads are coalesced: consecutive invocations read consecutive
// addresses along whichever axis is contiguous in memory (K for A, M for Aᵀ, N for B, K for Bᵀ).
import { paramsBlock } from './wgsl.js';

export interface MatmulVariant { transA: boolean; transB: boolean }

export const TILE = 64;

export function matmulWgsl({ transA, transB }: MatmulVariant): string {
  // A(m, k) and B(k, n) inside the current batch matrix; bases come from the piece (pieces.ts).
  const aIdx = transA ? 'P.baseA + z * P.hsA + k * P.M + m' : 'P.baseA + z * P.hsA + m * P.K + k';
  const bIdx = transB ? 'P.baseB + z * P.hsB + n * P.K + k' : 'P.baseB + z * P.hsB + k * P.N + n';
  // Which loads are coalesced: for a K-contiguous operand, 16 invocations walk K.
  const loadA = transA
    ? `let m = tm + (t % 64u); let k = k0 + t / 64u + 4u * i;`
    : `let m = tm + t / 16u + 16u * i; let k = k0 + (t % 16u);`;
  const storeA = transA ? 'As[(t / 64u + 4u * i) * 64u + (t % 64u)]' : 'As[(t % 16u) * 64u + t / 16u + 16u * i]';
  const loadB = transB
    ? `let n = tn + t / 16u + 16u * i; let k = k0 + (t % 16u);`
    : `let n = tn + (t % 64u); let k = k0 + t / 64u + 4u * i;`;
  const storeB = transB ? 'Bs[(t % 16u) * 64u + t / 16u + 16u * i]' : 'Bs[(t / 64u + 4u * i) * 64u + (t % 64u)]';
  return `
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
${paramsBlock(3, ['M', 'N', 'K', 'rows', 'baseA', 'baseB', 'baseC', 'hsA', 'hsB', 'hsC', 'accumulate'])}

var<workgroup> As: array<f32, 1024>; // [16 k][64 m]
var<workgroup> Bs: array<f32, 1024>; // [16 k][64 n]

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) t: u32) {
  let z = wg.z;
  let tm = (wg.x + P.x0) * 64u; // rows of this piece: [0, P.rows)
  let tn = wg.y * 64u;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < P.K; k0 += 16u) {
    for (var i = 0u; i < 4u; i++) {
      ${loadA}
      var a = 0.0;
      if (m < P.rows && k < P.K) { a = A[${aIdx}]; }
      ${storeA} = a;
    }
    for (var i = 0u; i < 4u; i++) {
      ${loadB}
      var b = 0.0;
      if (n < P.N && k < P.K) { b = B[${bIdx}]; }
      ${storeB} = b;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < 16u; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = As[kk * 64u + lid.y + 16u * i]; b[i] = Bs[kk * 64u + lid.x + 16u * i]; }
      for (var i = 0u; i < 4u; i++) {
        for (var j = 0u; j < 4u; j++) { acc[i * 4u + j] = fma(a[i], b[j], acc[i * 4u + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = tm + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let n = tn + lid.x + 16u * j;
      if (m < P.rows && n < P.N) {
        let c = P.baseC + z * P.hsC + m * P.N + n;
        C[c] = select(0.0, C[c], P.accumulate != 0u) + acc[i * 4u + j];
      }
    }
  }
}
`;
}
