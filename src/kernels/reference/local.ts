// Block-local exact softmax attention, as lucidrains' local-attention 1.4.4 computes it for
// performer-pytorch's local heads (docs/MATH.md, "Local attention heads"):
//   (L1) rotary, rotate-half form: x̃ = x⊙cos(t·f) + rot(x)⊙sin(t·f), rot([x₁, x₂]) = [−x₂, x₁],
//        f_c = 10000^(−2c/d) (in float32, as torch) for each half c < d/2, t the absolute position
//   (L2) blocks of w; query i (block b = ⌊i/w⌋) sees keys j in blocks b−1 and b (causal: j ≤ i), and
//        b+1 when bidirectional; p_ij = softmax_j(q̃_i·k̃_j/√d), out_i = Σ_j p_ij v_j
//   (L3) bidirectional without a key mask: local-attention pads the sequence with zero keys and
//        values up to a multiple of w, and those pads stay visible: every row whose window reaches
//        the last block adds P = ⌈L/w⌉·w − L terms e^{0} to its normaliser (and nothing to its sum).
// Backward (E2 of docs/MATH.md on the rotated q̃, k̃, then through the rotation's transpose):
//   dv_j += p_ij dout_i, ds_ij = p_ij (dout_i·v_j − go_i)/√d, dq̃_i += Σ_j ds_ij k̃_j, dk̃_j += ds_ij q̃_i,
//   (L4) dx₁ = dx̃₁ cos + dx̃₂ sin, dx₂ = dx̃₂ cos − dx̃₁ sin.
//   (L5) performer-pytorch numerics only (`paddedRows`): local-attention masks a key-masked query's
//        whole row, so its softmax is uniform over all (2 or 3)·w slots of its window, slots outside
//        the padded sequence holding value −1 and the zero pads 0 (look_around's padding values).
//        Those rows are padding; this reproduces their logits too.
// Cost O(L·w·d) per head; nothing of size L×L. A key-masked position is never a key; a row that
// sees no key outputs 0.
import type { HeadCopyArgs, LocalBwdArgs, LocalFwdArgs } from '../engine.js';
import type { Floats } from '../../tensor/floats.js';

/** (L5): the window slots of row i, each a position (< 0 or ≥ ⌈L/w⌉·w: value −1; in [L, ⌈L/w⌉·w): 0). */
function paddedRowSlots(i: number, L: number, w: number, causal: boolean): { first: number; count: number; end: number } {
  const b = Math.floor(i / w);
  return { first: (b - 1) * w, count: (causal ? 2 : 3) * w, end: Math.ceil(L / w) * w };
}

function isPaddedRow(a: LocalFwdArgs, b: number, i: number): boolean {
  return a.paddedRows === true && a.keyMask !== undefined && a.keyMask[b * a.L + i] === 0;
}


/** The keys row i sees: [lo, hi] of (L2), and the padding count P of (L3) (0 unless it applies). */
export function localWindow(i: number, L: number, w: number, causal: boolean, masked: boolean): { lo: number; hi: number; pads: number } {
  const b = Math.floor(i / w), blocks = Math.ceil(L / w);
  const lo = Math.max(0, (b - 1) * w);
  if (causal) return { lo, hi: i, pads: 0 };
  const hi = Math.min(L - 1, (b + 2) * w - 1);
  return { lo, hi, pads: !masked && b >= blocks - 2 ? blocks * w - L : 0 };
}

/**
 * f_c = 1/10000^(2c/d), c < d/2: local-attention's SinusoidalEmbeddings.inv_freq, computed as torch
 * does in float32 (each step rounded), so the buffer an import checks and an export writes is bit-equal.
 */
export function localFrequencies(d: number): Float64Array {
  const r = Math.fround;
  const f = new Float64Array(d / 2);
  for (let c = 0; c < d / 2; c++) f[c] = r(1 / r(10000 ** r(r(2 * c) / d)));
  return f;
}

/** (L1) on one row of width d at position t, src → dst (float64). */
export function rotateHalf(src: Floats, sOff: number, dst: Float64Array, dOff: number, d: number, t: number, f: Float64Array): void {
  const h = d / 2;
  for (let c = 0; c < h; c++) {
    const cs = Math.cos(t * f[c]!), sn = Math.sin(t * f[c]!);
    const x1 = src[sOff + c]!, x2 = src[sOff + h + c]!;
    dst[dOff + c] = x1 * cs - x2 * sn;
    dst[dOff + h + c] = x2 * cs + x1 * sn;
  }
}

/** (L4): adds the transpose of (L1) applied to g (a gradient w.r.t. the rotated row) into dst. */
function addUnrotated(g: Float64Array, gOff: number, dst: Floats, dOff: number, d: number, t: number, f: Float64Array): void {
  const h = d / 2;
  for (let c = 0; c < h; c++) {
    const cs = Math.cos(t * f[c]!), sn = Math.sin(t * f[c]!);
    const g1 = g[gOff + c]!, g2 = g[gOff + h + c]!;
    dst[dOff + c] = dst[dOff + c]! + g1 * cs + g2 * sn;
    dst[dOff + h + c] = dst[dOff + h + c]! + g2 * cs - g1 * sn;
  }
}

/** One (batch, head): rotated q̃, k̃ [L, d] in float64. */
function rotated(a: LocalFwdArgs, off: number, x: Floats, f: Float64Array): Float64Array {
  const { L, d } = a, t0 = a.offset ?? 0;
  const r = new Float64Array(L * d);
  for (let i = 0; i < L; i++) rotateHalf(x, off + i * d, r, i * d, d, t0 + i, f);
  return r;
}

