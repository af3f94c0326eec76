// Random feature maps, written in the stabilised form φ(x) = exp(s(x))·κ(x) of docs/MATH.md.
// One function serves queries and keys, so both always see the same W and the same map.
import type { FeatureMap } from '../backend.js';
import type { Floats } from '../../tensor/floats.js';


/**
 * Writes κ(x) for one row x = src[srcOff .. srcOff+d) into dst[dstOff .. dstOff+m') and returns the
 * log-weight s(x). `u` is scratch of length m; A is FAVOR++'s coefficient (softmax++ only, A < 1/8). Computed in float64, stored in dst's precision.
 */
export function featureRow(
  featureMap: FeatureMap, w: Floats, m: number, d: number,
  src: Floats, srcOff: number, dst: Floats, dstOff: number, u: Float64Array, A = 0,
): number {
  const scale = d ** -0.25; // x̂ = x·d^(-1/4), so that x̂_q·x̂_k = qᵀk/√d
  let sq = 0;
  for (let c = 0; c < d; c++) sq += (src[srcOff + c]! * scale) ** 2;
  const half = sq / 2; // ‖x̂‖²/2
  for (let l = 0; l < m; l++) {
    let acc = 0;
    for (let c = 0; c < d; c++) acc += w[l * d + c]! * src[srcOff + c]!;
    u[l] = acc * scale;
  }
  switch (featureMap) {
    case 'softmax': {
      // Lemma 1 (positive features): φ = exp(u − ‖x̂‖²/2)/√m; s = the largest exponent.
      let s = -Infinity;
      for (let l = 0; l < m; l++) s = Math.max(s, u[l]! - half);
      const norm = 1 / Math.sqrt(m);
      for (let l = 0; l < m; l++) dst[dstOff + l] = Math.exp(u[l]! - half - s) * norm;
      return s;
    }
    case 'softmax-hyp': {
      // Lemma 1 (hyperbolic): [exp(u − ‖x̂‖²/2), exp(−u − ‖x̂‖²/2)]/√(2m).
      let s = -Infinity;
      for (let l = 0; l < m; l++) s = Math.max(s, Math.abs(u[l]!) - half);
      const norm = 1 / Math.sqrt(2 * m);
      for (let l = 0; l < m; l++) {
        dst[dstOff + l] = Math.exp(u[l]! - half - s) * norm;
        dst[dstOff + m + l] = Math.exp(-u[l]! - half - s) * norm;
      }
      return s;
    }
    case 'trig': {
      // Trigonometric features (eq. 5 family): exp(‖x̂‖²/2)·[sin u, cos u]/√m.
      const norm = 1 / Math.sqrt(m);
      for (let l = 0; l < m; l++) {
        dst[dstOff + l] = Math.sin(u[l]!) * norm;
        dst[dstOff + m + l] = Math.cos(u[l]!) * norm;
      }
      return half;
    }
    case 'softmax++': {
      // FAVOR++ (Likhosherstov et al. 2022): φ = D·exp(A‖ω‖² + B·u − ‖x̂‖²/2)/√m, B = √(1−4A),
      // D = (1−4A)^{d/4}; A = 0 is 'softmax'. s = the largest exponent + ln D.
      const Bc = Math.sqrt(1 - 4 * A);
      let s = -Infinity;
      for (let l = 0; l < m; l++) {
        let wn = 0;
        for (let c = 0; c < d; c++) wn += w[l * d + c]! * w[l * d + c]!;
        u[l] = A * wn + Bc * u[l]! - half;
        s = Math.max(s, u[l]!);
      }
      const norm = 1 / Math.sqrt(m);
      for (let l = 0; l < m; l++) dst[dstOff + l] = Math.exp(u[l]! - s) * norm;
      return s + (d / 4) * Math.log(1 - 4 * A);
    }
    case 'relu': {
      // Generalised attention with f = ReLU, plus the 0.001 floor that keeps the normaliser positive.
      for (let l = 0; l < m; l++) dst[dstOff + l] = Math.max(u[l]!, 0) + 0.001;
      return 0;
    }
  }
}
