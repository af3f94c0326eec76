// Attention with performer-pytorch 1.1.4's numerics (FastAttention, softmax_kernel,
// generalized_kernel, linear_attention, causal_linear_attention_noncuda), so that its models give
// their own logits here. With u = d^(-1/4)·x·Wᵀ (W [m, d] the checkpoint's projection buffer):
//   softmax features  φ(x)_j = m^(-1/2)·(exp(u_j − ‖x‖²·d^(-1/2)/2 − M) + 1e-4)
//                     M = max_j u_j of the row for queries; for keys, the max over all positions
//                     and features of the (batch, head), which is why this looks at the whole
//                     sequence and only serves full-sequence passes (not token-by-token decoding).
//   ReLU features     φ(x) = relu(u) + 0.001
//   bidirectional     out_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)ᵀ Σ_j φ(k_j)
//   causal            out_i = φ(q_i)ᵀ Σ_{j≤i} φ(k_j) v_jᵀ / φ(q_i)ᵀ (Σ_{j≤i} φ(k_j) + 1e-6)
//   key mask          only v is zeroed at padded positions (their keys still count in M and in
//                     the normaliser), as performer-pytorch's Attention does.
// The causal sums run in chunks of C positions: within a chunk the C×C lower triangle of
// φ(Q_c)φ(K_c)ᵀ, across chunks the prefix state S = Σ φ(k_j) v_jᵀ, z = Σ φ(k_j); every product is
// a matmul of the engine's grad kernels. There is no backward: training uses favor numerics.
import { formatShape } from '../tensor/shape.js';
import { hostKernels } from './engine-of.js';
import { recording } from './tape.js';
import type { Floats } from '../tensor/floats.js';
import { alloc, Var } from './var.js';

export interface PytorchAttentionOptions {
  projection: Floats; // W [m, d]
  featureMap: 'softmax' | 'relu';
  causal: boolean;
  keyMask?: ArrayLike<number>; // [B, L], 0 = pad
  chunk?: number; // default 64
}

const QUERY_EPS = 1e-4, RELU_EPS = 1e-3, CAUSAL_EPS = 1e-6;

/** φ of every row of x [rows, d] into out [rows, m]; `groupRows` rows share one M (keys). */
function features(x: Floats, W: Floats, rows: number, d: number, m: number, featureMap: 'softmax' | 'relu', groupRows: number): Floats {
  const kern = hostKernels(x);
  const u = alloc(x, rows * m);
  kern.matmul({ a: x, b: W, c: u, M: rows, N: m, K: d, transA: false, transB: true, batch: 1, strideA: 0, strideB: 0, strideC: 0, accumulate: false });
  const scale = d ** -0.25;
  for (let i = 0; i < u.length; i++) u[i] = u[i]! * scale;
  if (featureMap === 'relu') {
    for (let i = 0; i < u.length; i++) u[i] = Math.max(u[i]!, 0) + RELU_EPS;
    return u;
  }
  const ratio = m ** -0.5;
  for (let g0 = 0; g0 < rows; g0 += groupRows) {
    let M = -Infinity;
    for (let i = g0 * m; i < (g0 + groupRows) * m; i++) M = Math.max(M, u[i]!);
    for (let r = g0; r < g0 + groupRows; r++) {
      let sq = 0;
      for (let c = 0; c < d; c++) sq += x[r * d + c]! ** 2;
      const diag = (sq / 2) * scale * scale;
      let Mr = M;
      if (groupRows === 1) { Mr = -Infinity; for (let j = 0; j < m; j++) Mr = Math.max(Mr, u[r * m + j]!); }
      for (let j = 0; j < m; j++) u[r * m + j] = ratio * (Math.exp(u[r * m + j]! - diag - Mr) + QUERY_EPS);
    }
  }
  return u;
}