/**
 * Row i's weights p_ij over j = lo .. hi into p[0 ..], normalised; returns its window, or null when
 * the row sees no key.
 */
function rowWeights(a: LocalFwdArgs, b: number, qr: Float64Array, kr: Float64Array, i: number, p: Float64Array): { lo: number; hi: number } | null {
  const { L, d } = a;
  const scale = 1 / Math.sqrt(d);
  const { lo, hi, pads } = localWindow(i, L, a.window, a.causal, a.keyMask !== undefined);
  let max = pads > 0 ? 0 : -Infinity;
  for (let j = lo; j <= hi; j++) {
    if (a.keyMask && a.keyMask[b * L + j] === 0) { p[j - lo] = -Infinity; continue; }
    let s = 0;
    for (let c = 0; c < d; c++) s += qr[i * d + c]! * kr[j * d + c]!;
    p[j - lo] = s * scale;
    if (p[j - lo]! > max) max = p[j - lo]!;
  }
  if (max === -Infinity) return null;
  let den = pads * Math.exp(-max);
  for (let j = 0; j <= hi - lo; j++) { p[j] = Math.exp(p[j]! - max); den += p[j]!; }
  for (let j = 0; j <= hi - lo; j++) p[j] = p[j]! / den;
  return { lo, hi };
}

function forEachHead(a: LocalFwdArgs, fn: (b: number, qOff: number, vOff: number, qr: Float64Array, kr: Float64Array) => void): void {
  const { B, H, L, d, Dv } = a;
  const f = localFrequencies(d);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const bh = b * H + h;
    fn(b, bh * L * d, bh * L * Dv, rotated(a, bh * L * d, a.q, f), rotated(a, bh * L * d, a.k, f));
  }
}

/** (L1)–(L3): writes out. */
export function localForward(a: LocalFwdArgs): void {
  const { L, Dv } = a;
  const p = new Float64Array(3 * a.window);
  forEachHead(a, (b, _qOff, vOff, qr, kr) => {
    for (let i = 0; i < L; i++) {
      if (isPaddedRow(a, b, i)) {
        const { first, count, end } = paddedRowSlots(i, L, a.window, a.causal);
        for (let e = 0; e < Dv; e++) {
          let acc = 0;
          for (let t = first; t < first + count; t++) acc += t < 0 || t >= end ? -1 : t < L ? a.v[vOff + t * Dv + e]! : 0;
          a.out[vOff + i * Dv + e] = acc / count;
        }
        continue;
      }
      const win = rowWeights(a, b, qr, kr, i, p);
      for (let e = 0; e < Dv; e++) {
        let acc = 0;
        if (win) for (let j = win.lo; j <= win.hi; j++) acc += p[j - win.lo]! * a.v[vOff + j * Dv + e]!;
        a.out[vOff + i * Dv + e] = acc;
      }
    }
  });
}

/** The backward of localForward: ADDS dL/dq, dL/dk, dL/dv given dOut (out is its forward's output). */
export function localBackward(a: LocalBwdArgs): void {
  const { L, d, Dv } = a, t0 = a.offset ?? 0;
  const scale = 1 / Math.sqrt(d);
  const f = localFrequencies(d);
  const p = new Float64Array(3 * a.window);
  forEachHead(a, (b, qOff, vOff, qr, kr) => {
    const dqr = new Float64Array(L * d), dkr = new Float64Array(L * d);
    for (let i = 0; i < L; i++) {
      if (isPaddedRow(a, b, i)) {
        const { first, count } = paddedRowSlots(i, L, a.window, a.causal);
        for (let t = Math.max(0, first); t < Math.min(L, first + count); t++) {
          for (let e = 0; e < Dv; e++) a.dv[vOff + t * Dv + e] = a.dv[vOff + t * Dv + e]! + a.dOut[vOff + i * Dv + e]! / count;
        }
        continue;
      }
      const win = rowWeights(a, b, qr, kr, i, p);
      if (!win) continue;
      const gOff = vOff + i * Dv;
      let go = 0;
      for (let e = 0; e < Dv; e++) go += a.dOut[gOff + e]! * a.out[gOff + e]!;
      for (let j = win.lo; j <= win.hi; j++) {
        const pj = p[j - win.lo]!;
        if (pj === 0) continue;
        let gv = 0;
        for (let e = 0; e < Dv; e++) {
          gv += a.dOut[gOff + e]! * a.v[vOff + j * Dv + e]!;
          a.dv[vOff + j * Dv + e] = a.dv[vOff + j * Dv + e]! + pj * a.dOut[gOff + e]!;
        }
        const ds = pj * (gv - go) * scale;
        for (let c = 0; c < d; c++) {
          dqr[i * d + c] = dqr[i * d + c]! + ds * kr[j * d + c]!;
          dkr[j * d + c] = dkr[j * d + c]! + ds * qr[i * d + c]!;
        }
      }
    }
    for (let i = 0; i < L; i++) {
      addUnrotated(dqr, i * d, a.dq, qOff + i * d, d, t0 + i, f);
      addUnrotated(dkr, i * d, a.dk, qOff + i * d, d, t0 + i, f);
    }
  });
}

/** Head groups: per batch b, dst[b·dstStride + dstOff + i] (+)= src[b·srcStride + srcOff + i]. */
export function headCopy(a: HeadCopyArgs): void {
  const { src, dst, B, n } = a;
  for (let b = 0; b < B; b++) {
    const s = b * a.srcStride + a.srcOff, d = b * a.dstStride + a.dstOff;
    if (a.accumulate) for (let i = 0; i < n; i++) dst[d + i] = dst[d + i]! + src[s + i]!;
    else for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
  }
}
