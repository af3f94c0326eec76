// Rotary position embedding (RoFormer, Su et al. 2021, eq. 34): interleaved pairs (x_{2p}, x_{2p+1})
// of the row at position t = offset + (row mod L) rotate by t·θ_p, θ_p = base^(−2p/dh). The
// backward rotates the gradient by the opposite angle (sign −1).
import type { Floats, RopeArgs } from '../../engine.js';

/** Rotates src into dst (dst may be src). */
export function ropeApply(src: Floats, dst: Floats, L: number, dh: number, offset: number, base: number, sign: 1 | -1): void {
  const half = dh / 2;
  const rows = src.length / dh;
  const cos = new Float64Array(L * half), sin = new Float64Array(L * half);
  for (let l = 0; l < L; l++) for (let p = 0; p < half; p++) {
    const ang = (offset + l) * base ** (-(2 * p) / dh);
    cos[l * half + p] = Math.cos(ang);
    sin[l * half + p] = sign * Math.sin(ang);
  }
  for (let r = 0; r < rows; r++) {
    const l = r % L, off = r * dh;
    for (let p = 0; p < half; p++) {
      const c = cos[l * half + p]!, s = sin[l * half + p]!;
      const x0 = src[off + 2 * p]!, x1 = src[off + 2 * p + 1]!;
      dst[off + 2 * p] = x0 * c - x1 * s;
      dst[off + 2 * p + 1] = x0 * s + x1 * c;
    }
  }
}

export function tsRope({ src, dst, L, dh, offset, base, sign, accumulate }: RopeArgs): void {
  if (!accumulate) { ropeApply(src, dst, L, dh, offset, base, sign); return; }
  const tmp = src instanceof Float64Array ? new Float64Array(src.length) : new Float32Array(src.length);
  ropeApply(src, tmp, L, dh, offset, base, sign);
  for (let i = 0; i < tmp.length; i++) dst[i] = dst[i]! + tmp[i]!;
}