/** q, k [B, H, L, d], v [B, H, L, dv] → [B, H, L, dv]. Inference only. */
export function performerPytorchAttention(q: Var, k: Var, v: Var, opts: PytorchAttentionOptions): Var {
  if (recording(q, k, v)) throw new Error('performer-pytorch numerics have no backward (use them for forward/eval; training uses favor numerics)');
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) throw new Error(`attention needs rank-4 q, k, v; got ${formatShape(q.shape)}, ${formatShape(k.shape)}, ${formatShape(v.shape)}`);
  const [B, H, L, d] = q.shape as [number, number, number, number];
  const dv = v.shape[3]!;
  if (k.shape.join() !== q.shape.join() || v.shape[0] !== B || v.shape[1] !== H || v.shape[2] !== L) {
    throw new Error(`q ${formatShape(q.shape)}, k ${formatShape(k.shape)} and v ${formatShape(v.shape)} do not match`);
  }
  const W = opts.projection, m = W.length / d;
  if (!Number.isInteger(m) || m < 1) throw new Error(`projection of ${W.length} values is not [m, ${d}]`);
  if (opts.keyMask && opts.keyMask.length !== B * L) throw new Error(`key mask needs [B, L] = ${B * L} values, got ${opts.keyMask.length}`);
  const kern = hostKernels(q.data);
  const BH = B * H;
  const fq = features(q.data, W, BH * L, d, m, opts.featureMap, 1);
  const fk = features(k.data, W, BH * L, d, m, opts.featureMap, L);
  let vm: Floats = v.data;
  if (opts.keyMask) {
    vm = alloc(v.data, v.size);
    vm.set(v.data);
    for (let bh = 0; bh < BH; bh++) {
      for (let t = 0; t < L; t++) if (opts.keyMask[Math.floor(bh / H) * L + t] === 0) vm.fill(0, (bh * L + t) * dv, (bh * L + t + 1) * dv);
    }
  }
  const out = new Var([B, H, L, dv], alloc(q.data, BH * L * dv));
  const o = out.data;
  const C = opts.chunk ?? 64;
  const S = alloc(q.data, m * dv), z = new Float64Array(m), A = alloc(q.data, C * C);
  for (let bh = 0; bh < BH; bh++) {
    const Q = fq.subarray(bh * L * m, (bh + 1) * L * m), K = fk.subarray(bh * L * m, (bh + 1) * L * m);
    const V = vm.subarray(bh * L * dv, (bh + 1) * L * dv), O = o.subarray(bh * L * dv, (bh + 1) * L * dv);
    const mm = (a: Floats, b: Floats, c: Floats, M: number, N: number, K_: number, transA: boolean, transB: boolean, accumulate: boolean): void =>
      kern.matmul({ a, b, c, M, N, K: K_, transA, transB, batch: 1, strideA: 0, strideB: 0, strideC: 0, accumulate });
    if (!opts.causal) {
      mm(K, V, S, m, dv, L, true, false, false); // S = φ(K)ᵀ V
      z.fill(0);
      for (let t = 0; t < L; t++) for (let j = 0; j < m; j++) z[j] += K[t * m + j]!;
      mm(Q, S, O, L, dv, m, false, false, false);
      for (let t = 0; t < L; t++) {
        let den = 0;
        for (let j = 0; j < m; j++) den += Q[t * m + j]! * z[j]!;
        for (let e = 0; e < dv; e++) O[t * dv + e] = O[t * dv + e]! / den;
      }
      continue;
    }
    S.fill(0); z.fill(0);
    for (let s0 = 0; s0 < L; s0 += C) {
      const n = Math.min(C, L - s0);
      const Qc = Q.subarray(s0 * m, (s0 + n) * m), Kc = K.subarray(s0 * m, (s0 + n) * m);
      const Vc = V.subarray(s0 * dv, (s0 + n) * dv), Oc = O.subarray(s0 * dv, (s0 + n) * dv);
      const Ac = A.subarray(0, n * n);
      mm(Qc, Kc, Ac, n, n, m, false, true, false); // A = φ(Q_c) φ(K_c)ᵀ
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) Ac[i * n + j] = 0;
      mm(Ac, Vc, Oc, n, dv, n, false, false, false); // within the chunk
      mm(Qc, S, Oc, n, dv, m, false, false, true); // + the prefix before it
      for (let i = 0; i < n; i++) {
        let den = 0, qsum = 0;
        for (let j = 0; j <= i; j++) den += Ac[i * n + j]!;
        for (let j = 0; j < m; j++) { den += Qc[i * m + j]! * z[j]!; qsum += Qc[i * m + j]!; }
        den += CAUSAL_EPS * qsum;
        for (let e = 0; e < dv; e++) Oc[i * dv + e] = Oc[i * dv + e]! / den;
      }
      mm(Kc, Vc, S, m, dv, n, true, false, true); // S += φ(K_c)ᵀ V_c
      for (let t = 0; t < n; t++) for (let j = 0; j < m; j++) z[j] += Kc[t * m + j]!;
    }
  }
  return out;
}
