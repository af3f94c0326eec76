// Batched matmul with transposes, plain TS. Each output row is accumulated in a float64 scratch row.
import type { MatmulArgs } from '../../engine.js';

export function tsMatmul(p: MatmulArgs): void {
  const { a, b, c, M, N, K, transA, transB, batch, strideA, strideB, strideC, accumulate } = p;
  const acc = new Float64Array(N);
  for (let t = 0; t < batch; t++) {
    const oa = t * strideA, ob = t * strideB, oc = t * strideC;
    for (let i = 0; i < M; i++) {
      const cRow = oc + i * N;
      if (!transB) {
        // acc = Σ_k op(A)[i,k] · B[k,:]  (rows of B are contiguous)
        acc.fill(0);
        for (let k = 0; k < K; k++) {
          const x = transA ? a[oa + k * M + i]! : a[oa + i * K + k]!;
          if (x === 0) continue;
          const bRow = ob + k * N;
          for (let j = 0; j < N; j++) acc[j] = acc[j]! + x * b[bRow + j]!;
        }
        if (accumulate) for (let j = 0; j < N; j++) c[cRow + j] = c[cRow + j]! + acc[j]!;
        else for (let j = 0; j < N; j++) c[cRow + j] = acc[j]!;
      } else if (!transA) {
        // C[i,j] = A[i,:] · B[j,:]  (both rows contiguous)
        // four output columns at a time: independent accumulators, one load of A per k
        const aRow = oa + i * K;
        let j = 0;
        for (; j + 4 <= N; j += 4) {
          const b0 = ob + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
          let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
          for (let k = 0; k < K; k++) {
            const x = a[aRow + k]!;
            s0 += x * b[b0 + k]!; s1 += x * b[b1 + k]!; s2 += x * b[b2 + k]!; s3 += x * b[b3 + k]!;
          }
          if (accumulate) { s0 += c[cRow + j]!; s1 += c[cRow + j + 1]!; s2 += c[cRow + j + 2]!; s3 += c[cRow + j + 3]!; }
          c[cRow + j] = s0; c[cRow + j + 1] = s1; c[cRow + j + 2] = s2; c[cRow + j + 3] = s3;
        }
        for (; j < N; j++) {
          const bRow = ob + j * K;
          let s = 0;
          for (let k = 0; k < K; k++) s += a[aRow + k]! * b[bRow + k]!;
          c[cRow + j] = accumulate ? c[cRow + j]! + s : s;
        }
      } else {
        for (let j = 0; j < N; j++) {
          const bRow = ob + j * K;
          let s = 0;
          for (let k = 0; k < K; k++) s += a[oa + k * M + i]! * b[bRow + k]!;
          c[cRow + j] = accumulate ? c[cRow + j]! + s : s;
        }
      }
    }
  }
}
