// FAVOR++ (softmax++, docs/MATH.md) on the wasm softmax kernels, one (batch, head) at a time, by one
// extra coordinate. With its A, B = √(1−4A) and x̂ = x·d^(-1/4):
//   x̂' = [x̂, A],  W' = [B·W, ‖ω‖²]   (width d + 1)
// gives u'_l = A‖ω_l‖² + B·ω_lᵀx̂ and ‖x̂'‖² = ‖x̂‖² + A²: the softmax map of (x̂', W') is FAVOR++'s
// times e^{−A²/2} for every row (D and that factor cancel in attention). Nothing depends on other
// rows, so causality holds exactly. Backward: the kernel's dx̂'[0:d] = B·Wᵀ(df⊙f) − x̂(df·f) is
// FAVOR++'s dx̂ (A held constant); the extra coordinate's gradient is dropped.
import type { FavorArgs } from '../backend.js';
import type { FavorBackwardArgs } from './favor-backward.js';

interface Head {
  args: FavorArgs; // softmax on width d + 1, B = H = 1
  dq: Float32Array; dk: Float32Array; dv: Float32Array; dOut: Float32Array;
}

/** Row copies of head bh: x [B·H·L, w] → [L, w] (widen: into width w + 1 with `extra` in the last column, scaled). */
function rows(x: Float32Array, bh: number, L: number, w: number, scale = 1, extra?: number): Float32Array {
  const wo = extra === undefined ? w : w + 1;
  const out = new Float32Array(L * wo);
  for (let i = 0; i < L; i++) {
    for (let c = 0; c < w; c++) out[i * wo + c] = x[(bh * L + i) * w + c]! * scale;
    if (extra !== undefined) out[i * wo + w] = extra;
  }
  return out;
}

function head(a: FavorArgs, bh: number, grads?: { dOut: Float32Array }): Head {
  const { Lq, Lk, d, Dv, m } = a;
  const dp = d + 1, sigma = dp ** 0.25 * d ** -0.25; // x' = x·(d+1)^(1/4)·d^(-1/4) so that x̂'[0:d] = x̂
  const A = a.oprfA ? a.oprfA[bh]! : 0, Bc = Math.sqrt(1 - 4 * A);
  const w = new Float32Array(m * dp);
  for (let l = 0; l < m; l++) {
    let wn = 0;
    for (let c = 0; c < d; c++) { w[l * dp + c] = Bc * a.projection[l * d + c]!; wn += a.projection[l * d + c]! ** 2; }
    w[l * dp + d] = wn;
  }
  const b = Math.floor(bh / a.H);
  const args: FavorArgs = {
    ...a, B: 1, H: 1, d: dp, featureMap: 'softmax', oprfA: undefined, projection: w,
    q: rows(a.q, bh, Lq, d, sigma, A * dp ** 0.25), k: rows(a.k, bh, Lk, d, sigma, A * dp ** 0.25),
    v: rows(a.v, bh, Lk, Dv), out: new Float32Array(Lq * Dv),
    keyMask: a.keyMask ? a.keyMask.slice(b * Lk, (b + 1) * Lk) : undefined,
  };
  return {
    args, dq: new Float32Array(Lq * dp), dk: new Float32Array(Lk * dp), dv: new Float32Array(Lk * Dv),
    dOut: grads ? rows(grads.dOut, bh, Lq, Dv) : new Float32Array(0),
  };
}

/** softmax++ forward: one softmax call per (batch, head). */
export function favorPlusPlus(a: FavorArgs, favor: (a: FavorArgs) => void): void {
  for (let bh = 0; bh < a.B * a.H; bh++) {
    const h = head(a, bh);
    favor(h.args);
    a.out.set(h.args.out, bh * a.Lq * a.Dv);
  }
}

/** softmax++ backward: ADDS dL/dq, dL/dk, dL/dv (given out and dOut) through the softmax backward per (batch, head). */
export function favorPlusPlusBackward(a: FavorBackwardArgs, backward: (a: FavorBackwardArgs) => void): void {
  const { Lq, Lk, d, Dv } = a, dp = d + 1, sigma = dp ** 0.25 * d ** -0.25;
  for (let bh = 0; bh < a.B * a.H; bh++) {
    const h = head(a, bh, a);
    h.args.out.set(a.out.subarray(bh * Lq * Dv, (bh + 1) * Lq * Dv));
    backward({ ...h.args, dOut: h.dOut, dq: h.dq, dk: h.dk, dv: h.dv });
    for (const [src, dst, L] of [[h.dq, a.dq, Lq], [h.dk, a.dk, Lk]] as const) {
      for (let i = 0; i < L; i++) for (let c = 0; c < d; c++) dst[(bh * L + i) * d + c] = dst[(bh * L + i) * d + c]! + src[i * dp + c]! * sigma;
    }
    for (let i = 0; i < Lk * Dv; i++) a.dv[bh * Lk * Dv + i] = a.dv[bh * Lk * Dv + i]! + h.dv[i]!;
  }
}
