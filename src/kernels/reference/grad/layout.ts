// Data movement: swapping two axes, and the masked mean over the sequence axis.
//   transpose: dst[..., j, ..., i, ...] = src[..., i, ..., j, ...] (the backward is the same swap, added)
//   meanPool:  out[b, :] = Σ_l w[b, l]·x[b, l, :];  dx[b, l, :] += w[b, l]·dOut[b, :]
import type { MeanPoolArgs, MeanPoolBwdArgs, TransposeArgs } from '../../engine.js';

export function tsTranspose({ src, dst, shape, d1, d2, accumulate }: TransposeArgs): void {
  const n = src.length;
  if (d1 === d2) {
    if (accumulate) for (let i = 0; i < n; i++) dst[i] = dst[i]! + src[i]!;
    else dst.set(src);
    return;
  }
  const r = shape.length;
  const outShape = [...shape];
  outShape[d1] = shape[d2]!; outShape[d2] = shape[d1]!;
  const inStride = new Array<number>(r);
  let s = 1;
  for (let i = r - 1; i >= 0; i--) { inStride[i] = s; s *= shape[i]!; }
  // stride in the source of each output axis
  const st = [...inStride];
  st[d1] = inStride[d2]!; st[d2] = inStride[d1]!;
  const inner = outShape[r - 1]!, innerStride = st[r - 1]!;
  const idx = new Array<number>(r).fill(0);
  for (let o = 0; o < n; o += inner) {
    let off = 0;
    for (let i = 0; i < r - 1; i++) off += idx[i]! * st[i]!;
    if (accumulate) for (let c = 0; c < inner; c++) dst[o + c] = dst[o + c]! + src[off + c * innerStride]!;
    else for (let c = 0; c < inner; c++) dst[o + c] = src[off + c * innerStride]!;
    for (let i = r - 2; i >= 0; i--) { if (++idx[i]! < outShape[i]!) break; idx[i] = 0; }
  }
}

export function tsMeanPool({ x, weights: w, out, B, L, D }: MeanPoolArgs): void {
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
    const wl = w[b * L + l]!;
    if (wl === 0) continue;
    for (let c = 0; c < D; c++) out[b * D + c] = out[b * D + c]! + wl * x[(b * L + l) * D + c]!;
  }
}

export function tsMeanPoolBackward({ dOut: g, weights: w, dx, B, L, D }: MeanPoolBwdArgs): void {
  for (let b = 0; b < B; b++) for (let l = 0; l < L; l++) {
    const wl = w[b * L + l]!;
    if (wl === 0) continue;
    for (let c = 0; c < D; c++) dx[(b * L + l) * D + c] = dx[(b * L + l) * D + c]! + wl * g[b * D + c]!;
  }
}
